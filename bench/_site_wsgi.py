"""The project's WSGI application plus two benchmark-only views, served by gunicorn in bench/site_pages.py: a
trivial view (the baseline) and the site page rendered with its cache entry removed first (the uncached page)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "doanso.settings")

import django

django.setup()

from django.http import HttpResponse  # noqa: E402
from django.urls import clear_url_caches, path  # noqa: E402

import doanso.urls  # noqa: E402
from doanso.sites import cache as page_cache  # noqa: E402
from doanso.sites import views_public  # noqa: E402


def trivial(request):
    return HttpResponse("ok")


def uncached(request, code):
    for language in ("vi", "en"):
        page_cache.cache.delete(page_cache.page_key(code, language))
    return views_public.public_site(request, code)


doanso.urls.urlpatterns += [
    path("bench/trivial/", trivial, name="bench_trivial"),
    path("bench/uncached/<str:code>/", uncached, name="bench_uncached"),
]
clear_url_caches()

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
