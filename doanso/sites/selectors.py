"""Reads of the sites module: the editors' scope, the public lists, the map's GeoJSON."""

from json.encoder import encode_basestring  # type: ignore[attr-defined]

from django.db import connection
from django.db.models import F, FloatField, Prefetch, Q, Value
from django.db.models.functions import Cast, Coalesce, NullIf
from django.urls import reverse
from django.utils.translation import get_language

from doanso.core.text import fold

from .models import Activity, Adoption, RelicRank, Site, SiteKind, SiteStatus


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
    """A FeatureCollection of the published sites with coordinates.

    The map of 10,000 sites must come in well under 200 ms: one query of plain values (coordinates cast to
    floats by the database, no join), the few commune names and marker numbers by two small queries, and each
    feature written as text with only the name going through the JSON encoder (the other values are known to
    need no escaping, or are encoded once). Building 10,000 nested dictionaries and encoding them, or having the
    database build JSON objects, took two to three times as long.
    """
    from doanso.org.models import AdministrativeDivision

    from .models import BorderMarker

    english = (get_language() or "vi").startswith("en")
    qs = filter_public(Site.objects.published(), kind=kind, commune=commune).filter(latitude__isnull=False)
    name = Coalesce(NullIf("name_en", Value("")), "name") if english else F("name")
    values = (
        qs.order_by("id")
        .annotate(lat=Cast("latitude", FloatField()), lon=Cast("longitude", FloatField()), title=name)
        .values_list("id", "code", "title", "kind", "rank", "lat", "lon", "division_id")
    )
    # The rows straight from the cursor: every column is already a str, float or int, and Django's per-row
    # converters would cost a fifth of the time.
    sql, params = values.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    # The C string encoder of the json module (no encoder object per call); it keeps non-ASCII letters as is.
    dumps = encode_basestring
    labels = {value: dumps(str(label)) for value, label in [*SiteKind.choices, *RelicRank.choices]}
    division_ids = {row[7] for row in rows if row[7] is not None}
    communes = {
        pk: "," + '"commune":' + dumps(name)
        for pk, name in AdministrativeDivision.objects.filter(pk__in=division_ids).values_list("pk", "name")
    }
    markers = {}
    if any(row[3] == SiteKind.BORDER_MARKER for row in rows):
        for site_id, number, sub in BorderMarker.objects.filter(site__in=qs).values_list(
            "site_id", "number", "sub_number"
        ):
            markers[site_id] = f',"marker":"{number}/{sub}"' if sub else f',"marker":"{number}"'
    prefix = reverse("sites:public_site", args=["CODE"]).split("CODE")[0]
    # Codes are letters and digits and the URL prefix is ours: neither needs escaping.
    features = [
        f'{{"type":"Feature","geometry":{{"type":"Point","coordinates":[{lon!r},{lat!r}]}},"properties":{{'
        f'"code":"{code}","name":{dumps(title)},"kind":"{kind_}",'
        f'"label":{labels[rank] if rank else labels[kind_]},"url":"{prefix}{code}/"'
        f"{communes.get(division_id, '')}{markers.get(pk, '')}}}}}"
        for pk, code, title, kind_, rank, lat, lon, division_id in rows
    ]
    return '{"type":"FeatureCollection","features":[' + ",".join(features) + "]}"


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
