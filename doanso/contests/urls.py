from django.urls import path

from . import public_views, results_views, views

app_name = "contests"
urlpatterns = [
    # Organisers
    path("quan-ly/", views.contest_list, name="contest_list"),
    path("quan-ly/tao/", views.contest_create, name="contest_create"),
    path("quan-ly/<int:pk>/", views.contest_manage, name="contest_manage"),
    path("quan-ly/<int:pk>/sua/", views.contest_edit, name="contest_edit"),
    path("quan-ly/<int:pk>/dot-thi/them/", views.round_create, name="round_create"),
    path("quan-ly/<int:pk>/cau-hoi/", views.question_list, name="question_list"),
    path("quan-ly/<int:pk>/cau-hoi/them/", views.question_create, name="question_create"),
    path("quan-ly/<int:pk>/cau-hoi/nhap/", views.question_import, name="question_import"),
    path("quan-ly/<int:pk>/tham-gia/", views.participation, name="participation"),
    path("quan-ly/<int:pk>/chi-tieu/", views.quota_set, name="quota_set"),
    path("quan-ly/<int:pk>/ra-soat/", views.review_queue, name="review_queue"),
    path("quan-ly/cau-hoi/<int:pk>/sua/", views.question_edit, name="question_edit"),
    path("quan-ly/cau-hoi/<int:pk>/trang-thai/", views.question_toggle, name="question_toggle"),
    path("quan-ly/dot-thi/<int:pk>/sua/", views.round_edit, name="round_edit"),
    path("quan-ly/dot-thi/<int:pk>/ket-qua/", views.round_results, name="round_results"),
    path("quan-ly/dot-thi/<int:pk>/xep-hang/", views.round_rank, name="round_rank"),
    path("quan-ly/dot-thi/<int:pk>/cong-bo/", views.round_publish, name="round_publish"),
    path("quan-ly/dot-thi/<int:pk>/xuat/", results_views.round_export, name="round_export"),
    path("quan-ly/dot-thi/<int:pk>/theo-doi/", views.dashboard, name="dashboard"),
    path(
        "quan-ly/dot-thi/<int:pk>/giai/<int:position>/chung-nhan/",
        results_views.certificate_pdf,
        name="certificate_pdf",
    ),
    path("quan-ly/canh-bao/<int:pk>/", views.flag_review, name="flag_review"),
    # Contestants and the public
    path("<int:pk>/", public_views.contest_public, name="contest_public"),
    path("<int:pk>/dang-ky/", public_views.register, name="register"),
    path("<int:pk>/don-vi/", public_views.unit_suggest, name="unit_suggest"),
    path("<int:pk>/doan-vien/", public_views.join_member, name="join_member"),
    path("<int:pk>/ket-qua/", public_views.public_results, name="public_results"),
    path("dot-thi/<int:pk>/bat-dau/", public_views.start, name="start"),
    path("bai/<str:key>/", public_views.attempt_page, name="attempt"),
    path("bai/<str:key>/luu/", public_views.answer_save, name="answer_save"),
    path("bai/<str:key>/nop/", public_views.attempt_submit, name="attempt_submit"),
    path("bai/<str:key>/ket-qua/", public_views.attempt_result, name="attempt_result"),
    path("chung-nhan/<str:token>/", results_views.certificate_verify, name="certificate_verify"),
]
