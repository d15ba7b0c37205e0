from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("dang-nhap/", views.LoginView.as_view(), name="login"),
    path("dang-nhap/ma-xac-thuc/", views.otp_verify, name="otp_verify"),
    path("dang-xuat/", auth_views.LogoutView.as_view(), name="logout"),
    path("ca-nhan/", views.profile, name="profile"),
    path("ca-nhan/xac-thuc-hai-buoc/", views.otp_setup, name="otp_setup"),
    path("ca-nhan/xac-thuc-hai-buoc/tat/", views.otp_disable, name="otp_disable"),
    path("ca-nhan/token/<int:pk>/thu-hoi/", views.token_revoke, name="token_revoke"),
    path("loi-moi/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("quen-mat-khau/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "quen-mat-khau/da-gui/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path("dat-lai/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path(
        "dat-lai/xong/",
        auth_views.PasswordResetCompleteView.as_view(template_name="accounts/password_reset_complete.html"),
        name="password_reset_complete",
    ),
    path("vai-tro/", views.role_list, name="role_list"),
    path("vai-tro/gan/", views.role_assign, name="role_assign"),
    path("vai-tro/<int:pk>/thu-hoi/", views.role_revoke, name="role_revoke"),
    path("vai-tro/moi/", views.invite, name="invite"),
]
