from django.conf import settings
from django.conf.urls.static import static
from django.urls import include, path

from doanso.api import api, api_docs

urlpatterns = [
    # The API first: contestants' answer saves are the busiest requests, and URL resolution tries the patterns in
    # order.
    path("api/v1/", api.urls),
    path("", include("doanso.core.urls")),
    path("don-vi/", include("doanso.org.urls")),
    path("tai-khoan/", include("doanso.accounts.urls")),
    path("doan-vien/", include("doanso.members.urls")),
    path("dia-diem/", include("doanso.sites.urls")),
    path("q/", include("doanso.sites.urls_qr")),
    path("cuoc-thi/", include("doanso.contests.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/docs", api_docs, name="api_docs"),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler403 = "doanso.core.views.error_403"
handler404 = "doanso.core.views.error_404"
handler500 = "doanso.core.views.error_500"
