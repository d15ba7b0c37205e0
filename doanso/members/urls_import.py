"""Routes of the member registry's import pages (included by members/urls.py under the "members" namespace)."""

from django.urls import path

from . import import_views

urlpatterns = [
    path("nhap/", import_views.import_start, name="import_start"),
    path("nhap/tep-mau/", import_views.import_template, name="import_template"),
    path("nhap/<slug:token>/cot/", import_views.import_mapping, name="import_mapping"),
    path("nhap/<slug:token>/kiem-tra/", import_views.import_preview, name="import_preview"),
    path("nhap/<slug:token>/ghi/", import_views.import_commit, name="import_commit"),
    path("nhap/<slug:token>/ket-qua/", import_views.import_result, name="import_result"),
]
