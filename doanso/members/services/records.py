"""Creating and editing member records, bulk adds, and revealing protected fields (with an access record)."""

from collections.abc import Iterable
from itertools import batched

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from doanso.accounts.phones import normalise_phone
from doanso.accounts.roles import MANAGE_MEMBERS, VIEW_SENSITIVE
from doanso.accounts.scope import can
from doanso.core import audit
from doanso.core.text import nfc
from doanso.members.models import Member, MemberEvent, MemberStatus
from doanso.members.privacy import SENSITIVE_FIELDS, record_reveal
from doanso.members.reference import resolve_ethnicity
from doanso.members.validators import admission_age_errors, citizen_id_errors, normalise_citizen_id

# Fields a cadre edits on the record form (status, unit and the timeline change only through lifecycle services).
RECORD_FIELDS = (
    "kind",
    "family_name",
    "middle_name",
    "given_name",
    "other_names",
    "date_of_birth",
    "sex",
    "ethnicity",
    "religion",
    "citizen_id",
    "phone",
    "email",
    "hometown",
    "hometown_address",
    "residence",
    "residence_address",
    "occupation",
    "is_salaried",
    "schooling",
    "qualification",
    "political_theory",
    "foreign_language",
    "it_skill",
    "joined_on",
    "admitted_at",
    "card_number",
    "party_joined_on",
    "notes",
)
NAME_FIELDS = ("family_name", "middle_name", "given_name", "other_names")


def clean_record(data: dict) -> dict:
    """Normalise and check record values shared by the form, the API and imports.

    Returns the cleaned values; raises ValidationError keyed by field with every problem found.
    """
    cleaned = dict(data)
    errors: dict[str, list[str]] = {}
    for name in NAME_FIELDS:
        if name in cleaned:
            cleaned[name] = nfc(cleaned[name] or "")
    for name in ("family_name", "given_name"):
        if name in cleaned and not cleaned[name]:
            errors.setdefault(name, []).append(_("This field is required."))
    if cleaned.get("ethnicity"):
        resolved = resolve_ethnicity(cleaned["ethnicity"])
        if resolved is None:
            errors.setdefault("ethnicity", []).append(
                _("“{value}” is not one of the 54 ethnic groups.").format(value=cleaned["ethnicity"])
            )
        else:
            cleaned["ethnicity"] = resolved
    if "citizen_id" in cleaned:
        cleaned["citizen_id"] = normalise_citizen_id(cleaned["citizen_id"]) or None
    if "phone" in cleaned:
        raw = (cleaned["phone"] or "").strip()
        phone = normalise_phone(raw) if raw else ""
        if raw and not phone:
            errors.setdefault("phone", []).append(_("“{value}” is not a valid phone number.").format(value=raw))
        cleaned["phone"] = phone or ""
    if "card_number" in cleaned:
        cleaned["card_number"] = (cleaned["card_number"] or "").strip() or None
    dob, sex = cleaned.get("date_of_birth"), cleaned.get("sex")
    if cleaned.get("citizen_id"):
        for message in citizen_id_errors(cleaned["citizen_id"], dob, sex):
            errors.setdefault("citizen_id", []).append(message)
    today = timezone.localdate()
    if dob and dob > today:
        errors.setdefault("date_of_birth", []).append(_("The date of birth is in the future."))
    joined = cleaned.get("joined_on")
    if joined and dob and cleaned.get("kind", "doan") == "doan":
        if joined > today:
            errors.setdefault("joined_on", []).append(_("The date cannot be in the future."))
        else:
            for message in admission_age_errors(dob, joined):
                errors.setdefault("joined_on", []).append(message)
    party = cleaned.get("party_joined_on")
    if party and dob and party <= dob:
        errors.setdefault("party_joined_on", []).append(_("The date must be after the date of birth."))
    if errors:
        raise ValidationError(errors)
    return cleaned


def _check_unique(member: Member) -> None:
    clashes = Member.objects.exclude(pk=member.pk)
    if member.citizen_id and clashes.filter(citizen_id=member.citizen_id).exists():
        raise ValidationError({"citizen_id": _("Another member already has this citizen ID.")})
    if member.card_number and clashes.filter(card_number=member.card_number).exists():
        raise ValidationError({"card_number": _("Another member already has this card number.")})


def audit_view(member: Member, fields=RECORD_FIELDS) -> dict:
    """The record as the audit log keeps it: protected fields only say whether they are set (Decree 13/2023)."""
    snapshot = audit.snapshot(member, [*fields, "unit", "status"])
    for name in SENSITIVE_FIELDS:
        if name in snapshot:
            snapshot[name] = "•••" if snapshot[name] else ""
    return snapshot


@transaction.atomic
def create_member(*, actor, unit, **fields) -> Member:
    if not can(actor, MANAGE_MEMBERS, unit):
        raise PermissionDenied
    unknown = set(fields) - set(RECORD_FIELDS)
    if unknown:
        raise TypeError(f"create_member() got unknown fields {sorted(unknown)}")
    cleaned = clean_record(fields)
    member = Member(unit=unit, status=MemberStatus.ACTIVE, **cleaned)
    member.refresh_search()
    _check_unique(member)
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError:  # a concurrent insert of the same citizen ID or card number
        raise ValidationError({"citizen_id": _("Another member already has this citizen ID.")}) from None
    MemberEvent.objects.create(
        member=member,
        kind=MemberEvent.Kind.REGISTERED,
        date=member.joined_on or timezone.localdate(),
        unit=unit,
        status_after=member.status,
        actor=actor,
    )
    audit.record(actor=actor, action="members.member.create", obj=member, unit=unit, after=audit_view(member))
    return member


@transaction.atomic
def update_member(member: Member, *, actor, **fields) -> Member:
    member = Member.objects.select_for_update().select_related("unit").get(pk=member.pk)
    if not can(actor, MANAGE_MEMBERS, member.unit):
        raise PermissionDenied
    unknown = set(fields) - set(RECORD_FIELDS)
    if unknown:
        raise TypeError(f"update_member() got unknown fields {sorted(unknown)}")
    merged = {name: fields.get(name, getattr(member, name)) for name in RECORD_FIELDS}
    cleaned = clean_record(merged)
    before = audit_view(member)
    changed = [name for name in RECORD_FIELDS if getattr(member, name) != cleaned[name]]
    if not changed:
        return member
    for name in changed:
        setattr(member, name, cleaned[name])
    member.refresh_search()
    _check_unique(member)
    member.save()
    MemberEvent.objects.create(
        member=member,
        kind=MemberEvent.Kind.UPDATED,
        date=timezone.localdate(),
        unit=member.unit,
        status_after=member.status,
        actor=actor,
        data={"fields": [str(getattr(Member._meta.get_field(n), "verbose_name", n)) for n in changed]},
    )
    audit.record(
        actor=actor,
        action="members.member.update",
        obj=member,
        unit=member.unit,
        before=before,
        after=audit_view(member),
    )
    return member


def reveal(member: Member, *, actor, reason: str, fields=SENSITIVE_FIELDS) -> dict:
    """The protected fields of one member, unmasked, for someone with the right who gives a reason."""
    if not can(actor, VIEW_SENSITIVE, member.unit):
        raise PermissionDenied
    reason = nfc(reason)
    if len(reason) < 5:
        raise ValidationError({"reason": _("Say why you need to see these data (at least a few words).")})
    record_reveal(actor=actor, member=member, fields=list(fields), reason=reason)
    return {name: getattr(member, name) for name in fields}


def bulk_add_members(members: Iterable[Member], *, actor, unit=None, batch_size: int = 5000) -> int:
    """Insert many new members at once and return how many were written.

    The write path of imports and of the demo seeder: names are normalised to NFC and the search and sort
    columns are filled the way a single save would, rows are inserted ``batch_size`` at a time (no query per
    row), and the whole import is one transaction with ONE audit record, so a failed import leaves nothing
    behind and a million rows do not mean a million audit rows. ``members`` may be a generator: it is consumed
    batch by batch, so memory stays flat whatever the size. ``unit`` is the unit the audit record is filed
    under (the unit the import was run for). Each member's timeline starts with one entry: admitted on the day
    of joining, or registered today when that day is unknown.
    """
    count = 0
    today = timezone.localdate()
    actor_id = actor.pk if getattr(actor, "pk", None) else None
    with transaction.atomic():
        for batch in batched(members, batch_size):
            for member in batch:
                member.family_name = nfc(member.family_name)
                member.middle_name = nfc(member.middle_name)
                member.given_name = nfc(member.given_name)
                member.refresh_search()
            Member.objects.bulk_create(batch, batch_size=batch_size)
            MemberEvent.objects.bulk_create(
                (
                    MemberEvent(
                        member_id=m.pk,
                        kind=MemberEvent.Kind.ADMITTED if m.joined_on else MemberEvent.Kind.REGISTERED,
                        date=m.joined_on or today,
                        unit_id=m.unit_id,
                        status_after=m.status,
                        actor_id=actor_id,
                    )
                    for m in batch
                ),
                batch_size=batch_size,
            )
            count += len(batch)
        audit.record(
            actor=actor, action="members.bulk_add", object_type="members.member", unit=unit, after={"count": count}
        )
    return count


@transaction.atomic
def save_filter(*, actor, name: str, query: str):
    """Keep a named search of the member list for its owner (replacing one of the same name)."""
    from doanso.members.models import SavedFilter

    saved, _created = SavedFilter.objects.update_or_create(
        user=actor, name=nfc(name)[:100], defaults={"query": query[:1000]}
    )
    audit.record(actor=actor, action="members.filter.save", obj=saved, after={"name": saved.name, "query": saved.query})
    return saved


@transaction.atomic
def delete_filter(saved, *, actor) -> None:
    if saved.user_id != actor.pk:
        raise PermissionDenied
    audit.record(actor=actor, action="members.filter.delete", obj=saved, before={"name": saved.name})
    saved.delete()
