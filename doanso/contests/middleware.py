"""The contestants' lane: the two requests that every phone sends by the thousand at a round's close (saving an
answer, submitting the attempt) go from here straight to their API views, past the rest of the middleware, URL
resolution and ninja's dispatch (decision 0016).

Those requests carry no session, no cookie and no login: the attempt's key is their only credential. What the
skipped middleware does is for browsers and logged-in people (sessions, users, second factors, messages, CSRF,
htmx, Axes, frame and content-security headers on pages); what these requests do need is done here, as the
middleware would: the person's language (LocaleMiddleware), the client address for the audit
(RequestContextMiddleware), ninja's exception handlers and rendering, and the Content-Length (CommonMiddleware).
SecurityMiddleware and RefuseNulMiddleware stay in front of the lane. Any other method or address goes the
ordinary way (a GET on these addresses is refused by ninja, 405).
"""

from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from ninja import Status

from doanso.core.audit import request_ip
from doanso.core.middleware import client_ip


class ContestantLaneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self._prefix: str | None = None
        self._views: dict = {}

    def _routes(self) -> str:
        """The addresses' common beginning, read once from the URL configuration (not at start-up: the views'
        module imports the API, which imports the URL configuration's apps)."""
        from . import api as views

        routes, prefixes = {}, set()
        for view in (views.save_answer, views.submit_attempt):
            prefix, _key, action = reverse(f"api:{view.__name__}", kwargs={"key": "KEY"}).rpartition("/KEY/")
            routes[action] = view
            prefixes.add(prefix + "/")
        if len(prefixes) != 1:
            raise ImproperlyConfigured("The contestants' lane expects its routes under one address.")
        self._views = routes  # (before the prefix: a thread that sees the prefix finds the views)
        self._prefix = prefixes.pop()
        return self._prefix

    def __call__(self, request):
        if request.method == "POST":
            prefix = self._prefix or self._routes()
            path = request.path
            if path.startswith(prefix):
                key, _slash, action = path[len(prefix) :].partition("/")
                view = self._views.get(action)
                if view is not None and key:
                    return self._serve(request, view, key)
        return self.get_response(request)

    def _serve(self, request, view, key: str):
        from doanso.api import api

        language = translation.get_language_from_request(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        token = request_ip.set(client_ip(request))
        try:
            response = view(request, key)
        except Exception as exc:  # ninja's handlers, as its dispatch would (one it has none for is re-raised)
            response = api.on_exception(request, exc)
        finally:
            request_ip.reset(token)
        if isinstance(response, Status):
            response = api.create_response(request, response.value, status=response.status_code)
        patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", language)
        response.headers["Content-Length"] = str(len(response.content))
        return response
