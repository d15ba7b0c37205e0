"""The cached public pages of sites and the map's GeoJSON.

A public site page is the same for every visitor (no session, no CSRF token, no user menu), so its rendered HTML
is kept in the cache per site and language: a visitor who scans the QR code gets it without a database query.
Every service that changes what a page shows clears the site's pages after commit and moves the GeoJSON version
on, so nobody sees an old page for longer than a cache without shared state allows (``page_cache_seconds``, for
the per-process memory cache of a server without Redis).
"""

from typing import Any

from django.conf import settings
from django.core.cache import cache

_VERSION_KEY = "sites:version"


def page_key(code: str, language: str) -> str:
    return f"sites:page:{code}:{language}"


def timeout() -> int:
    seconds: Any = settings.DOANSO_SITES["page_cache_seconds"]
    return int(seconds)


def get_page(code: str, language: str):
    """(site id, HTML bytes) of the cached page, or None."""
    return cache.get(page_key(code, language))


def set_page(code: str, language: str, site_id: int, html: bytes) -> None:
    cache.set(page_key(code, language), (site_id, html), timeout())


def version() -> int:
    value = cache.get(_VERSION_KEY)
    if value is None:
        cache.add(_VERSION_KEY, 1, None)
        value = cache.get(_VERSION_KEY) or 1
    return value


def clear(codes) -> None:
    cache.delete_many([page_key(code, lang) for code in codes for lang, _label in settings.LANGUAGES])
    try:
        cache.incr(_VERSION_KEY)
    except ValueError:
        cache.add(_VERSION_KEY, 2, None)
