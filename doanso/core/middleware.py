from .audit import request_ip


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
