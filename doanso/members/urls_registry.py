"""Routes of the registry itself: list, search, record, export, saved filters (included by members/urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.member_list, name="member_list"),
    path("them/", views.member_create, name="member_create"),
    path("xuat/", views.member_export, name="member_export"),
    path("bo-loc/luu/", views.filter_save, name="filter_save"),
    path("bo-loc/<int:pk>/xoa/", views.filter_delete, name="filter_delete"),
    path("<int:pk>/", views.member_detail, name="member_detail"),
    path("<int:pk>/sua/", views.member_edit, name="member_edit"),
]
