from django.urls import include, path

app_name = "members"
urlpatterns = [
    path("", include("doanso.members.urls_registry")),
    path("", include("doanso.members.urls_import")),
    path("", include("doanso.members.urls_lifecycle")),
    path("", include("doanso.members.urls_selfservice")),
]
