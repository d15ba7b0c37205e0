import datetime

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from doanso.core.text import fold


class Organisation(models.TextChoices):
    UNION = "doan", _("Youth Union")
    ASSOCIATION = "hoi", _("Youth Association")
    PIONEERS = "doi", _("Young Pioneers")


class UnitKind(models.TextChoices):
    PROVINCE = "province", _("Provincial union")
    DISTRICT = "district", _("District union")
    COMMUNE = "commune", _("Commune union")
    BLOCK = "block", _("Block union")
    GRASSROOTS = "grassroots", _("Grassroots union")
    GRASSROOTS_BRANCH = "grassroots_branch", _("Grassroots branch")
    SUB_UNION = "sub_union", _("Sub-union")
    BRANCH = "branch", _("Branch")
    OTHER = "other", _("Other unit")


class AreaType(models.TextChoices):
    MOUNTAIN = "mountain", _("Mountain")
    LOWLAND = "lowland", _("Lowland")
    ISLAND = "island", _("Island")
    URBAN = "urban", _("Urban")


class DivisionLevel(models.TextChoices):
    PROVINCE = "province", _("Province")
    COMMUNE = "commune", _("Commune")


class AdministrativeDivision(models.Model):
    """A province or commune of the two-level system in force since 1 July 2025 (``vietnam-provinces``).

    Filled by a data migration from the package; codes are the official ones (province 48 = Đà Nẵng).
    """

    code = models.CharField(_("code"), max_length=8, unique=True)
    level = models.CharField(_("level"), max_length=10, choices=DivisionLevel.choices)
    name = models.CharField(_("name"), max_length=100)
    division_type = models.CharField(_("type"), max_length=40)
    province = models.ForeignKey(
        "self", verbose_name=_("province"), null=True, blank=True, on_delete=models.CASCADE, related_name="communes"
    )
    search_name = models.CharField(max_length=150, db_index=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("administrative division")
        verbose_name_plural = _("administrative divisions")

    def __str__(self):
        if self.level == DivisionLevel.COMMUNE and self.province is not None:
            return f"{self.name}, {self.province.name}"
        return self.name


class UnitQuerySet(models.QuerySet):
    def restrict(self, user, action: str = "org.view"):
        from doanso.accounts.scope import scope_q

        return self.filter(scope_q(user, action))

    def active(self, on: datetime.date | None = None):
        on = on or timezone.localdate()
        return self.filter(Q(active_to__isnull=True) | Q(active_to__gt=on), active_from__lte=on)

    def active_during(self, start: datetime.date, end: datetime.date):
        """Units that were active on at least one day of [start, end] — the count later reports use."""
        return self.filter(Q(active_to__isnull=True) | Q(active_to__gt=start), active_from__lte=end)

    def subtree(self, unit, include_self: bool = True):
        qs = self.filter(path__startswith=unit.path)
        return qs if include_self else qs.exclude(pk=unit.pk)


class Unit(models.Model):
    """One node of the organisation tree, at any depth.

    ``parent`` is the truth; ``path`` ("/1/7/42/") is a materialised copy of the ancestry that serves subtree
    queries with one indexed prefix match. Only ``services`` write either. A unit that ends (merged,
    dissolved) keeps its row with ``active_to`` set; a merged unit is re-parented under its successor so that
    whatever still points at it (members, records) counts in the successor's subtree without being rewritten.
    """

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=255)
    short_name = models.CharField(_("short name"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=UnitKind.choices)
    org = models.CharField(_("organisation"), max_length=4, choices=Organisation.choices, default=Organisation.UNION)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent unit"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=255, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    area_type = models.CharField(_("area type"), max_length=10, choices=AreaType.choices, blank=True)
    division = models.ForeignKey(
        AdministrativeDivision,
        verbose_name=_("administrative division"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="units",
    )
    active_from = models.DateField(_("active from"))
    active_to = models.DateField(_("active until"), null=True, blank=True)
    successor = models.ForeignKey(
        "self",
        verbose_name=_("successor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="predecessors",
    )
    search_name = models.CharField(max_length=400, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UnitQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        indexes = [
            models.Index(fields=["path"], name="org_unit_path_prefix", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["search_name"], name="org_unit_search"),
            models.Index(fields=["parent", "active_to"], name="org_unit_children"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(active_to__isnull=True) | Q(active_to__gte=models.F("active_from")),
                name="unit_active_dates_in_order",
            ),
            models.CheckConstraint(condition=~Q(successor=models.F("id")), name="unit_not_own_successor"),
        ]

    def __str__(self):
        return self.name

    @property
    def is_active(self) -> bool:
        return self.active_to is None or self.active_to > timezone.localdate()

    @property
    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/")[:-1] if part]

    def ancestors(self):
        """Ancestors from the root down, in one query."""
        ids = self.ancestor_ids
        by_id = Unit.objects.in_bulk(ids)
        return [by_id[i] for i in ids if i in by_id]

    def is_descendant_of(self, other: "Unit") -> bool:
        return self.path.startswith(other.path) and self.pk != other.pk

    def refresh_search(self) -> None:
        self.search_name = fold(f"{self.name} {self.short_name} {self.code}")

    def clean(self):
        if self.active_to and self.active_from and self.active_to < self.active_from:
            raise ValidationError({"active_to": _("The end date cannot be before the start date.")})


class UnitVersion(models.Model):
    """What a unit was called and where it sat during [valid_from, valid_to). The tree as of any date is
    read from these rows."""

    class Change(models.TextChoices):
        CREATED = "created", _("Created")
        RENAMED = "renamed", _("Renamed")
        MOVED = "moved", _("Moved")
        MERGED = "merged", _("Merged into another unit")
        ABSORBED = "absorbed", _("Took in merged units")
        SPLIT = "split", _("Split")
        DISSOLVED = "dissolved", _("Dissolved")
        UPDATED = "updated", _("Details changed")

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="versions")
    valid_from = models.DateField(_("from"))
    valid_to = models.DateField(_("until"), null=True, blank=True)
    change = models.CharField(_("change"), max_length=16, choices=Change.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=255)
    short_name = models.CharField(_("short name"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=UnitKind.choices)
    parent = models.ForeignKey(
        Unit, verbose_name=_("parent unit"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    related_unit = models.ForeignKey(
        Unit, verbose_name=_("related unit"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["unit", "valid_from", "id"]
        verbose_name = _("unit version")
        verbose_name_plural = _("unit versions")
        indexes = [models.Index(fields=["valid_from", "valid_to"], name="org_unitversion_period")]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="unitversion_dates_in_order",
            ),
            models.UniqueConstraint(
                fields=["unit"], condition=Q(valid_to__isnull=True), name="one_open_version_per_unit"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.valid_from} – {self.valid_to or '…'})"


class TwinningQuerySet(models.QuerySet):
    def restrict(self, user, action: str = "org.view"):
        from doanso.accounts.scope import scope_q

        return self.filter(scope_q(user, action, "first") | scope_q(user, action, "second"))


class Twinning(models.Model):
    """Kết nghĩa: a lasting pair of units, typically a lowland unit with a mountain one."""

    first = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    second = models.ForeignKey(Unit, verbose_name=_("twinned unit"), on_delete=models.PROTECT, related_name="+")
    since = models.DateField(_("since"))
    until = models.DateField(_("until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)

    objects = TwinningQuerySet.as_manager()

    class Meta:
        ordering = ["-since"]
        verbose_name = _("twinning")
        verbose_name_plural = _("twinnings")
        constraints = [
            models.CheckConstraint(condition=Q(first__lt=models.F("second")), name="twinning_ordered_pair"),
            models.UniqueConstraint(
                fields=["first", "second"], condition=Q(until__isnull=True), name="one_open_twinning_per_pair"
            ),
        ]

    def __str__(self):
        return f"{self.first} ↔ {self.second}"
