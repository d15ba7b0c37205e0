"""Routes of the member registry's lifecycle pages (included by members/urls.py under the "members" namespace)."""

from django.urls import path

from . import lifecycle_views as views

urlpatterns = [
    # Admission (kết nạp): per unit, then per file.
    path("ket-nap/don-vi/<int:pk>/", views.admission_list, name="admission_list"),
    path("ket-nap/don-vi/<int:pk>/moi/", views.admission_start, name="admission_start"),
    path("ket-nap/<int:pk>/", views.admission_detail, name="admission_detail"),
    # Transfer (chuyển sinh hoạt).
    path("<int:pk>/chuyen-sinh-hoat/", views.transfer_send, name="transfer_send"),
    path("chuyen-sinh-hoat/", views.transfer_inbox, name="transfer_inbox"),
    path("chuyen-sinh-hoat/don-vi/", views.transfer_unit_suggest, name="transfer_unit_suggest"),
    path("chuyen-sinh-hoat/<int:pk>/tiep-nhan/", views.transfer_receive, name="transfer_receive"),
    path("chuyen-sinh-hoat/<int:pk>/huy/", views.transfer_cancel, name="transfer_cancel"),
    path(
        "chuyen-sinh-hoat/<int:pk>/da-tiep-nhan-ngoai-tinh/",
        views.transfer_received_elsewhere,
        name="transfer_received_elsewhere",
    ),
    path("chuyen-sinh-hoat/<int:pk>/giay-gioi-thieu.pdf", views.transfer_letter, name="transfer_letter"),
    # Public: the check of a letter, by the code printed on it (and its QR code).
    path("xac-minh-giay-gioi-thieu/", views.transfer_verify_lookup, name="transfer_verify_lookup"),
    path("xac-minh-giay-gioi-thieu/<str:code>/", views.transfer_verify, name="transfer_verify"),
    # Temporary attachment (sinh hoạt tạm thời).
    path("<int:pk>/sinh-hoat-tam-thoi/", views.attachment_add, name="attachment_add"),
    path("sinh-hoat-tam-thoi/<int:pk>/ket-thuc/", views.attachment_end, name="attachment_end"),
    # Annual rating (xếp loại), a table per branch.
    path("xep-loai/don-vi/<int:pk>/", views.rating_bulk, name="rating_bulk"),
    # Discipline (kỷ luật).
    path("<int:pk>/ky-luat/", views.discipline_add, name="discipline_add"),
    # Graduation (trưởng thành Đoàn).
    path("truong-thanh/don-vi/<int:pk>/", views.graduation_list, name="graduation_list"),
    path("truong-thanh/don-vi/<int:pk>/xac-nhan/", views.graduate, name="graduate"),
    path("<int:pk>/giu-lai/", views.graduation_keep, name="graduation_keep"),
    # End of membership: strike-off (xóa tên), resignation (ra khỏi Đoàn), death.
    path("<int:pk>/ket-thuc-sinh-hoat/", views.end_membership, name="end_membership"),
    # Positions (chức vụ).
    path("<int:pk>/chuc-vu/", views.position_add, name="position_add"),
    path("chuc-vu/<int:pk>/ket-thuc/", views.position_end, name="position_end"),
]
