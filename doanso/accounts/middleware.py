from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse


class TwoFactorRequiredMiddleware:
    """Platform administrators must have verified a second factor in this session before doing anything."""

    exempt_prefixes = ("/static/", "/media/", "/healthz", "/i18n/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            settings.DOANSO_REQUIRE_2FA_FOR_ADMINS
            and user.is_authenticated
            and user.is_superuser
            and not user.is_verified()
            and not request.path.startswith(self.exempt_prefixes)
        ):
            allowed = {reverse("accounts:otp_setup"), reverse("accounts:logout")}
            if request.path not in allowed:
                return redirect("accounts:otp_setup")
        return self.get_response(request)
