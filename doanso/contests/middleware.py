"""The contestants' lane: the two requests that every phone sends by the thousand at a round's close (saving an
answer, submitting the attempt, over the API) go from here to their views through a short chain of middleware
(``settings.CONTESTANT_LANE_MIDDLEWARE``), past the rest of ``MIDDLEWARE``, URL resolution and ninja's dispatch
(decision 0016).

Those requests need no cookie, session or login: the attempt's key, in the address, is their only credential.
The lane's chain keeps what they do need, with the same middleware classes: the person's language, the host
check and the length, the frame and content-security headers, the client's address for the audit. What it
skips serves browsers and logged-in people: sessions and users (and with them the second-factor redirect, which
would only send an unverified administrator's save elsewhere), messages, CSRF (ninja's views are exempt
anyway), htmx, Axes. SecurityMiddleware and RefuseNulMiddleware stay in front of the lane. Any other method or
address goes the ordinary way (a GET on these addresses is refused by ninja, 405).
"""

import logging

from django.conf import settings
from django.core.handlers.exception import convert_exception_to_response
from django.urls import NoReverseMatch, get_script_prefix, reverse
from django.utils.module_loading import import_string
from ninja import Status

logger = logging.getLogger(__name__)


class ContestantLaneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self._prefix: str | None = None
        self._views: dict = {}
        # As BaseHandler.load_middleware builds the main chain (none of these has view or exception hooks): an
        # exception is turned into its error page inside the chain, so the page gets the chain's headers too.
        handler = convert_exception_to_response(self._view)
        for path in reversed(settings.CONTESTANT_LANE_MIDDLEWARE):
            handler = convert_exception_to_response(import_string(path)(handler))
        self._chain = handler

    def _routes(self) -> str:
        """The addresses' common beginning (a path_info), read once from the URL configuration (not at start-up:
        the views' module imports the API, which imports the URL configuration's apps). Where the API's routes
        cannot be found, the lane stays shut and every request goes the ordinary way."""
        from . import api as views

        routes, prefixes = {}, set()
        try:
            for view in (views.save_answer, views.submit_attempt):
                address = reverse(f"api:{view.__name__}", kwargs={"key": "KEY"})[len(get_script_prefix()) - 1 :]
                prefix, _key, action = address.rpartition("/KEY/")
                routes[action] = view
                prefixes.add(prefix + "/")
        except NoReverseMatch:
            logger.warning("The contestants' lane is shut: the API's contest routes are not in the URLs.")
            prefixes = set()
        if len(prefixes) != 1:
            routes, prefixes = {}, {"\x00"}  # (no path holds one: RefuseNulMiddleware refuses it in front)
        self._views = routes  # (before the prefix: a thread that sees the prefix finds the views)
        self._prefix = prefixes.pop()
        return self._prefix

    def __call__(self, request):
        if request.method == "POST":
            prefix = self._prefix or self._routes()
            path = request.path_info
            if path.startswith(prefix):
                key, _slash, action = path[len(prefix) :].partition("/")
                view = self._views.get(action)
                if view is not None and key:
                    request.contestant_lane = (view, key)
                    return self._chain(request)
        return self.get_response(request)

    @staticmethod
    def _view(request):
        """The API view, with ninja's exception handlers and its rendering of a refusal, as its dispatch would
        (an exception it has no handler for is re-raised, and becomes the site's error page)."""
        from doanso.api import api

        view, key = request.contestant_lane
        try:
            response = view(request, key)
        except Exception as exc:
            response = api.on_exception(request, exc)
        if isinstance(response, Status):
            response = api.create_response(request, response.value, status=response.status_code)
        return response
