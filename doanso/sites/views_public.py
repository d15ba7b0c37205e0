"""Public pages: the page of a site (also reached through its QR code), the list and search, the map and its
GeoJSON, the QR images. No login, no session, no JavaScript needed; cacheable."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from doanso.core.qr import qr_png

from . import cache as page_cache
from . import scans, selectors
from .models import MediaKind, Site, SiteKind
from .qr import public_url, qr_svg

PUBLIC_MAX_AGE = 300
CACHE_CONTROL = f"public, max-age={PUBLIC_MAX_AGE}"
PER_PAGE = 30
MAP_LIST_LIMIT = 300


def _language(request) -> str:
    """?hl= when it names one of our languages, else what LocaleMiddleware chose."""
    wanted = request.GET.get("hl")
    if wanted and wanted in {code for code, _label in settings.LANGUAGES}:
        return wanted
    return getattr(request, "LANGUAGE_CODE", None) or settings.LANGUAGE_CODE


def _other_language(query: QueryDict, language: str) -> dict:
    """The link to this page in the other language: the same query, with ``hl`` changed."""
    other = "en" if language == "vi" else "vi"
    query = query.copy()
    query["hl"] = other
    return {"url": f"?{query.urlencode()}", "code": other, "label": "English" if other == "en" else "Tiếng Việt"}


def _render_public(request, template: str, context: dict) -> HttpResponse:
    """A public list or map page in the language of ``?hl=`` (kept in its links) or the browser's."""
    language = _language(request)
    chosen = request.GET.get("hl") == language
    context = {**context, "hl": language if chosen else "", "other_language": _other_language(request.GET, language)}
    with translation.override(language):
        return render(request, template, context)


def directions_url(site: Site) -> str:
    return settings.DOANSO_SITES["directions_url"].format(lat=site.latitude, lon=site.longitude)


def site_context(request, site: Site) -> dict:
    media = list(site.media.all())
    marker = getattr(site, "marker", None) if site.kind == SiteKind.BORDER_MARKER else None
    url = public_url(request, site)
    return {
        "site": site,
        "photos": list(site.photos.all()),
        "videos": [m for m in media if m.kind == MediaKind.VIDEO],
        "audios": [m for m in media if m.kind == MediaKind.AUDIO],
        "documents": [m for m in media if m.kind == MediaKind.DOCUMENT],
        "marker": marker,
        "reports": list(marker.reports.prefetch_related("photos")[:5]) if marker else [],
        "adoptions": selectors.site_adoptions(site),
        "share_url": url,
        "directions": directions_url(site) if site.has_location else "",
        "canonical": request.build_absolute_uri(reverse("sites:public_site", args=[site.code])),
    }


def _render_page(request, code: str, language: str):
    """(site id, HTML) of a published site's page, from the cache or rendered and cached."""
    hit = page_cache.get_page(code, language)
    if hit is not None:
        return hit
    site = Site.objects.published().select_related("division", "unit", "marker").filter(code=code).first()
    if site is None:
        return None
    with translation.override(language):
        # The language is kept in the page's links (the page is cached per language, whoever chose it).
        # The page has no query of its own: the switch is the bare ?hl= of the other language.
        context = {
            **site_context(request, site),
            "hl": language,
            "other_language": _other_language(QueryDict(), language),
        }
        html = render_to_string("sites/public/site.html", context, request=None).encode()
    page_cache.set_page(code, language, site.pk, html)
    return site.pk, html


def _page_response(request, code: str, *, scanned: bool) -> HttpResponse:
    language = _language(request)
    found = _render_page(request, code.upper(), language)
    if found is None:
        raise Http404
    site_id, html = found
    if scanned:
        scans.count_scan(site_id)
    response = HttpResponse(html)
    response["Content-Language"] = language
    # Set directly rather than through cache_control(): this is the hot path of every QR scan.
    response["Cache-Control"] = CACHE_CONTROL
    return response


@require_GET
def public_site(request, code):
    return _page_response(request, code, scanned=False)


@require_GET
def scan(request, code):
    """The short URL printed in the QR code: the page itself (no redirect: one round trip less on a slow
    mountain connection), counted as a scan."""
    return _page_response(request, code, scanned=True)


@require_GET
def public_list(request):
    qs = selectors.public_sites()
    query = request.GET.get("q", "")[:100]
    kind, commune = request.GET.get("kind", ""), request.GET.get("commune", "")[:8]
    qs = selectors.filter_public(selectors.search(qs, query), kind=kind, commune=commune)
    if kind == SiteKind.BORDER_MARKER:
        qs = qs.order_by("marker__number", "marker__sub_number")
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "query": query,
        "kind": kind,
        "commune": commune,
        "kinds": SiteKind.choices,
        "communes": selectors.communes_with_sites(),
    }
    return _render_public(request, "sites/public/list.html", context)


def _tile_origin() -> str:
    parts = urlsplit(settings.DOANSO_SITES["tile_url"].replace("{s}", "a"))
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _map_csp():
    origin = _tile_origin()
    img = ["'self'", "data:"] + ([origin] if origin else [])
    return {**settings.SECURE_CSP, "img-src": img}


@require_GET
def site_map(request):
    kind, commune = request.GET.get("kind", ""), request.GET.get("commune", "")[:8]
    qs = selectors.filter_public(selectors.public_sites(), kind=kind, commune=commune)
    if kind == SiteKind.BORDER_MARKER:
        qs = qs.order_by("marker__number", "marker__sub_number")
    # The list under the map is the page without JavaScript; past a few hundred places the list page (with its
    # search and pages) serves better than one very long page on a phone.
    shown = list(qs[: MAP_LIST_LIMIT + 1])
    context = {
        "sites": shown[:MAP_LIST_LIMIT],
        "more": len(shown) > MAP_LIST_LIMIT,
        "kind": kind,
        "commune": commune,
        "kinds": SiteKind.choices,
        "communes": selectors.communes_with_sites(),
        "tile_url": settings.DOANSO_SITES["tile_url"],
        "tile_attribution": settings.DOANSO_SITES["tile_attribution"],
        "geojson_url": reverse("sites:geojson"),
        "focus": request.GET.get("site", "")[:12],
    }
    response = _render_public(request, "sites/public/map.html", context)
    # The tile server's origin is allowed for images on this page only (read per request: it is a setting).
    response._csp_config = _map_csp()
    return response


@require_GET
@cache_control(public=True, max_age=PUBLIC_MAX_AGE)
def geojson(request):
    kind, commune = request.GET.get("kind", ""), request.GET.get("commune", "")[:8]
    # Only values that can select something make a cache key: otherwise every made-up value would build the
    # whole collection again and store another copy of it.
    kind = kind if kind in SiteKind.values else ""
    commune = commune if commune.isascii() and commune.isdigit() else ""
    language = translation.get_language() or "vi"
    key = f"sites:geojson:{page_cache.version()}:{language}:{kind}:{commune}"
    body = cache.get(key)
    if body is None:
        body = selectors.geojson(kind=kind, commune=commune)
        cache.set(key, body, page_cache.timeout())
    response = HttpResponse(body, content_type="application/geo+json; charset=utf-8")
    if request.GET.get("download"):
        response["Content-Disposition"] = 'attachment; filename="dia-diem.geojson"'
    return response


def _published(code: str) -> Site:
    site = Site.objects.published().filter(code=code.upper()).first()
    if site is None:
        raise Http404
    return site


@require_GET
@cache_control(public=True, max_age=86400)
def qr_image(request, code, fmt):
    if fmt not in ("svg", "png"):
        raise Http404
    site = _published(code)
    url = public_url(request, site)
    if fmt == "svg":
        return HttpResponse(qr_svg(url), content_type="image/svg+xml")
    response = HttpResponse(qr_png(url, scale=10), content_type="image/png")
    return response
