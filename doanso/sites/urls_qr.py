from django.urls import path

from . import views_public

# The short address printed in every QR code: /q/<code>. Never change it: boards are printed for years.
app_name = "qr"
urlpatterns = [path("<str:code>", views_public.scan, name="scan")]
