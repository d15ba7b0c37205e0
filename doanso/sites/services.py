"""Every write of the sites module: one function per operation, with its permission check, validation, audit
record and the clearing of the cached public pages after commit."""

import datetime
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _

from doanso.accounts.scope import can
from doanso.core import audit
from doanso.core.text import nfc
from doanso.org.models import AdministrativeDivision, DivisionLevel

from . import cache as page_cache
from .apps import ADOPT_SITES, EDIT_SITES, PUBLISH_SITES
from .content import EXTENSIONS, check_coordinates, check_media_file, check_video_url, clean_rich_text, process_photo
from .models import (
    MAX_MARKER_NUMBER,
    MAX_SUB_NUMBER,
    Activity,
    ActivityKind,
    Adoption,
    BorderMarker,
    ConditionReport,
    EntryPhoto,
    MarkerCondition,
    MarkerForm,
    MarkerRole,
    Media,
    MediaKind,
    Photo,
    RelicRank,
    Site,
    SiteKind,
    SiteStatus,
)

SITE_FIELDS = (
    "kind",
    "rank",
    "name",
    "name_en",
    "summary",
    "summary_en",
    "history",
    "history_en",
    "visiting_hours",
    "visiting_hours_en",
    "division",
    "street_address",
    "legacy_address",
    "latitude",
    "longitude",
    "video_url",
)
MARKER_FIELDS = ("number", "sub_number", "role", "form", "border_section", "lao_province")
AUDITED = (*SITE_FIELDS, "unit", "status")
MAX_PHOTOS = 40


def _clear_after_commit(*sites: Site) -> None:
    codes = [s.code for s in sites]
    transaction.on_commit(lambda: page_cache.clear(codes))


# --- Sites ----------------------------------------------------------------------------------------------------


def _check_lengths(model, values: dict, add) -> None:
    """Text longer than its column: a message at the field (an imported file can hold anything), never the
    database's error."""
    for key, value in values.items():
        limit = getattr(model._meta.get_field(key), "max_length", None) if isinstance(value, str) else None
        if limit and len(value) > limit:
            add(key, _("At most {limit} characters ({count} given).").format(limit=limit, count=len(value)))


def clean_site_data(data: dict) -> dict:
    """Normalised and checked values of the site fields given; raises ValidationError with every problem."""
    out: dict = {}
    errors: dict[str, list[str]] = {}

    def add(key: str, message) -> None:
        errors.setdefault(key, []).append(str(message))

    for key, value in data.items():
        if key not in SITE_FIELDS:
            raise TypeError(f"unknown site field {key!r}")
        out[key] = nfc(value) if isinstance(value, str) and key not in ("history", "history_en") else value
    if "kind" in out and out["kind"] not in SiteKind.values:
        add("kind", _("Choose a kind of site."))
    if out.get("rank") and out["rank"] not in RelicRank.values:
        add("rank", _("Choose a rank."))
    if out.get("rank") and out.get("kind") != SiteKind.RELIC:
        add("rank", _("Only a historical relic has a rank."))
    if "name" in out and not out["name"]:
        add("name", _("Give the name of the site."))
    _check_lengths(Site, out, add)
    for key in ("history", "history_en"):
        if key in out:
            try:
                out[key] = clean_rich_text(out[key], key)
            except ValidationError as exc:
                errors.update(exc.message_dict)
    if "latitude" in out or "longitude" in out:
        try:
            out["latitude"], out["longitude"] = check_coordinates(out.get("latitude"), out.get("longitude"))
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if out.get("video_url"):
        try:
            out["video_url"] = check_video_url(out["video_url"])
        except ValidationError as exc:
            errors.update(exc.message_dict)
    division = out.get("division")
    if division is not None and (
        not isinstance(division, AdministrativeDivision) or division.level != DivisionLevel.COMMUNE
    ):
        add("division", _("Choose a commune or ward (the 2025 administrative division)."))
    if errors:
        raise ValidationError(errors)
    if out.get("legacy_address") and out.get("division") is None and "division" in out:
        out["division"] = division_from_legacy(out["legacy_address"])
    return out


def division_from_legacy(address: str) -> AdministrativeDivision | None:
    """The 2025 commune of a pre-2025 address ("commune, district, province" or "commune, province") when the
    official conversion table is sure of it."""
    from doanso.org.divisions import convert_legacy_address

    parts = [p.strip() for p in address.split(",") if p.strip()]
    if len(parts) < 2:
        return None
    commune, district, province = (
        parts[-3] if len(parts) >= 3 else parts[-2],
        parts[-2] if len(parts) >= 3 else None,
        parts[-1],
    )
    result = convert_legacy_address(province, district, commune)
    if not result.found or result.commune is None:
        return None
    return AdministrativeDivision.objects.filter(code=result.commune.code, level=DivisionLevel.COMMUNE).first()


def _snapshot(site: Site) -> dict:
    return audit.snapshot(site, list(AUDITED))


@transaction.atomic
def create_site(*, actor, unit, marker: dict | None = None, sample: bool = False, **data) -> Site:
    if not can(actor, EDIT_SITES, unit):
        raise PermissionDenied
    data.setdefault("kind", SiteKind.BORDER_MARKER if marker is not None else "")
    cleaned = clean_site_data(data)
    if (cleaned["kind"] == SiteKind.BORDER_MARKER) != (marker is not None):
        raise ValidationError({"kind": _("A border marker needs its number; only border markers have one.")})
    marker_values = clean_marker_data(marker) if marker is not None else None
    site = Site(unit=unit, is_sample=sample, **cleaned)
    site.refresh_search()
    # A new short code on the rare collision, rather than a server error.
    for _attempt in range(5):
        try:
            with transaction.atomic():
                site.save()
            break
        except IntegrityError:
            if Site.objects.filter(code=site.code).exists():
                site.code = get_random_string(6, "23456789ABCDEFGHJKMNPQRSTUVWXYZ")
                continue
            raise
    if marker_values is not None:
        _save_marker(site, marker_values)
        site.refresh_search()
        site.save(update_fields=["search_name", "sort_key"])
    audit.record(actor=actor, action="sites.site.create", obj=site, unit=unit, after=_snapshot(site))
    return site


def _editable(site: Site, actor) -> None:
    if not can(actor, EDIT_SITES, site.unit):
        raise PermissionDenied
    if site.status != SiteStatus.DRAFT and not can(actor, PUBLISH_SITES, site.unit):
        # A submitted or published page changes only through someone who may publish it.
        raise ValidationError(_("This site is submitted or published: only a reviewer can change it now."))


def _locked(site: Site) -> Site:
    return Site.objects.select_for_update(of=("self",)).select_related("unit", "division").get(pk=site.pk)


@transaction.atomic
def update_site(site: Site, *, actor, unit=None, marker: dict | None = None, **data) -> Site:
    site = _locked(site)
    _editable(site, actor)
    if unit is not None and unit.pk != site.unit_id and not can(actor, EDIT_SITES, unit):
        raise PermissionDenied
    cleaned = clean_site_data({"kind": site.kind, **data})
    if (cleaned["kind"] == SiteKind.BORDER_MARKER) != hasattr(site, "marker"):
        raise ValidationError({"kind": _("A border marker stays a border marker; create a new site instead.")})
    marker_values = clean_marker_data(marker, exclude=site.pk) if marker is not None else None
    before = _snapshot(site)
    for key, value in cleaned.items():
        setattr(site, key, value)
    if unit is not None:
        site.unit = unit
    if marker_values is not None:
        _save_marker(site, marker_values)
    site.refresh_search()
    site.save()
    audit.record(
        actor=actor, action="sites.site.update", obj=site, unit=site.unit, before=before, after=_snapshot(site)
    )
    _clear_after_commit(site)
    return site


@transaction.atomic
def submit_site(site: Site, *, actor) -> Site:
    site = _locked(site)
    if not can(actor, EDIT_SITES, site.unit):
        raise PermissionDenied
    if site.status != SiteStatus.DRAFT:
        raise ValidationError(_("Only a draft can be submitted for review."))
    site.status, site.submitted_by, site.submitted_at = SiteStatus.SUBMITTED, actor, timezone.now()
    site.review_note = ""
    site.save(update_fields=["status", "submitted_by", "submitted_at", "review_note", "updated_at"])
    audit.record(actor=actor, action="sites.site.submit", obj=site, unit=site.unit)
    return site


def _review(site: Site, actor) -> Site:
    site = _locked(site)
    if not can(actor, PUBLISH_SITES, site.unit):
        raise PermissionDenied
    if site.status != SiteStatus.SUBMITTED:
        raise ValidationError(_("Only a site submitted for review can be reviewed."))
    if site.submitted_by_id == actor.pk:
        raise ValidationError(_("Someone other than the person who submitted it must review it."))
    return site


@transaction.atomic
def publish_site(site: Site, *, actor, note: str = "") -> Site:
    site = _review(site, actor)
    if not site.summary and not site.history:
        raise ValidationError(_("Write at least a summary or the history before publishing."))
    now = timezone.now()
    site.status, site.reviewer, site.reviewed_at, site.review_note = SiteStatus.PUBLISHED, actor, now, nfc(note)
    site.published_at = site.published_at or now
    site.save(update_fields=["status", "reviewer", "reviewed_at", "review_note", "published_at", "updated_at"])
    audit.record(actor=actor, action="sites.site.publish", obj=site, unit=site.unit, after={"note": site.review_note})
    _clear_after_commit(site)
    return site


@transaction.atomic
def return_site(site: Site, *, actor, note: str) -> Site:
    site = _review(site, actor)
    note = nfc(note)
    if len(note) < 5:
        raise ValidationError({"note": _("Say what should change (at least a few words).")})
    site.status, site.reviewer, site.reviewed_at, site.review_note = SiteStatus.DRAFT, actor, timezone.now(), note
    site.save(update_fields=["status", "reviewer", "reviewed_at", "review_note", "updated_at"])
    audit.record(actor=actor, action="sites.site.return", obj=site, unit=site.unit, after={"note": note})
    return site


@transaction.atomic
def unpublish_site(site: Site, *, actor, note: str) -> Site:
    site = _locked(site)
    if not can(actor, PUBLISH_SITES, site.unit):
        raise PermissionDenied
    if site.status != SiteStatus.PUBLISHED:
        raise ValidationError(_("The site is not published."))
    note = nfc(note)
    if len(note) < 5:
        raise ValidationError({"note": _("Say why the page is withdrawn (at least a few words).")})
    site.status, site.review_note = SiteStatus.DRAFT, note
    site.save(update_fields=["status", "review_note", "updated_at"])
    audit.record(actor=actor, action="sites.site.unpublish", obj=site, unit=site.unit, after={"note": note})
    _clear_after_commit(site)
    return site


# --- Photos and media -----------------------------------------------------------------------------------------


def _stem(site: Site) -> str:
    return f"{site.code}-{get_random_string(8).lower()}"


@transaction.atomic
def add_photo(site: Site, upload, *, actor, alt: str, alt_en: str = "") -> Photo:
    site = _locked(site)
    _editable(site, actor)
    alt = nfc(alt)
    if not alt:
        raise ValidationError({"alt": _("Describe the photo in a few words (read aloud to blind visitors).")})
    if site.photos.count() >= MAX_PHOTOS:
        raise ValidationError({"image": _("A site has at most {n} photos.").format(n=MAX_PHOTOS)})
    processed = process_photo(upload, "image")
    stem = _stem(site)
    position = (site.photos.order_by("-position").values_list("position", flat=True).first() or 0) + 1
    photo = Photo(
        site=site, alt=alt, alt_en=nfc(alt_en), position=position, width=processed.width, height=processed.height
    )
    photo.image.save(f"{stem}.jpg", ContentFile(processed.large), save=False)
    photo.thumbnail.save(f"{stem}-thumb.jpg", ContentFile(processed.thumbnail), save=False)
    photo.save()
    audit.record(actor=actor, action="sites.photo.add", obj=photo, unit=site.unit, after={"site": site.pk, "alt": alt})
    site.save(update_fields=["updated_at"])
    _clear_after_commit(site)
    return photo


def _delete_files(storage, names) -> None:
    for name in names:
        if name:
            storage.delete(name)


@transaction.atomic
def delete_photo(photo: Photo, *, actor) -> None:
    site = _locked(photo.site)
    _editable(site, actor)
    files = [photo.image.name, photo.thumbnail.name]
    storage = photo.image.storage
    audit.record(actor=actor, action="sites.photo.delete", obj=photo, unit=site.unit, before={"alt": photo.alt})
    photo.delete()
    transaction.on_commit(lambda: _delete_files(storage, files))
    site.save(update_fields=["updated_at"])
    _clear_after_commit(site)


@transaction.atomic
def add_media(site: Site, upload, *, actor, kind: str, title: str) -> Media:
    site = _locked(site)
    _editable(site, actor)
    if kind not in MediaKind.values:
        raise ValidationError({"kind": _("Choose video, audio guide or document.")})
    title = nfc(title)
    if not title:
        raise ValidationError({"title": _("Give the file a title.")})
    content_type = check_media_file(upload, kind, "file")
    extension = EXTENSIONS[content_type]
    media = Media(site=site, kind=kind, title=title, size=upload.size, content_type=content_type)
    media.file.save(f"{_stem(site)}.{extension}", upload, save=False)
    media.save()
    audit.record(actor=actor, action="sites.media.add", obj=media, unit=site.unit, after={"kind": kind, "title": title})
    site.save(update_fields=["updated_at"])
    _clear_after_commit(site)
    return media


@transaction.atomic
def delete_media(media: Media, *, actor) -> None:
    site = _locked(media.site)
    _editable(site, actor)
    files, storage = [media.file.name], media.file.storage
    audit.record(actor=actor, action="sites.media.delete", obj=media, unit=site.unit, before={"title": media.title})
    media.delete()
    transaction.on_commit(lambda: _delete_files(storage, files))
    site.save(update_fields=["updated_at"])
    _clear_after_commit(site)


# --- Border markers -------------------------------------------------------------------------------------------


def clean_marker_data(data: dict, exclude: int | None = None) -> dict:
    errors: dict[str, str] = {}
    out: dict = {k: (nfc(v) if isinstance(v, str) else v) for k, v in data.items() if k in MARKER_FIELDS}
    unknown = set(data) - set(MARKER_FIELDS)
    if unknown:
        raise TypeError(f"unknown marker fields {sorted(unknown)}")
    try:
        out["number"] = int(out["number"])
        if not 0 < out["number"] <= MAX_MARKER_NUMBER:
            raise ValueError
    except (KeyError, TypeError, ValueError):
        errors["number"] = _("Give the marker number (a whole number, e.g. 678).")
    try:
        out["sub_number"] = int(out.get("sub_number") or 0)
        if not 0 <= out["sub_number"] <= MAX_SUB_NUMBER:
            raise ValueError
    except (TypeError, ValueError):
        errors["sub_number"] = _("The auxiliary index is a whole number (e.g. 1 for 677/1).")
    out.setdefault("role", MarkerRole.AUXILIARY if out.get("sub_number") else MarkerRole.MAIN)
    out.setdefault("form", MarkerForm.SINGLE)
    if out["role"] not in MarkerRole.values:
        errors["role"] = _("Choose main or auxiliary.")
    if out["form"] not in MarkerForm.values:
        errors["form"] = _("Choose single, double or triple.")
    _check_lengths(BorderMarker, out, lambda key, message: errors.setdefault(key, str(message)))
    if not errors and (out["role"] == MarkerRole.AUXILIARY) != (out["sub_number"] > 0):
        errors["sub_number"] = _("An auxiliary marker has an index (677/1); a main marker has none.")
    if not errors:
        taken = BorderMarker.objects.filter(number=out["number"], sub_number=out["sub_number"])
        if exclude is not None:
            taken = taken.exclude(site_id=exclude)
        if taken.exists():
            label = f"{out['number']}/{out['sub_number']}" if out["sub_number"] else str(out["number"])
            errors["number"] = _("Marker {label} already exists.").format(label=label)
    if errors:
        raise ValidationError(errors)
    return out


def _save_marker(site: Site, values: dict) -> BorderMarker:
    marker = getattr(site, "marker", None) if hasattr(site, "marker") else None
    if marker is None:
        marker = BorderMarker(site=site)
    for key, value in values.items():
        setattr(marker, key, value)
    marker.save()
    site.marker = marker
    return marker


def _entry_photos(uploads: Iterable, alt: str) -> list:
    """Check and resize every photo before anything is written: one bad photo refuses the whole entry."""
    processed = []
    for upload in uploads or ():
        processed.append(process_photo(upload, "photos"))
    return processed


def _save_entry_photos(processed: list, alt: str, **owner) -> None:
    for item in processed:
        stem = get_random_string(10).lower()
        photo = EntryPhoto(alt=alt, width=item.width, height=item.height, **owner)
        photo.image.save(f"{stem}.jpg", ContentFile(item.large), save=False)
        photo.thumbnail.save(f"{stem}-thumb.jpg", ContentFile(item.thumbnail), save=False)
        photo.save()


def _check_date(value, field: str = "date") -> datetime.date:
    if not isinstance(value, datetime.date):
        raise ValidationError({field: _("Give the date (dd/mm/yyyy).")})
    if value > timezone.localdate():
        raise ValidationError({field: _("The date cannot be in the future.")})
    return value


@transaction.atomic
def report_condition(
    marker: BorderMarker, *, actor, date, condition: str, note: str = "", photos: Iterable = ()
) -> ConditionReport:
    site = _locked(marker.site)
    adoption = site.adoptions.current().select_related("unit").first()
    # The adopting unit reports on its marker; the managing unit may too.
    if adoption is not None and can(actor, ADOPT_SITES, adoption.unit):
        unit = adoption.unit
    elif can(actor, EDIT_SITES, site.unit):
        unit = site.unit
    else:
        raise PermissionDenied
    date = _check_date(date)
    if condition not in MarkerCondition.values:
        raise ValidationError({"condition": _("Choose the condition of the marker.")})
    processed = _entry_photos(photos, "")
    report = ConditionReport.objects.create(
        marker=marker, date=date, condition=condition, note=nfc(note), unit=unit, reported_by=actor
    )
    alt = _("Marker {label} on {date}").format(label=marker.label, date=date.strftime("%d/%m/%Y"))
    _save_entry_photos(processed, alt, report=report)
    audit.record(
        actor=actor,
        action="sites.marker.report",
        obj=report,
        unit=unit,
        after={"marker": marker.label, "condition": condition, "photos": len(processed)},
    )
    _clear_after_commit(site)
    return report


# --- Adoption -------------------------------------------------------------------------------------------------


@transaction.atomic
def adopt_site(site: Site, *, actor, unit, since: datetime.date, note: str = "") -> Adoption:
    site = _locked(site)
    if not can(actor, ADOPT_SITES, unit):
        raise PermissionDenied
    if not site.is_published and not can(actor, EDIT_SITES, site.unit):
        raise PermissionDenied
    since = _check_date(since, "since")
    current = site.adoptions.current().select_related("unit").first()
    if current is not None:
        raise ValidationError(
            {
                "unit": _("{unit} already adopts this site since {date}.").format(
                    unit=current.unit.name, date=current.since.strftime("%d/%m/%Y")
                )
            }
        )
    adoption = Adoption.objects.create(site=site, unit=unit, since=since, note=nfc(note))
    audit.record(
        actor=actor, action="sites.adoption.create", obj=adoption, unit=unit, after={"site": site.pk, "since": since}
    )
    _clear_after_commit(site)
    return adoption


@transaction.atomic
def end_adoption(adoption: Adoption, *, actor, until: datetime.date) -> Adoption:
    adoption = Adoption.objects.select_for_update().select_related("site", "unit", "site__unit").get(pk=adoption.pk)
    if not (can(actor, ADOPT_SITES, adoption.unit) or can(actor, PUBLISH_SITES, adoption.site.unit)):
        raise PermissionDenied
    if adoption.until is not None:
        raise ValidationError(_("This adoption has already ended."))
    until = _check_date(until, "until")
    if until < adoption.since:
        raise ValidationError({"until": _("The end cannot be before the start.")})
    adoption.until = until
    adoption.save(update_fields=["until"])
    audit.record(actor=actor, action="sites.adoption.end", obj=adoption, unit=adoption.unit, after={"until": until})
    _clear_after_commit(adoption.site)
    return adoption


@transaction.atomic
def log_activity(
    adoption: Adoption,
    *,
    actor,
    date: datetime.date,
    kind: str,
    description: str = "",
    participants: int = 0,
    photos: Iterable = (),
) -> Activity:
    adoption = Adoption.objects.select_for_update().select_related("site", "unit").get(pk=adoption.pk)
    if not can(actor, ADOPT_SITES, adoption.unit):
        raise PermissionDenied
    date = _check_date(date)
    if date < adoption.since or (adoption.until is not None and date > adoption.until):
        raise ValidationError({"date": _("The date must fall within the adoption.")})
    if kind not in ActivityKind.values:
        raise ValidationError({"kind": _("Choose the kind of activity.")})
    if participants is None or participants < 0 or participants > 100_000:
        raise ValidationError({"participants": _("Give the number of participants.")})
    processed = _entry_photos(photos, "")
    activity = Activity.objects.create(
        adoption=adoption,
        date=date,
        kind=kind,
        description=nfc(description),
        participants=participants,
        created_by=actor,
    )
    alt = f"{ActivityKind(kind).label} — {adoption.site.name}, {date:%d/%m/%Y}"
    _save_entry_photos(processed, alt, activity=activity)
    audit.record(
        actor=actor,
        action="sites.activity.create",
        obj=activity,
        unit=adoption.unit,
        after={"site": adoption.site_id, "kind": kind, "date": date, "photos": len(processed)},
    )
    _clear_after_commit(adoption.site)
    return activity
