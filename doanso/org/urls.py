from django.urls import path

from . import division_views, views

app_name = "org"
urlpatterns = [
    path("", views.tree, name="tree"),
    path("theo-ngay/", views.tree_as_of, name="tree_as_of"),
    path("goi-y/", views.unit_suggest, name="unit_suggest"),
    path("dia-ban/goi-y/", views.division_suggest, name="division_suggest"),
    path("dia-ban/chuyen-doi/", division_views.division_convert, name="division_convert"),
    path("dia-ban/tra-cuu/", division_views.division_lookup, name="division_lookup"),
    path("<int:pk>/", views.unit_detail, name="unit_detail"),
    path("<int:pk>/cay/", views.tree_children, name="tree_children"),
    path("<int:pk>/lich-su/", views.unit_history, name="unit_history"),
    path("<int:pk>/them/", views.unit_create, name="unit_create"),
    path("<int:pk>/sua/", views.unit_edit, name="unit_edit"),
    path("<int:pk>/chuyen/", views.unit_move, name="unit_move"),
    path("<int:pk>/sap-nhap/", views.unit_merge, name="unit_merge"),
    path("<int:pk>/tach/", views.unit_split, name="unit_split"),
    path("<int:pk>/giai-the/", views.unit_dissolve, name="unit_dissolve"),
    path("<int:pk>/ket-nghia/", views.unit_twin, name="unit_twin"),
    path("<int:pk>/xuat/", views.unit_export, name="unit_export"),
    path("ket-nghia/<int:pk>/ket-thuc/", views.twinning_end, name="twinning_end"),
]
