from django.http import JsonResponse
from django.urls import include, path


def trivial(request):
    """The baseline: a view that does nothing, behind the same middleware, server and settings."""
    return JsonResponse({"ok": True})


urlpatterns = [path("bench/trivial", trivial), path("", include("doanso.urls"))]
