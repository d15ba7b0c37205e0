from django.urls import path

from . import views, views_io, views_public

app_name = "sites"
urlpatterns = [
    # Public (no login).
    path("", views_public.public_list, name="public_list"),
    path("ban-do/", views_public.site_map, name="map"),
    path("ban-do.geojson", views_public.geojson, name="geojson"),
    path("<str:code>/", views_public.public_site, name="public_site"),
    path("<str:code>/qr.<str:fmt>", views_public.qr_image, name="qr_image"),
    # Editors.
    path("quan-ly/dia-diem/", views.site_list, name="site_list"),
    path("quan-ly/dia-diem/them/", views.site_create, name="site_create"),
    path("quan-ly/cot-moc/", views.marker_list, name="marker_list"),
    path("quan-ly/nhap/", views_io.import_start, name="import_start"),
    path("quan-ly/xuat/<str:fmt>/", views_io.export, name="export"),
    path("quan-ly/cot-moc/them/", views.marker_create, name="marker_create"),
    path("quan-ly/dia-diem/<int:pk>/", views.site_detail, name="site_detail"),
    path("quan-ly/dia-diem/<int:pk>/sua/", views.site_edit, name="site_edit"),
    path("quan-ly/dia-diem/<int:pk>/gui-duyet/", views.site_submit, name="site_submit"),
    path("quan-ly/dia-diem/<int:pk>/duyet/", views.site_review, name="site_review"),
    path("quan-ly/dia-diem/<int:pk>/go-xuong/", views.site_unpublish, name="site_unpublish"),
    path("quan-ly/dia-diem/<int:pk>/anh/", views.photo_add, name="photo_add"),
    path("quan-ly/anh/<int:pk>/xoa/", views.photo_delete, name="photo_delete"),
    path("quan-ly/dia-diem/<int:pk>/tep/", views.media_add, name="media_add"),
    path("quan-ly/tep/<int:pk>/xoa/", views.media_delete, name="media_delete"),
    path("quan-ly/dia-diem/<int:pk>/bang-qr/<str:fmt>/", views.board, name="board"),
    path("quan-ly/dia-diem/<int:pk>/tinh-trang/", views.condition_add, name="condition_add"),
    path("quan-ly/dia-diem/<int:pk>/nhan-do-dau/", views.adopt, name="adopt"),
    path("quan-ly/nhan-do-dau/<int:pk>/", views.adoption_detail, name="adoption_detail"),
    path("quan-ly/nhan-do-dau/<int:pk>/hoat-dong/", views.activity_add, name="activity_add"),
    path("quan-ly/nhan-do-dau/<int:pk>/ket-thuc/", views.adoption_end, name="adoption_end"),
]
