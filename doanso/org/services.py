"""Every write to the unit tree. Each function owns its transaction, its audit record and its validation.

Structural writes (create, move, merge, split, dissolve) are serialised by :func:`lock_tree`, then re-read the
units they touch, so two cadres moving units at the same moment cannot build a cycle or a stale path.
Nothing here writes member rows: a subtree moves by rewriting ``Unit.path`` with one UPDATE.
"""

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from doanso.accounts.roles import MANAGE_UNITS
from doanso.accounts.scope import can
from doanso.core import audit
from doanso.core.text import nfc

from .models import AdministrativeDivision, Twinning, Unit, UnitKind, UnitVersion

# An arbitrary constant that names the advisory lock of the tree on PostgreSQL.
TREE_LOCK_KEY = 0x0D0A5_0001
AUDIT_FIELDS = [
    "code",
    "name",
    "short_name",
    "kind",
    "org",
    "parent",
    "area_type",
    "division",
    "active_from",
    "active_to",
    "successor",
    "path",
]


def lock_tree() -> None:
    """Serialise structural writes for the rest of the transaction.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: the connection runs transactions in IMMEDIATE mode
    (settings), so the write lock is already held from BEGIN.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [TREE_LOCK_KEY])


def require(actor, action: str, unit: Unit | None) -> None:
    if unit is None:
        if not actor.is_superuser:
            raise PermissionDenied
    elif not can(actor, action, unit):
        raise PermissionDenied


def fresh(unit: Unit) -> Unit:
    return Unit.objects.select_for_update().get(pk=unit.pk)


def check_effective(effective: datetime.date, *units: Unit, field_name: str = "effective") -> None:
    today = timezone.localdate()
    if effective > today:
        raise ValidationError({field_name: _("The effective date cannot be in the future.")})
    for unit in units:
        last = unit.versions.order_by("-valid_from").values_list("valid_from", flat=True).first()
        if last and effective < last:
            raise ValidationError(
                {
                    field_name: _(
                        "The effective date must not be before {date}, the date of the last change to {unit}."
                    ).format(date=last.strftime("%d/%m/%Y"), unit=unit.name)
                }
            )


def check_active(unit: Unit, field_name: str, on: datetime.date | None = None) -> None:
    on = on or timezone.localdate()
    if unit.active_to is not None and unit.active_to <= on:
        raise ValidationError({field_name: _("{unit} is no longer active.").format(unit=unit.name)})
    if unit.active_from > on:
        raise ValidationError({field_name: _("{unit} is not active yet on that date.").format(unit=unit.name)})


def check_code_free(code: str, exclude_pk: int | None = None) -> None:
    # Codes are stored upper-cased (UnitData.cleaned), so an exact match uses the unique index.
    qs = Unit.objects.filter(code=code.upper())
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    if qs.exists():
        raise ValidationError({"code": _("The code {code} is already used by another unit.").format(code=code)})


def open_version(unit: Unit, valid_from: datetime.date, change: str, note: str = "", related=None) -> UnitVersion:
    """Close the unit's open version at ``valid_from`` and open one that copies its current attributes.

    A second change of the same kind on the same day (two renames) updates that version instead, so it does not
    leave a zero-length version behind; a different change (a rename then a move) keeps both in the history.
    """
    current = UnitVersion.objects.filter(unit=unit, valid_to__isnull=True).first()
    attrs = {
        "code": unit.code,
        "name": unit.name,
        "short_name": unit.short_name,
        "kind": unit.kind,
        "parent_id": unit.parent_id,
    }
    if current and current.valid_from == valid_from and current.change == change:
        for key, value in attrs.items():
            setattr(current, key, value)
        current.note = "; ".join(filter(None, [current.note, note]))[:500]
        current.save()
        return current
    if current:
        current.valid_to = valid_from
        current.save(update_fields=["valid_to"])
    return UnitVersion.objects.create(
        unit=unit, valid_from=valid_from, change=change, note=note[:500], related_unit=related, **attrs
    )


def end_unit(unit: Unit, on: datetime.date, change: str, note: str = "", related=None) -> None:
    """Close the open version and leave a one-day marker saying how the unit ended."""
    UnitVersion.objects.filter(unit=unit, valid_to__isnull=True).update(valid_to=on)
    UnitVersion.objects.create(
        unit=unit,
        valid_from=on,
        valid_to=on,
        change=change,
        note=note[:500],
        related_unit=related,
        code=unit.code,
        name=unit.name,
        short_name=unit.short_name,
        kind=unit.kind,
        parent_id=unit.parent_id,
    )


def rewrite_paths(unit: Unit, new_parent: Unit | None) -> int:
    """Re-root ``unit``'s whole subtree under ``new_parent`` with one UPDATE. Returns rows written."""
    old_path = unit.path
    new_path = f"{new_parent.path if new_parent else '/'}{unit.pk}/"
    depth_delta = (new_parent.depth + 1 if new_parent else 0) - unit.depth
    count = Unit.objects.filter(path__startswith=old_path).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
        depth=F("depth") + depth_delta,
    )
    Unit.objects.filter(pk=unit.pk).update(parent=new_parent)
    unit.parent = new_parent
    unit.path = new_path
    unit.depth = unit.depth + depth_delta
    return count


@dataclass
class UnitData:
    """What a new unit needs, as forms, the API and the demo seeder pass it."""

    code: str
    name: str
    kind: str
    short_name: str = ""
    org: str = "doan"
    area_type: str = ""
    division: AdministrativeDivision | None = None

    def cleaned(self) -> "UnitData":
        self.code = nfc(self.code).upper().replace(" ", "")
        self.name = nfc(self.name)
        self.short_name = nfc(self.short_name)
        if not self.code:
            raise ValidationError({"code": _("Enter a code for the unit.")})
        if not self.name:
            raise ValidationError({"name": _("Enter the name of the unit.")})
        if self.kind not in UnitKind.values:
            raise ValidationError({"kind": _("Choose a kind of unit.")})
        return self


# --- create ---------------------------------------------------------------------------------------------------


def check_create(data: UnitData, parent: Unit | None, active_from: datetime.date) -> None:
    """Validate a new unit without writing (also the form's preview)."""
    data.cleaned()
    if parent is not None:
        check_active(parent, "parent")
        if active_from < parent.active_from:
            raise ValidationError(
                {
                    "active_from": _("A unit cannot start before its parent unit ({date}).").format(
                        date=parent.active_from.strftime("%d/%m/%Y")
                    )
                }
            )
    check_code_free(data.code)


@transaction.atomic
def create_unit(
    data: UnitData,
    *,
    actor,
    parent: Unit | None,
    active_from: datetime.date | None = None,
    note: str = "",
) -> Unit:
    active_from = active_from or timezone.localdate()
    require(actor, MANAGE_UNITS, parent)
    lock_tree()
    parent = fresh(parent) if parent is not None else None
    check_create(data, parent, active_from)
    unit = Unit(
        code=data.code,
        name=data.name,
        short_name=data.short_name,
        kind=data.kind,
        org=data.org,
        area_type=data.area_type,
        division=data.division,
        parent=parent,
        active_from=active_from,
        depth=parent.depth + 1 if parent else 0,
        path="",
    )
    unit.refresh_search()
    unit.save()
    unit.path = f"{parent.path if parent else '/'}{unit.pk}/"
    Unit.objects.filter(pk=unit.pk).update(path=unit.path)
    UnitVersion.objects.create(
        unit=unit,
        valid_from=active_from,
        change=UnitVersion.Change.CREATED,
        note=note[:500],
        code=unit.code,
        name=unit.name,
        short_name=unit.short_name,
        kind=unit.kind,
        parent=parent,
    )
    audit.record(actor=actor, action="org.unit.create", obj=unit, unit=unit, after=audit.snapshot(unit, AUDIT_FIELDS))
    return unit


# --- rename and other details -------------------------------------------------------------------------------


EDITABLE = ("code", "name", "short_name", "kind", "org", "area_type", "division")


def plan_update(unit: Unit, effective: datetime.date, **changes) -> UnitData:
    """Validate changes to a unit without writing; returns the unit's data after them (the form's preview)."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise TypeError(f"update_unit() cannot change {sorted(unknown)}")
    check_active(unit, "name")
    check_effective(effective, unit)
    data = UnitData(**{key: changes.get(key, getattr(unit, key)) for key in EDITABLE}).cleaned()
    if data.code != unit.code:
        check_code_free(data.code, exclude_pk=unit.pk)
    return data


@transaction.atomic
def update_unit(unit: Unit, *, actor, effective: datetime.date | None = None, note: str = "", **changes) -> Unit:
    """Rename a unit or change its code, kind, organisation, area type or administrative division.

    Name, short name, code and kind are historical (a new version from ``effective``); area type, organisation
    and division describe the unit as it is and are simply updated.
    """
    require(actor, MANAGE_UNITS, unit)
    effective = effective or timezone.localdate()
    unit = fresh(unit)
    before = audit.snapshot(unit, AUDIT_FIELDS)
    data = plan_update(unit, effective, **changes)
    historical = (data.code, data.name, data.short_name, data.kind) != (
        unit.code,
        unit.name,
        unit.short_name,
        unit.kind,
    )
    renamed = (data.name, data.short_name) != (unit.name, unit.short_name)
    for key in EDITABLE:
        setattr(unit, key, getattr(data, key))
    unit.refresh_search()
    unit.save()
    if historical:
        change = UnitVersion.Change.RENAMED if renamed else UnitVersion.Change.UPDATED
        open_version(unit, effective, change, note)
    after = audit.snapshot(unit, AUDIT_FIELDS)
    if after != before:
        audit.record(
            actor=actor,
            action="org.unit.rename" if renamed else "org.unit.update",
            obj=unit,
            unit=unit,
            before=before,
            after=after,
        )
    return unit


# --- move -----------------------------------------------------------------------------------------------------


@dataclass
class MovePlan:
    unit: Unit
    old_parent: Unit | None
    new_parent: Unit
    effective: datetime.date
    descendants: int
    units_written: int = field(init=False)

    def __post_init__(self):
        self.units_written = self.descendants + 1


def plan_move(unit: Unit, new_parent: Unit, effective: datetime.date) -> MovePlan:
    """Validate a move and say what it will change, without writing (the form's preview)."""
    if new_parent.pk == unit.pk:
        raise ValidationError({"new_parent": _("A unit cannot be moved under itself.")})
    if new_parent.path.startswith(unit.path):
        raise ValidationError(
            {
                "new_parent": _("{target} is inside {unit}: a unit cannot be moved under its own descendant.").format(
                    target=new_parent.name, unit=unit.name
                )
            }
        )
    if unit.parent_id == new_parent.pk:
        raise ValidationError(
            {
                "new_parent": _("{unit} is already directly under {target}.").format(
                    unit=unit.name, target=new_parent.name
                )
            }
        )
    check_active(unit, "unit")
    check_active(new_parent, "new_parent")
    check_effective(effective, unit)
    descendants = Unit.objects.filter(path__startswith=unit.path).exclude(pk=unit.pk).count()
    return MovePlan(
        unit=unit, old_parent=unit.parent, new_parent=new_parent, effective=effective, descendants=descendants
    )


@transaction.atomic
def move_unit(
    unit: Unit, *, actor, new_parent: Unit, effective: datetime.date | None = None, note: str = ""
) -> MovePlan:
    effective = effective or timezone.localdate()
    require(actor, MANAGE_UNITS, unit)
    require(actor, MANAGE_UNITS, new_parent)
    lock_tree()
    unit, new_parent = fresh(unit), fresh(new_parent)
    plan = plan_move(unit, new_parent, effective)
    before = audit.snapshot(unit, AUDIT_FIELDS)
    rewrite_paths(unit, new_parent)
    open_version(unit, effective, UnitVersion.Change.MOVED, note, related=new_parent)
    audit.record(
        actor=actor,
        action="org.unit.move",
        obj=unit,
        unit=unit,
        before=before,
        after={**audit.snapshot(unit, AUDIT_FIELDS), "descendants_moved": plan.descendants},
    )
    return plan


# --- merge ----------------------------------------------------------------------------------------------------


@dataclass
class MergePlan:
    sources: list[Unit]
    target: Unit | None  # None: a new unit is created from new_unit
    new_unit: UnitData | None
    new_parent: Unit | None
    effective: datetime.date
    children: list[Unit]  # active children that move under the target
    roles_moved: int


def plan_merge(
    sources: list[Unit],
    *,
    effective: datetime.date,
    into: Unit | None = None,
    new_unit: UnitData | None = None,
    new_parent: Unit | None = None,
) -> MergePlan:
    if (into is None) == (new_unit is None):
        raise ValueError("merge needs exactly one of `into` and `new_unit`")
    ids = [s.pk for s in sources]
    if len(set(ids)) != len(ids):
        raise ValidationError({"sources": _("The same unit is listed twice.")})
    if into is not None:
        if not sources:
            raise ValidationError({"sources": _("Choose at least one unit to merge.")})
        if into.pk in ids:
            raise ValidationError({"into": _("A unit cannot be merged into itself.")})
        check_active(into, "into")
    else:
        assert new_unit is not None
        if len(sources) < 2:
            raise ValidationError({"sources": _("Choose at least two units to merge into a new unit.")})
        new_unit.cleaned()
        check_code_free(new_unit.code)
        if new_parent is None:
            raise ValidationError({"new_parent": _("Choose the parent unit of the new unit.")})
        check_active(new_parent, "new_parent")
    for source in sources:
        check_active(source, "sources")
        for other in sources:
            if other.pk != source.pk and source.path.startswith(other.path):
                raise ValidationError(
                    {
                        "sources": _("{a} is inside {b}; merge only units that are not nested.").format(
                            a=source.name, b=other.name
                        )
                    }
                )
        anchor = into or new_parent
        assert anchor is not None
        if anchor.path.startswith(source.path):
            field_name = "into" if into else "new_parent"
            raise ValidationError(
                {
                    field_name: _("{target} is inside {unit}: choose a unit outside the units being merged.").format(
                        target=anchor.name, unit=source.name
                    )
                }
            )
    check_effective(effective, *sources, *([into] if into else []))
    children = list(Unit.objects.filter(parent__in=sources).active(effective).order_by("path"))
    from doanso.accounts.models import RoleAssignment

    roles = RoleAssignment.objects.filter(unit__in=sources).count()
    return MergePlan(
        sources=sources,
        target=into,
        new_unit=new_unit,
        new_parent=new_parent,
        effective=effective,
        children=children,
        roles_moved=roles,
    )


@transaction.atomic
def merge_units(
    sources: list[Unit],
    *,
    actor,
    effective: datetime.date | None = None,
    into: Unit | None = None,
    new_unit: UnitData | None = None,
    new_parent: Unit | None = None,
    note: str = "",
) -> Unit:
    """Merge ``sources`` into ``into`` (A into B), or into a new unit built from ``new_unit`` (A and B into C).

    Active children follow the target. Each source ends on ``effective`` and is re-parented under the target
    with ``successor`` set, so that anything still pointing at a source (members, records) is counted in the
    target's subtree without rewriting it. Role assignments at a source move to the target.
    """
    effective = effective or timezone.localdate()
    for source in sources:
        require(actor, MANAGE_UNITS, source)
    require(actor, MANAGE_UNITS, into or new_parent)
    lock_tree()
    sources = [fresh(s) for s in sources]
    into = fresh(into) if into else None
    new_parent = fresh(new_parent) if new_parent else None
    plan = plan_merge(sources, effective=effective, into=into, new_unit=new_unit, new_parent=new_parent)
    names = ", ".join(s.name for s in sources)
    if into is None:
        assert new_unit is not None
        target = create_unit(
            new_unit,
            actor=actor,
            parent=new_parent,
            active_from=effective,
            note=_("Formed by merging {names}").format(names=names),
        )
    else:
        target = into
        open_version(
            target, effective, UnitVersion.Change.ABSORBED, _("Took in {names}").format(names=names), related=None
        )
    for child in plan.children:
        child = fresh(child)
        rewrite_paths(child, target)
        open_version(
            child,
            effective,
            UnitVersion.Change.MOVED,
            _("Followed the merge into {target}").format(target=target.name),
            related=target,
        )
    from doanso.accounts.models import RoleAssignment

    for source in sources:
        before = audit.snapshot(source, AUDIT_FIELDS)
        rewrite_paths(source, target)
        source.active_to = effective
        source.successor = target
        source.save(update_fields=["active_to", "successor", "updated_at"])
        end_unit(source, effective, UnitVersion.Change.MERGED, note, related=target)
        for assignment in RoleAssignment.objects.filter(unit=source):
            if RoleAssignment.objects.filter(user=assignment.user_id, role=assignment.role, unit=target).exists():
                assignment.delete()
            else:
                assignment.unit = target
                assignment.save(update_fields=["unit"])
        Twinning.objects.filter(Q(first=source) | Q(second=source), until__isnull=True).update(until=effective)
        audit.record(
            actor=actor,
            action="org.unit.merge",
            obj=source,
            unit=target,
            before=before,
            after=audit.snapshot(source, AUDIT_FIELDS),
        )
    return target


# --- split ----------------------------------------------------------------------------------------------------


@dataclass
class SplitPart:
    data: UnitData
    children: list[Unit]


def plan_split(unit: Unit, parts: list[SplitPart], effective: datetime.date) -> dict:
    check_active(unit, "unit")
    if not parts:
        raise ValidationError({"parts": _("Describe at least one new unit.")})
    if unit.parent_id is None:
        raise ValidationError({"unit": _("The root unit cannot be split.")})
    check_effective(effective, unit)
    seen_codes: set[str] = set()
    seen_children: set[int] = set()
    for part in parts:
        part.data.cleaned()
        if part.data.code in seen_codes:
            raise ValidationError(
                {"parts": _("The code {code} is given to two new units.").format(code=part.data.code)}
            )
        seen_codes.add(part.data.code)
        check_code_free(part.data.code)
        for child in part.children:
            if child.parent_id != unit.pk or not child.is_active:
                raise ValidationError(
                    {
                        "parts": _("{child} is not an active unit directly under {unit}.").format(
                            child=child.name, unit=unit.name
                        )
                    }
                )
            if child.pk in seen_children:
                raise ValidationError({"parts": _("{child} is given to two new units.").format(child=child.name)})
            seen_children.add(child.pk)
    return {"unit": unit, "parts": parts, "children_moved": len(seen_children)}


@transaction.atomic
def split_unit(
    unit: Unit, parts: list[SplitPart], *, actor, effective: datetime.date | None = None, note: str = ""
) -> list[Unit]:
    """Split off new sibling units from ``unit``, each taking some of its children. ``unit`` carries on with
    the rest (dissolve it afterwards if it should end)."""
    effective = effective or timezone.localdate()
    require(actor, MANAGE_UNITS, unit)
    lock_tree()
    unit = fresh(unit)
    for part in parts:
        part.children = [fresh(c) for c in part.children]
    plan_split(unit, parts, effective)
    parent = unit.parent
    created = []
    for part in parts:
        new = create_unit(
            part.data,
            actor=actor,
            parent=parent,
            active_from=effective,
            note=_("Split from {unit}").format(unit=unit.name),
        )
        UnitVersion.objects.filter(unit=new).update(related_unit=unit)
        for child in part.children:
            rewrite_paths(child, new)
            open_version(
                child,
                effective,
                UnitVersion.Change.MOVED,
                _("Moved to {new} when {unit} was split").format(new=new.name, unit=unit.name),
                related=new,
            )
        created.append(new)
    open_version(
        unit,
        effective,
        UnitVersion.Change.SPLIT,
        _("Split into {names}").format(names=", ".join(u.name for u in created)),
    )
    audit.record(
        actor=actor,
        action="org.unit.split",
        obj=unit,
        unit=unit,
        after={"new_units": [u.pk for u in created], "note": note},
    )
    return created


# --- dissolve -------------------------------------------------------------------------------------------------


@dataclass
class DissolvePlan:
    unit: Unit
    effective: datetime.date
    twinnings: int
    roles: int


def plan_dissolve(unit: Unit, effective: datetime.date, reason: str) -> DissolvePlan:
    """Validate a dissolution and say what it ends, without writing (the form's preview)."""
    from doanso.accounts.models import RoleAssignment
    from doanso.members.models import Member, MemberStatus

    check_active(unit, "unit")
    check_effective(effective, unit)
    if unit.parent_id is None:
        raise ValidationError({"unit": _("The root unit cannot be dissolved.")})
    if not nfc(reason):
        raise ValidationError({"reason": _("Give the reason or the decision that dissolves the unit.")})
    active_children = Unit.objects.filter(parent=unit).active(effective).count()
    if active_children:
        raise ValidationError(
            {
                "unit": ngettext(
                    "{unit} still has {n} active unit under it: move, merge or dissolve it first.",
                    "{unit} still has {n} active units under it: move, merge or dissolve them first.",
                    active_children,
                ).format(unit=unit.name, n=active_children)
            }
        )
    # A member's file must always be somewhere active: members go first (transfer, or merge the unit instead).
    members = Member.objects.filter(unit=unit, status=MemberStatus.ACTIVE).count()
    if members:
        raise ValidationError(
            {
                "unit": ngettext(
                    "{unit} still has {n} member: transfer them or merge the unit instead.",
                    "{unit} still has {n} members: transfer them or merge the unit instead.",
                    members,
                ).format(unit=unit.name, n=members)
            }
        )
    return DissolvePlan(
        unit=unit,
        effective=effective,
        twinnings=Twinning.objects.filter(Q(first=unit) | Q(second=unit), until__isnull=True).count(),
        roles=RoleAssignment.objects.filter(unit=unit).count(),
    )


@transaction.atomic
def dissolve_unit(unit: Unit, *, actor, effective: datetime.date | None = None, reason: str = "") -> Unit:
    effective = effective or timezone.localdate()
    require(actor, MANAGE_UNITS, unit)
    lock_tree()
    unit = fresh(unit)
    plan_dissolve(unit, effective, reason)
    before = audit.snapshot(unit, AUDIT_FIELDS)
    unit.active_to = effective
    unit.save(update_fields=["active_to", "updated_at"])
    end_unit(unit, effective, UnitVersion.Change.DISSOLVED, nfc(reason))
    Twinning.objects.filter(Q(first=unit) | Q(second=unit), until__isnull=True).update(until=effective)
    audit.record(
        actor=actor,
        action="org.unit.dissolve",
        obj=unit,
        unit=unit,
        before=before,
        after={**audit.snapshot(unit, AUDIT_FIELDS), "reason": nfc(reason)},
    )
    return unit


# --- twinning -------------------------------------------------------------------------------------------------


def check_twin(a: Unit, b: Unit, since: datetime.date) -> None:
    """Validate a twinning without writing (also the form's preview)."""
    if a.pk == b.pk:
        raise ValidationError({"other": _("A unit cannot be twinned with itself.")})
    check_active(a, "unit")
    check_active(b, "other")
    if since > timezone.localdate():
        raise ValidationError({"since": _("The date cannot be in the future.")})
    first, second = sorted([a, b], key=lambda u: u.pk)
    if Twinning.objects.filter(first=first, second=second, until__isnull=True).exists():
        raise ValidationError({"other": _("{a} and {b} are already twinned.").format(a=a.name, b=b.name)})


@transaction.atomic
def twin_units(a: Unit, b: Unit, *, actor, since: datetime.date | None = None, note: str = "") -> Twinning:
    """Pair two units (kết nghĩa). The actor manages ``a``; ``b`` may be anywhere in the province."""
    since = since or timezone.localdate()
    require(actor, MANAGE_UNITS, a)
    check_twin(a, b, since)
    first, second = sorted([a, b], key=lambda u: u.pk)
    twinning = Twinning.objects.create(first=first, second=second, since=since, note=nfc(note))
    audit.record(
        actor=actor,
        action="org.twinning.create",
        obj=twinning,
        unit=a,
        after={"first": first.pk, "second": second.pk, "since": since},
    )
    return twinning


@transaction.atomic
def end_twinning(twinning: Twinning, *, actor, until: datetime.date | None = None) -> Twinning:
    until = until or timezone.localdate()
    twinning = Twinning.objects.select_for_update().get(pk=twinning.pk)
    if not (can(actor, MANAGE_UNITS, twinning.first) or can(actor, MANAGE_UNITS, twinning.second)):
        raise PermissionDenied
    if twinning.until is not None:
        raise ValidationError({"until": _("This twinning has already ended.")})
    if until < twinning.since:
        raise ValidationError({"until": _("The end date cannot be before the start date.")})
    twinning.until = until
    twinning.save(update_fields=["until"])
    audit.record(actor=actor, action="org.twinning.end", obj=twinning, unit=twinning.first, after={"until": until})
    return twinning
