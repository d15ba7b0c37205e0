"""The HTTP API: django-ninja under /api/v1, OpenAPI docs at /api/docs.

Authentication: a personal token (``Authorization: Bearer TOKEN``, see ``manage.py create_api_token``) or the
browser session. Every endpoint reads through ``restrict(user, action)``, exactly like the UI.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from ninja import NinjaAPI
from ninja.openapi.views import openapi_view
from ninja.security import HttpBearer, django_auth

from doanso.accounts.models import ApiToken, hash_token


class TokenAuth(HttpBearer):
    def authenticate(self, request, token):
        api_token = (
            ApiToken.objects.select_related("user")
            .filter(key_hash=hash_token(token), revoked_at__isnull=True, user__is_active=True)
            .first()
        )
        if api_token is None:
            return None
        now = timezone.now()
        # Touch last_used_at at most once a minute, not on every request.
        if api_token.last_used_at is None or (now - api_token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
        request.user = api_token.user
        return api_token.user


api = NinjaAPI(
    title="Đoàn Số API",
    version="1",
    description="Scoped exactly like the web interface: a token sees what its user sees.",
    auth=[TokenAuth(), django_auth],
    urls_namespace="api",
    docs_url=None,
)
api.add_router("/units", "doanso.org.api.router")
api.add_router("/members", "doanso.members.api.router")
api.add_router("/contests", "doanso.contests.api.router")


@api.exception_handler(ValidationError)
def validation_error(request, exc: ValidationError):
    """A refused action: 422 with the messages keyed by field, as the forms show them."""
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return api.create_response(request, {"errors": errors}, status=422)


@api.exception_handler(PermissionDenied)
def permission_denied(request, exc):
    """Out of scope reads as missing, exactly like the web pages."""
    return api.create_response(request, {"detail": "Not Found"}, status=404)


def api_docs(request):
    return openapi_view(request, api)
