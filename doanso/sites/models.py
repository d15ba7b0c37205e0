"""Digital sites (địa chỉ đỏ, relics, youth works, memorials, border markers), their media, QR scans and adoption.

A border marker is a site of kind ``border_marker`` with a :class:`BorderMarker` row for what only markers have
(number, type, border section, Lao province, condition reports): so the map, the public page, the QR board and
adoption work the same for every place.

``Site.code`` is the short code of the QR board: assigned once at creation and never changed by any edit, so a
board printed today keeps opening the right page.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from doanso.core.text import fold, vn_sort_key

# Letters and digits that cannot be confused on a printed board (no 0/O, 1/I/L).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 6


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


# Marker numbers on the Viet Nam – Laos border run to a few thousand; the bounds keep forged values out of the
# database's integer columns.
MAX_MARKER_NUMBER = 99_999
MAX_SUB_NUMBER = 999


class SiteKind(models.TextChoices):
    RED_ADDRESS = "red_address", _("Red address")
    RELIC = "relic", _("Historical relic")
    YOUTH_WORK = "youth_work", _("Youth work")
    MEMORIAL = "memorial", _("Memorial")
    BORDER_MARKER = "border_marker", _("Border marker")
    OTHER = "other", _("Other place")


class RelicRank(models.TextChoices):
    SPECIAL_NATIONAL = "special_national", _("Special national relic")
    NATIONAL = "national", _("National relic")
    PROVINCIAL = "provincial", _("Provincial relic")


class SiteStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted for review")
    PUBLISHED = "published", _("Published")


class SiteQuerySet(models.QuerySet):
    def restrict(self, user, action: str):
        from doanso.accounts.scope import scope_q

        return self.filter(scope_q(user, action, "unit"))

    def published(self):
        return self.filter(status=SiteStatus.PUBLISHED)


class Site(models.Model):
    code = models.CharField(_("short code"), max_length=12, unique=True, default=new_code, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=SiteKind.choices)
    rank = models.CharField(_("relic rank"), max_length=20, choices=RelicRank.choices, blank=True)
    name = models.CharField(_("name"), max_length=255)
    name_en = models.CharField(_("name (English)"), max_length=255, blank=True)
    summary = models.TextField(_("summary"), max_length=600, blank=True)
    summary_en = models.TextField(_("summary (English)"), max_length=600, blank=True)
    # Sanitised HTML (services.clean_rich_text): only what the public page may show.
    history = models.TextField(_("history"), blank=True)
    history_en = models.TextField(_("history (English)"), blank=True)
    visiting_hours = models.CharField(_("visiting hours"), max_length=255, blank=True)
    visiting_hours_en = models.CharField(_("visiting hours (English)"), max_length=255, blank=True)
    division = models.ForeignKey(
        "org.AdministrativeDivision",
        verbose_name=_("commune"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sites",
    )
    street_address = models.CharField(_("address"), max_length=255, blank=True)
    legacy_address = models.CharField(
        _("address before 2025"),
        max_length=255,
        blank=True,
        help_text=_("The address as written before the 1 July 2025 reform (commune, district, province)."),
    )
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    video_url = models.URLField(_("video link"), max_length=500, blank=True)
    unit = models.ForeignKey(
        "org.Unit", verbose_name=_("managing unit"), on_delete=models.PROTECT, related_name="managed_sites"
    )
    status = models.CharField(_("status"), max_length=12, choices=SiteStatus.choices, default=SiteStatus.DRAFT)
    is_sample = models.BooleanField(_("sample data"), default=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    review_note = models.CharField(_("review note"), max_length=500, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    search_name = models.CharField(max_length=600, editable=False)
    sort_key = models.CharField(max_length=600, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SiteQuerySet.as_manager()

    class Meta:
        ordering = ["sort_key", "id"]
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        indexes = [
            models.Index(fields=["status", "kind"], name="sites_site_status_kind"),
            models.Index(fields=["search_name"], name="sites_site_search"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(rank="") | Q(kind="relic"), name="site_rank_only_for_relics"),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__isnull=False, longitude__isnull=False),
                name="site_coordinates_both_or_none",
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="site_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="site_longitude_range",
            ),
            models.CheckConstraint(
                condition=~Q(status="published") | Q(reviewer__isnull=False, published_at__isnull=False),
                name="site_published_has_reviewer",
            ),
        ]

    def __str__(self):
        return self.name

    def refresh_search(self) -> None:
        marker = getattr(self, "marker", None) if self.pk else None
        number = marker.label if marker is not None else ""
        self.search_name = fold(f"{self.name} {self.name_en} {self.code} {number} {self.street_address}")[:600]
        self.sort_key = vn_sort_key(self.name)[:600]

    @property
    def is_published(self) -> bool:
        return self.status == SiteStatus.PUBLISHED

    @property
    def has_location(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    def localized(self, field: str) -> str:
        """The English text on the English page when there is one; the Vietnamese otherwise."""
        if (get_language() or "vi").startswith("en"):
            return getattr(self, f"{field}_en") or getattr(self, field)
        return getattr(self, field)

    @property
    def title(self) -> str:
        return self.localized("name")

    @property
    def localized_summary(self) -> str:
        return self.localized("summary")

    @property
    def localized_history(self) -> str:
        return self.localized("history")

    @property
    def localized_hours(self) -> str:
        return self.localized("visiting_hours")

    @property
    def kind_label(self) -> str:
        if self.kind == SiteKind.RELIC and self.rank:
            return str(RelicRank(self.rank).label)
        return str(SiteKind(self.kind).label)


def _photo_path(instance, filename: str) -> str:
    return f"sites/{instance.site.code}/photos/{filename}"


class Photo(models.Model):
    """A photo of a site, stored resized (``image``, at most ``media.LARGE`` px) with a thumbnail: the phone of
    a visitor never downloads the 20-megapixel original."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(_("photo"), upload_to=_photo_path)
    thumbnail = models.ImageField(upload_to=_photo_path)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    alt = models.CharField(_("description (alt text)"), max_length=255)
    alt_en = models.CharField(_("description in English"), max_length=255, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("photo")
        verbose_name_plural = _("photos")

    def __str__(self):
        return self.alt

    @property
    def alt_text(self) -> str:
        if (get_language() or "vi").startswith("en"):
            return self.alt_en or self.alt
        return self.alt


class MediaKind(models.TextChoices):
    VIDEO = "video", _("Video")
    AUDIO = "audio", _("Audio guide")
    DOCUMENT = "document", _("Document")


def _media_path(instance, filename: str) -> str:
    return f"sites/{instance.site.code}/{instance.kind}/{filename}"


class Media(models.Model):
    """A video, an audio guide or a document of a site (public files: the page links them)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="media")
    kind = models.CharField(_("kind"), max_length=10, choices=MediaKind.choices)
    title = models.CharField(_("title"), max_length=255)
    file = models.FileField(_("file"), upload_to=_media_path)
    size = models.PositiveBigIntegerField(default=0)
    content_type = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "id"]
        verbose_name = _("media file")
        verbose_name_plural = _("media files")

    def __str__(self):
        return self.title


class MarkerRole(models.TextChoices):
    MAIN = "main", _("Main marker")
    AUXILIARY = "auxiliary", _("Auxiliary marker")


class MarkerForm(models.TextChoices):
    SINGLE = "single", _("Single")
    DOUBLE = "double", _("Double")
    TRIPLE = "triple", _("Triple")


class BorderMarker(models.Model):
    """Cột mốc / cọc dấu biên giới. The number is the official one (676–735 on the former Quảng Nam – Sê Kông
    border); an auxiliary marker carries its main marker's number and its own index ("677/1")."""

    site = models.OneToOneField(Site, on_delete=models.CASCADE, related_name="marker")
    number = models.PositiveIntegerField(_("marker number"))
    sub_number = models.PositiveSmallIntegerField(_("auxiliary index"), default=0)
    role = models.CharField(_("type"), max_length=10, choices=MarkerRole.choices, default=MarkerRole.MAIN)
    form = models.CharField(_("form"), max_length=10, choices=MarkerForm.choices, default=MarkerForm.SINGLE)
    border_section = models.CharField(_("border section"), max_length=255, blank=True)
    lao_province = models.CharField(_("neighbouring Lao province"), max_length=100, blank=True)

    class Meta:
        ordering = ["number", "sub_number"]
        verbose_name = _("border marker")
        verbose_name_plural = _("border markers")
        constraints = [
            models.UniqueConstraint(fields=["number", "sub_number"], name="marker_number_unique"),
            models.CheckConstraint(
                condition=Q(role="main", sub_number=0) | Q(role="auxiliary", sub_number__gt=0),
                name="marker_auxiliary_has_index",
            ),
        ]

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        return f"{self.number}/{self.sub_number}" if self.sub_number else str(self.number)


class MarkerCondition(models.TextChoices):
    GOOD = "good", _("Good")
    WORN = "worn", _("Worn, needs care")
    DAMAGED = "damaged", _("Damaged")
    MISSING = "missing", _("Missing or moved")


class ConditionReport(models.Model):
    marker = models.ForeignKey(BorderMarker, on_delete=models.CASCADE, related_name="reports")
    date = models.DateField(_("date"))
    condition = models.CharField(_("condition"), max_length=10, choices=MarkerCondition.choices)
    note = models.TextField(_("note"), max_length=2000, blank=True)
    unit = models.ForeignKey("org.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("condition report")
        verbose_name_plural = _("condition reports")

    def __str__(self):
        return f"{self.marker} {self.date:%d/%m/%Y}"


class AdoptionQuerySet(models.QuerySet):
    def restrict(self, user, action: str):
        from doanso.accounts.scope import scope_q

        return self.filter(scope_q(user, action, "unit"))

    def current(self):
        return self.filter(until__isnull=True)


class Adoption(models.Model):
    """Nhận đỡ đầu: a unit looks after a site or marker from ``since``; at most one current adoption a site."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="adoptions")
    unit = models.ForeignKey("org.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="adoptions")
    since = models.DateField(_("since"))
    until = models.DateField(_("until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AdoptionQuerySet.as_manager()

    class Meta:
        ordering = ["-since", "-id"]
        verbose_name = _("adoption")
        verbose_name_plural = _("adoptions")
        constraints = [
            models.UniqueConstraint(fields=["site"], condition=Q(until__isnull=True), name="one_current_adoption"),
            models.CheckConstraint(
                condition=Q(until__isnull=True) | Q(until__gte=models.F("since")), name="adoption_dates_in_order"
            ),
        ]

    def __str__(self):
        return f"{self.unit} — {self.site}"


class ActivityKind(models.TextChoices):
    PATROL = "patrol", _("Patrol")
    CLEAN_UP = "clean_up", _("Clean-up")
    FLAG_CEREMONY = "flag_ceremony", _("Flag ceremony")
    RESTORATION = "restoration", _("Restoration or upkeep")
    VISIT = "visit", _("Visit and tradition education")
    OTHER = "other", _("Other activity")


class Activity(models.Model):
    """One entry in the log of an adoption: what the unit did there, when, with how many people."""

    adoption = models.ForeignKey(Adoption, on_delete=models.CASCADE, related_name="activities")
    date = models.DateField(_("date"))
    kind = models.CharField(_("activity"), max_length=16, choices=ActivityKind.choices)
    description = models.TextField(_("description"), max_length=2000, blank=True)
    participants = models.PositiveIntegerField(_("participants"), default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")

    def __str__(self):
        return f"{self.get_kind_display()} {self.date:%d/%m/%Y}"


def _entry_photo_path(instance, filename: str) -> str:
    return f"sites/log/{timezone.now():%Y/%m}/{filename}"


class EntryPhoto(models.Model):
    """A photo attached to an activity or a condition report (resized like site photos)."""

    activity = models.ForeignKey(Activity, null=True, blank=True, on_delete=models.CASCADE, related_name="photos")
    report = models.ForeignKey(ConditionReport, null=True, blank=True, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to=_entry_photo_path)
    thumbnail = models.ImageField(upload_to=_entry_photo_path)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    alt = models.CharField(_("description (alt text)"), max_length=255)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(activity__isnull=False, report__isnull=True)
                | Q(activity__isnull=True, report__isnull=False),
                name="entry_photo_one_owner",
            )
        ]

    def __str__(self):
        return self.alt

    @property
    def alt_text(self) -> str:
        return self.alt


class ScanCount(models.Model):
    """How many times a site's page was opened from its QR code on a day. Nothing about the visitor is kept."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="scans")
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["site", "day"], name="one_scan_row_per_site_day")]

    def __str__(self):
        return f"{self.site_id} {self.day}: {self.count}"
