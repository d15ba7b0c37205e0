"""The HTTP API: django-ninja under /api/v1, OpenAPI docs at /api/docs.

Authentication: a personal token (``Authorization: Bearer TOKEN``, see ``manage.py create_api_token``) or the
browser session. Every endpoint reads through ``restrict(user, action)``, exactly like the UI.
"""

from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import HttpError
from ninja.errors import ValidationError as InputError
from ninja.openapi.views import openapi_view
from ninja.parser import Parser
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


class JsonParser(Parser):
    """ninja's JSON parser, refusing the NUL character, which no field takes and PostgreSQL cannot store (the
    request is then refused as unreadable, 400, instead of failing at the database). A raw NUL byte is not JSON
    anyway; the escaped one is."""

    def parse_body(self, request):
        if b"\\u0000" in request.body:
            raise ValueError("NUL character in the request body")
        return super().parse_body(request)


api = NinjaAPI(
    title="Đoàn Số API",
    version="1",
    description="Scoped exactly like the web interface: a token sees what its user sees.",
    auth=[TokenAuth(), django_auth],
    urls_namespace="api",
    docs_url=None,
    parser=JsonParser(),
)
# The contests first: their answer saves are the busiest requests, and URL resolution tries the routes in order.
api.add_router("/contests", "doanso.contests.api.router")
api.add_router("/units", "doanso.org.api.router")
api.add_router("/members", "doanso.members.api.router")


@api.exception_handler(ValidationError)
def validation_error(request, exc: ValidationError):
    """A refused action: 422 with the messages keyed by field, as the forms show them."""
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return api.create_response(request, {"errors": errors}, status=422)


def _refused(request, status: int, message: str, code: str):
    """The shape of every refusal that is not about a field: {"error": message for the person, "code"}."""
    return api.create_response(request, {"error": message, "code": code}, status=status)


@api.exception_handler(PermissionDenied)
@api.exception_handler(Http404)
def not_found(request, exc):
    """Out of scope reads as missing, exactly like the web pages."""
    return _refused(request, 404, _("Not found, or not within your units."), "not_found")


# pydantic's error types, as the person is told (Django's own wording where it has one).
def _input_message(kind: str) -> str:
    if kind == "missing":
        return _("This field is required.")
    if kind.startswith("int_") or kind.startswith("float_"):
        return _("Enter a whole number.")
    if kind.startswith("date_") or kind.startswith("datetime_"):
        return _("Enter a valid date (yyyy-mm-dd).")
    if kind.startswith("list_"):
        return _("Enter a list of values.")
    if kind.startswith("string_"):
        return _("Enter text.")
    if kind.startswith("bool_"):
        return _("Enter true or false.")
    return _("Enter a valid value.")


@api.exception_handler(InputError)
def invalid_input(request, exc: InputError):
    """A body, query or path value of the wrong shape: 422 with the messages keyed by field, like a refused action;
    pydantic's own (English) messages, which echo the value sent, are not passed on."""
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        where = [str(part) for part in error.get("loc", ()) if isinstance(part, str)]
        field = where[-1] if len(where) > 1 else "__all__"
        message = _input_message(str(error.get("type", "")))
        if message not in errors.setdefault(field, []):
            errors[field].append(message)
    return api.create_response(request, {"errors": errors}, status=422)


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    """ninja's own refusals (unreadable body, missing credentials, CSRF), in the person's language."""
    known = {
        400: (_("The request cannot be read: send a JSON body (without NUL characters)."), "bad_request"),
        401: (_("Log in, or send your API token (Authorization: Bearer …)."), "unauthorized"),
        403: (_("Log in, or send your API token; a logged-in browser also sends its CSRF token."), "forbidden"),
    }
    message, code = known.get(exc.status_code, (str(exc), "refused"))
    return _refused(request, exc.status_code, message, code)


@api.exception_handler(RequestDataTooBig)
def too_big(request, exc):
    return _refused(request, 413, _("The request is too large."), "too_large")


def api_docs(request):
    return openapi_view(request, api)
