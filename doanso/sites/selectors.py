"""Reads of the sites module: the editors' scope, the public lists, the map's GeoJSON."""

import json

from django.db.models import Prefetch, Q
from django.urls import reverse
from django.utils.translation import get_language

from doanso.core.text import fold

from .models import Activity, Adoption, Site, SiteKind, SiteStatus


def search(qs, query: str):
    """Every word of the query (diacritics and case ignored) in the name, English name, code, marker number or
    address."""
    for word in fold(query).split()[:8]:
        qs = qs.filter(search_name__contains=word)
    return qs


def public_sites():
    return Site.objects.published().select_related("division", "marker")


def filter_public(qs, *, kind: str = "", commune: str = ""):
    if kind in SiteKind.values:
        qs = qs.filter(kind=kind)
    if commune:
        qs = qs.filter(division__code=commune)
    return qs


def communes_with_sites():
    """(code, name) of the communes that have a published site, for the filter."""
    from doanso.org.models import AdministrativeDivision

    return list(
        AdministrativeDivision.objects.filter(sites__status=SiteStatus.PUBLISHED)
        .distinct()
        .order_by("search_name")
        .values_list("code", "name")
    )


def geojson(*, kind: str = "", commune: str = "") -> str:
    """A FeatureCollection of the published sites with coordinates, built from one query of plain values (the
    map of 10,000 sites must come in well under 200 ms)."""
    english = (get_language() or "vi").startswith("en")
    qs = filter_public(Site.objects.published(), kind=kind, commune=commune).filter(latitude__isnull=False)
    rows = qs.order_by("id").values_list(
        "code",
        "name",
        "name_en",
        "kind",
        "rank",
        "latitude",
        "longitude",
        "division__name",
        "marker__number",
        "marker__sub_number",
    )
    labels = {value: str(label) for value, label in SiteKind.choices}
    from .models import RelicRank

    ranks = {value: str(label) for value, label in RelicRank.choices}
    base = reverse("sites:public_site", args=["CODE"]).replace("CODE", "{}")
    features = []
    append = features.append
    for code, name, name_en, kind_, rank, lat, lon, commune_name, number, sub in rows:
        props = {
            "code": code,
            "name": (name_en or name) if english else name,
            "kind": kind_,
            "label": ranks[rank] if rank else labels[kind_],
            "url": base.format(code),
        }
        if commune_name:
            props["commune"] = commune_name
        if number is not None:
            props["marker"] = f"{number}/{sub}" if sub else str(number)
        append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [float(lon), float(lat)]},
                "properties": props,
            }
        )
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, separators=(",", ":"))


def site_adoptions(site: Site):
    """The site's adoptions with their latest activities and photos, in a fixed number of queries."""
    return list(
        site.adoptions.select_related("unit").prefetch_related(
            Prefetch("activities", queryset=Activity.objects.prefetch_related("photos"))
        )
    )


def unit_adoptions(unit):
    return list(
        Adoption.objects.filter(unit=unit)
        .select_related("site", "site__marker")
        .prefetch_related(Prefetch("activities", queryset=Activity.objects.prefetch_related("photos")))
    )


def visible_to_editor(user, action: str):
    return Site.objects.restrict(user, action).select_related("unit", "division", "marker")


def published_or_in_scope(user, action: str):
    from doanso.accounts.scope import scope_q

    return Site.objects.filter(Q(status=SiteStatus.PUBLISHED) | scope_q(user, action, "unit"))
