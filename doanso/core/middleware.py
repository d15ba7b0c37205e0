from django.http import HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _

from .audit import request_ip


class RefuseNulMiddleware:
    """Refuses, with 400, an address whose path or query string holds a NUL character (%00): no page takes one,
    and PostgreSQL refuses it in a query, which would otherwise be a server error wherever a view passes a path
    or query value to the database. (Django's forms already refuse NUL in what they read.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path_info or "%00" in query or "\x00" in query:
            message = _("The address contains a NUL character (%00).")
            if request.path_info.startswith("/api/"):
                return JsonResponse({"error": message, "code": "bad_request"}, status=400)
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class RequestContextMiddleware:
    """Keeps the client IP of the current request where the audit functions can read it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = request_ip.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            request_ip.reset(token)


def client_ip(request) -> str | None:
    # Behind nginx the real address arrives in X-Real-IP (deploy/nginx.conf sets it); REMOTE_ADDR otherwise.
    return request.META.get("HTTP_X_REAL_IP") or request.META.get("REMOTE_ADDR") or None
