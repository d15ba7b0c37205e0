"""Routes of the member registry's selfservice pages (included by members/urls.py under the "members" namespace)."""

from django.urls import path

from . import card_views, selfservice_views

urlpatterns = [
    # The e-member card, and the public page its QR code opens.
    path("<int:pk>/the/", card_views.card, name="card"),
    path("<int:pk>/the/pdf/", card_views.card_pdf, name="card_pdf"),
    path("xac-minh/<str:token>/", card_views.card_verify, name="card_verify"),
    path("<int:pk>/moi-tai-khoan/", selfservice_views.member_invite, name="member_invite"),
    # The member's own pages.
    path("cua-toi/", selfservice_views.my_home, name="my_home"),
    path("cua-toi/de-nghi-sua/", selfservice_views.correction_request, name="correction_request"),
    path("cua-toi/dot-cap-nhat/<int:pk>/xac-nhan/", selfservice_views.confirm_data, name="confirm_data"),
    # Cadres: correction requests to review, data-update campaigns.
    path("de-nghi-sua/", selfservice_views.correction_inbox, name="correction_inbox"),
    path("de-nghi-sua/<int:pk>/", selfservice_views.correction_detail, name="correction_detail"),
    path("de-nghi-sua/<int:pk>/duyet/", selfservice_views.correction_approve, name="correction_approve"),
    path("de-nghi-sua/<int:pk>/tu-choi/", selfservice_views.correction_reject, name="correction_reject"),
    path("dot-cap-nhat/", selfservice_views.campaign_list, name="campaign_list"),
    path("dot-cap-nhat/tao/", selfservice_views.campaign_create, name="campaign_create"),
    path("dot-cap-nhat/<int:pk>/", selfservice_views.campaign_detail, name="campaign_detail"),
    path(
        "dot-cap-nhat/<int:pk>/chua-xac-nhan/", selfservice_views.campaign_not_confirmed, name="campaign_not_confirmed"
    ),
]
