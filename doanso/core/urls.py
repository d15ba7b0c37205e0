from django.urls import path

from . import views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("tong-quan/", views.dashboard, name="dashboard"),
    path("healthz", views.healthz, name="healthz"),
    path("nhat-ky/", views.audit_list, name="audit_list"),
    path("nhat-ky/truy-cap/", views.access_list, name="access_list"),
    path("tac-vu/", views.task_list, name="task_list"),
    path("tac-vu/<uuid:pk>/", views.task_detail, name="task_detail"),
    path("tac-vu/<uuid:pk>/tep/<str:which>/", views.task_file, name="task_file"),
]
