"""Self-service: member accounts, correction requests and data-update campaigns.

Writes follow the house rule (one function per operation, owning its transaction and audit record). The reads
that the campaign pages need (which campaigns a user sees, completion by unit, who has not confirmed) sit at the
end of the module, next to the writes they mirror.
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Case, CharField, Count, Exists, FilteredRelation, IntegerField, OuterRef, Q, Value, When
from django.db.models.functions import StrIndex, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from doanso.accounts.models import Invitation
from doanso.accounts.phones import normalise_phone
from doanso.accounts.roles import MANAGE_MEMBERS, VIEW_MEMBERS
from doanso.accounts.scope import allowed_paths, can
from doanso.accounts.services import invite_user
from doanso.core import audit
from doanso.core.text import nfc, vn_sort_key
from doanso.org.models import Unit

from ..models import (
    CURRENT_STATUSES,
    CorrectionRequest,
    DataCampaign,
    DataConfirmation,
    Member,
    MemberEvent,
)
from ..privacy import SENSITIVE_FIELDS
from .records import clean_record

# What a member may ask to change about themself. Identity and membership facts (citizen ID, sex, unit, dates of
# joining, card number, Party membership) stay with the cadres, who hold the documents behind them.
CORRECTABLE_FIELDS = (
    "family_name",
    "middle_name",
    "given_name",
    "other_names",
    "date_of_birth",
    "ethnicity",
    "religion",
    "phone",
    "email",
    "hometown_address",
    "residence_address",
    "occupation",
    "schooling",
    "qualification",
    "foreign_language",
    "it_skill",
)
# A new date of birth is checked against these fields of the record (citizen ID digits, admission age).
_BIRTH_CONTEXT = ("citizen_id", "sex", "joined_on", "party_joined_on", "kind")


def _masked(changes: dict) -> dict:
    """Requested changes as the audit log keeps them: protected fields only say that they changed."""
    return {
        name: {"old": "•••", "new": "•••"} if name in SENSITIVE_FIELDS else value for name, value in changes.items()
    }


def record_field(name: str) -> models.Field:
    """A field of the member record (never a reverse relation, which ``get_field`` may also return)."""
    field = Member._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field


def field_label(name: str) -> str:
    return str(record_field(name).verbose_name)


def json_value(value):
    return value.isoformat() if isinstance(value, datetime.date) else value


def _from_json(name: str, value):
    return record_field(name).to_python(value)


# --- Accounts -------------------------------------------------------------------------------------------------


def can_invite(actor, member: Member) -> bool:
    """Whoever manages a member may invite them to their own account (an account without any role)."""
    return can(actor, MANAGE_MEMBERS, member.unit)


@transaction.atomic
def invite_member(member: Member, *, actor, email: str = "", phone: str = "") -> tuple[Invitation, str]:
    """Invite a member to a self-service account; return the invitation and its raw token (shown once).

    The account is tied to the member when it is activated, by the contact the invitation was sent to, so that
    contact must be the member's own: a blank e-mail or phone on the record is filled with it, a different one
    is refused (the cadre corrects the record first).
    """
    member = Member.objects.select_for_update().select_related("unit").get(pk=member.pk)
    if not can(actor, MANAGE_MEMBERS, member.unit):
        raise PermissionDenied
    if member.status not in CURRENT_STATUSES:
        raise ValidationError(_("Only a current member can have a self-service account."))
    if member.user_id:
        raise ValidationError(_("{name} already has an account.").format(name=member.full_name))
    email = (email or "").strip().lower() or member.email.lower()
    raw_phone = (phone or "").strip()
    phone = (normalise_phone(raw_phone) or "") if raw_phone else (normalise_phone(member.phone) or "")
    if raw_phone and not phone:
        raise ValidationError({"phone": _("“{phone}” is not a valid phone number.").format(phone=raw_phone)})
    errors = {}
    if email and member.email and member.email.lower() != email:
        errors["email"] = _("The record has another e-mail address; correct the record first.")
    if phone and member.phone and normalise_phone(member.phone) != phone:
        errors["phone"] = _("The record has another phone number; correct the record first.")
    if errors:
        raise ValidationError(errors)
    # Two members of a unit sharing the contact could not be told apart at activation.
    others = Member.objects.filter(unit=member.unit, user__isnull=True).exclude(pk=member.pk)
    if email and others.filter(email__iexact=email).exists():
        raise ValidationError({"email": _("Another member of this unit has the same e-mail address.")})
    if phone and others.filter(phone=phone).exists():
        raise ValidationError({"phone": _("Another member of this unit has the same phone number.")})

    invitation, raw = invite_user(
        actor=actor, full_name=member.full_name, unit=member.unit, role="", email=email, phone=phone
    )
    filled = {}
    if invitation.email and not member.email:
        filled["email"] = member.email = invitation.email
    if invitation.phone and not member.phone:
        filled["phone"] = member.phone = invitation.phone
    if filled:
        member.refresh_search()
        member.save()
        MemberEvent.objects.create(
            member=member,
            kind=MemberEvent.Kind.UPDATED,
            date=timezone.localdate(),
            unit=member.unit,
            status_after=member.status,
            actor=actor,
            data={"fields": [field_label(n) for n in filled]},
        )
    audit.record(
        actor=actor,
        action="members.member.invite",
        obj=member,
        unit=member.unit,
        after={"invitation": invitation.pk, "filled": sorted(filled)},
    )
    return invitation, raw


@transaction.atomic
def activate_member_account(user) -> Member | None:
    """Tie a newly activated account to its member record; call it right after ``accept_invitation``.

    The member is found through the member invitation (no role) this user accepted: the one member of the
    invitation's unit, still without an account, whose e-mail or phone is the invitation's. Returns the member,
    or None when the account is not a member's. Safe to call again.
    """
    existing = Member.objects.filter(user=user).first()
    if existing is not None:
        return existing
    invitation = (
        Invitation.objects.filter(user=user, role="", accepted_at__isnull=False).order_by("-accepted_at").first()
    )
    if invitation is None:
        return None
    contact = Q()
    if invitation.email:
        contact |= Q(email__iexact=invitation.email)
    if invitation.phone:
        # The invitation holds +84…; a record typed before phones were normalised may hold 0….
        contact |= Q(phone__in=[invitation.phone, "0" + invitation.phone.removeprefix("+84")])
    candidates = list(
        Member.objects.select_for_update()
        .filter(contact, unit=invitation.unit, user__isnull=True, status__in=CURRENT_STATUSES)
        .select_related("unit")[:2]
    )
    if len(candidates) != 1:
        return None
    member = candidates[0]
    member.user = user
    member.save(update_fields=["user", "updated_at"])
    audit.record(
        actor=user,
        action="members.member.activate",
        obj=member,
        unit=member.unit,
        after={"user": user.pk, "invitation": invitation.pk},
    )
    return member


# --- Correction requests --------------------------------------------------------------------------------------


def clean_changes(member: Member, values: dict) -> dict:
    """The requested values that differ from the record, as ``{field: {"old": …, "new": …}}`` (JSON values).

    Checked by each field's own rules (length, choices, e-mail) and by the record's shared checks
    (``records.clean_record``: names, ethnic group, phone, citizen ID against the date of birth, ages).
    """
    unknown = set(values) - set(CORRECTABLE_FIELDS)
    if unknown:
        raise ValidationError(
            _("These fields cannot be changed by a request: {fields}.").format(fields=sorted(unknown))
        )
    errors: dict[str, list[str]] = {}
    typed = {}
    for name, value in values.items():
        field = record_field(name)
        try:
            typed[name] = field.clean("" if value is None and not field.null else value, member)
        except ValidationError as exc:
            errors[name] = exc.messages
    if errors:
        raise ValidationError(errors)
    context = {n: getattr(member, n) for n in _BIRTH_CONTEXT} if "date_of_birth" in typed else {}
    try:
        cleaned = clean_record({**context, **typed})
    except ValidationError as exc:
        # A clash with a field the member cannot change shows at the date of birth that caused it.
        shown: dict[str, list[str]] = {}
        for name, messages in exc.message_dict.items():
            shown.setdefault(name if name in typed else "date_of_birth", []).extend(messages)
        raise ValidationError(shown) from None
    if "email" in typed:
        cleaned["email"] = (cleaned["email"] or "").strip().lower()
    return {
        name: {"old": json_value(getattr(member, name)), "new": json_value(cleaned[name])}
        for name in values
        if cleaned[name] != getattr(member, name)
    }


@transaction.atomic
def request_correction(member: Member, *, actor, values: dict, message: str = "") -> CorrectionRequest:
    """A member asks for changes to their own record; a cadre of their unit reviews them."""
    member = Member.objects.select_for_update().select_related("unit").get(pk=member.pk)
    if member.user_id is None or member.user_id != actor.pk:
        raise PermissionDenied
    if member.corrections.filter(status=CorrectionRequest.Status.PENDING).exists():
        raise ValidationError(_("You already have a request waiting for review. Wait for the answer first."))
    changes = clean_changes(member, values)
    if not changes:
        raise ValidationError(_("Nothing differs from your record."))
    correction = CorrectionRequest.objects.create(member=member, changes=changes, message=nfc(message)[:500])
    audit.record(
        actor=actor,
        action="members.correction.request",
        obj=correction,
        unit=member.unit,
        after={"member": member.pk, "changes": _masked(changes)},
    )
    return correction


def _lock_for_review(correction: CorrectionRequest, actor) -> CorrectionRequest:
    correction = CorrectionRequest.objects.select_for_update().select_related("member__unit").get(pk=correction.pk)
    if not can(actor, MANAGE_MEMBERS, correction.member.unit):
        raise PermissionDenied
    if correction.member.user_id is not None and correction.member.user_id == actor.pk:
        raise ValidationError(_("You cannot review a request about your own record."))
    if correction.status != CorrectionRequest.Status.PENDING:
        raise ValidationError(_("This request has already been reviewed."))
    return correction


@transaction.atomic
def approve_correction(correction: CorrectionRequest, *, actor, note: str = "") -> Member:
    """Apply the requested changes to the record, with a timeline entry and the before/after in the audit."""
    correction = _lock_for_review(correction, actor)
    member = Member.objects.select_for_update().select_related("unit").get(pk=correction.member_id)
    changes = correction.changes
    # The record may have been edited since the request: apply only what the member saw and asked to change.
    stale = [name for name, change in changes.items() if json_value(getattr(member, name)) != change["old"]]
    if stale:
        labels = ", ".join(field_label(n) for n in stale)
        raise ValidationError(
            _("The record has changed since the request ({fields}); reject it and ask for a new one.").format(
                fields=labels
            )
        )
    # The checks run again: a rule may have tightened, or the record's other fields moved, since the request.
    clean_changes(member, {name: _from_json(name, change["new"]) for name, change in changes.items()})
    for name, change in changes.items():
        setattr(member, name, _from_json(name, change["new"]))
    member.refresh_search()
    member.save()
    now = timezone.now()
    correction.status = CorrectionRequest.Status.APPROVED
    correction.reviewed_by = actor
    correction.reviewed_at = now
    correction.review_note = nfc(note)[:500]
    correction.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
    MemberEvent.objects.create(
        member=member,
        kind=MemberEvent.Kind.CORRECTED,
        date=timezone.localdate(),
        unit=member.unit,
        status_after=member.status,
        actor=actor,
        data={
            "request": correction.pk,
            # In the record's order: PostgreSQL's jsonb does not keep the keys of ``changes`` in order.
            "fields": [field_label(n) for n in CORRECTABLE_FIELDS if n in changes],
        },
    )
    masked = _masked(changes)
    audit.record(
        actor=actor,
        action="members.correction.approve",
        obj=member,
        unit=member.unit,
        before={"request": correction.pk, **{n: masked[n]["old"] for n in changes}},
        after={"request": correction.pk, **{n: masked[n]["new"] for n in changes}},
    )
    return member


@transaction.atomic
def reject_correction(correction: CorrectionRequest, *, actor, note: str) -> CorrectionRequest:
    """Refuse a request; the member sees the reason."""
    note = nfc(note)
    if not note:
        raise ValidationError({"note": _("Tell the member why the request is rejected.")})
    correction = _lock_for_review(correction, actor)
    correction.status = CorrectionRequest.Status.REJECTED
    correction.reviewed_by = actor
    correction.reviewed_at = timezone.now()
    correction.review_note = note[:500]
    correction.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
    audit.record(
        actor=actor,
        action="members.correction.reject",
        obj=correction,
        unit=correction.member.unit,
        after={"member": correction.member_id, "note": correction.review_note},
    )
    return correction


# --- Data-update campaigns ------------------------------------------------------------------------------------


@transaction.atomic
def launch_campaign(
    *, actor, unit: Unit, title: str, starts_on: datetime.date, deadline: datetime.date, instructions: str = ""
) -> DataCampaign:
    """Open a campaign in which the members of ``unit``'s subtree confirm their data by ``deadline``."""
    if not can(actor, MANAGE_MEMBERS, unit):
        raise PermissionDenied
    errors = {}
    title = nfc(title)
    if not title:
        errors["title"] = _("Give the campaign a title.")
    if not unit.is_active:
        errors["unit"] = _("{unit} is no longer active.").format(unit=unit.name)
    today = timezone.localdate()
    if starts_on < today:
        errors["starts_on"] = _("The start cannot be in the past.")
    if deadline < starts_on:
        errors["deadline"] = _("The deadline cannot be before the start.")
    elif deadline < today:
        errors["deadline"] = _("The deadline cannot be in the past.")
    if errors:
        raise ValidationError(errors)
    campaign = DataCampaign.objects.create(
        unit=unit,
        title=title[:200],
        instructions=(instructions or "").strip(),
        starts_on=starts_on,
        deadline=deadline,
        created_by=actor,
    )
    audit.record(
        actor=actor,
        action="members.campaign.launch",
        obj=campaign,
        unit=unit,
        after={"title": campaign.title, "starts_on": starts_on, "deadline": deadline},
    )
    return campaign


def is_open(campaign: DataCampaign, on: datetime.date | None = None) -> bool:
    on = on or timezone.localdate()
    return campaign.starts_on <= on <= campaign.deadline


def covers(campaign: DataCampaign, member: Member) -> bool:
    return member.unit.path.startswith(campaign.unit.path)


@transaction.atomic
def confirm_data(campaign: DataCampaign, member: Member, *, actor) -> tuple[DataConfirmation, bool]:
    """The member confirms that their record is right. A second call (a double click) changes nothing and
    returns the first confirmation with ``False``."""
    member = Member.objects.select_related("unit").get(pk=member.pk)
    if member.user_id is None or member.user_id != actor.pk:
        raise PermissionDenied
    campaign = DataCampaign.objects.select_related("unit").get(pk=campaign.pk)
    if not covers(campaign, member) or member.status not in CURRENT_STATUSES:
        raise ValidationError(_("This campaign is not for your unit."))
    if not is_open(campaign):
        raise ValidationError(
            _("The campaign runs from {start} to {end}.").format(
                start=campaign.starts_on.strftime("%d/%m/%Y"), end=campaign.deadline.strftime("%d/%m/%Y")
            )
        )
    # get_or_create falls back to reading the row when a concurrent request inserted it first (the unique
    # constraint on campaign and member decides the race).
    confirmation, created = DataConfirmation.objects.get_or_create(campaign=campaign, member=member)
    if created:
        MemberEvent.objects.create(
            member=member,
            kind=MemberEvent.Kind.CONFIRMED,
            date=timezone.localdate(),
            unit=member.unit,
            status_after=member.status,
            actor=actor,
            note=campaign.title[:500],
            data={"campaign": campaign.pk},
        )
        audit.record(
            actor=actor,
            action="members.campaign.confirm",
            obj=confirmation,
            unit=member.unit,
            after={"campaign": campaign.pk, "member": member.pk},
        )
    return confirmation, created


# --- Reads for the campaign pages -----------------------------------------------------------------------------


def ancestor_ids(path: str) -> list[int]:
    """Ids in a materialised path, the unit itself included: "/1/7/42/" → [1, 7, 42]."""
    return [int(part) for part in path.strip("/").split("/") if part]


def visible_campaigns(user):
    """Campaigns whose subtree meets the user's members scope: launched inside it, or above it (a provincial
    campaign is also the commune's)."""
    paths = allowed_paths(user, VIEW_MEMBERS)
    qs = DataCampaign.objects.select_related("unit")
    if paths is None:
        return qs
    if not paths:
        return qs.none()
    q = Q(unit_id__in={pk for path in paths for pk in ancestor_ids(path)})
    for path in paths:
        q |= Q(unit__path__startswith=path)
    return qs.filter(q)


def open_campaigns_for(member: Member):
    """Campaigns running today that cover the member's unit, each with ``confirmed_at`` (None if not yet)."""
    today = timezone.localdate()
    mine = DataConfirmation.objects.filter(campaign=OuterRef("pk"), member=member)
    return (
        DataCampaign.objects.filter(
            unit_id__in=ancestor_ids(member.unit.path), starts_on__lte=today, deadline__gte=today
        )
        .annotate(confirmed_at=mine.values("confirmed_at")[:1])
        .order_by("deadline", "pk")
    )


def campaign_roots(user, campaign: DataCampaign) -> list[Unit]:
    """Where the user's view of a campaign starts: its own unit, or the user's units inside its subtree."""
    if can(user, VIEW_MEMBERS, campaign.unit):
        return [campaign.unit]
    paths = [p for p in allowed_paths(user, VIEW_MEMBERS) or [] if p.startswith(campaign.unit.path)]
    return list(Unit.objects.filter(path__in=paths).order_by("search_name"))


@dataclass
class CompletionRow:
    unit: Unit
    members: int
    confirmed: int
    # The row counts only the members whose file sits at this unit itself, not below it.
    direct: bool = False

    @property
    def rate(self) -> float | None:
        return round(100 * self.confirmed / self.members, 1) if self.members else None

    @property
    def pending(self) -> int:
        return self.members - self.confirmed


SORT_KEYS = {
    # The row of members filed at the unit itself comes after its units.
    "name": lambda r: (r.direct, vn_sort_key(r.unit.name)),
    "members": lambda r: r.members,
    "confirmed": lambda r: r.confirmed,
    "pending": lambda r: r.pending,
    "rate": lambda r: r.rate or 0,
}


def _members_with_confirmation(campaign: DataCampaign):
    return (
        Member.objects.filter(status__in=CURRENT_STATUSES)
        .annotate(this_campaign=FilteredRelation("confirmations", condition=Q(confirmations__campaign=campaign)))
        .order_by()
    )


def completion_by_child(campaign: DataCampaign, unit: Unit) -> list[CompletionRow]:
    """Members and confirmations in the subtree of each unit directly under ``unit``, plus a row for members
    filed at ``unit`` itself.

    Two queries whatever the size of the tree: one grouped count over the subtree, keyed by the id that follows
    ``unit``'s path in each member's unit path ("/1/7/" + "42/99/" → 42), and one for the units to show.
    """
    start = len(unit.path) + 1
    rest = Substr("unit__path", start)
    child = Case(
        When(unit_id=unit.pk, then=Value("")),
        default=Substr(rest, 1, StrIndex(rest, Value("/")) - 1),
        output_field=CharField(),
    )
    counts = {
        row["child"]: (row["members"], row["confirmed"])
        for row in _members_with_confirmation(campaign)
        .filter(unit__path__startswith=unit.path)
        .values(child=child)
        .annotate(members=Count("pk"), confirmed=Count("this_campaign__pk"))
    }
    ids = [int(key) for key in counts if key]
    # Active children show even with no member; an ended one (merged away) only while files still point at it.
    units = Unit.objects.filter(Q(parent=unit, active_to__isnull=True) | Q(pk__in=ids))
    rows = [CompletionRow(u, *counts.get(str(u.pk), (0, 0))) for u in units]
    if "" in counts:
        rows.append(CompletionRow(unit, *counts[""], direct=True))
    return rows


def completion_for_units(campaign: DataCampaign, units: list[Unit]) -> list[CompletionRow]:
    """The same counts for a given list of disjoint subtrees (a cadre's several units inside a campaign)."""
    if not units:
        return []
    key = Case(
        *[When(unit__path__startswith=u.path, then=Value(u.pk)) for u in units],
        default=None,
        output_field=IntegerField(),
    )
    counts = {
        row["key"]: (row["members"], row["confirmed"])
        for row in _members_with_confirmation(campaign)
        .annotate(key=key)
        .filter(key__isnull=False)
        .values("key")
        .annotate(members=Count("pk"), confirmed=Count("this_campaign__pk"))
    }
    return [CompletionRow(u, *counts.get(u.pk, (0, 0))) for u in units]


def sort_rows(rows: list[CompletionRow], sort: str) -> list[CompletionRow]:
    """``sort`` is a column of SORT_KEYS, with a leading "-" for descending; unknown values sort by name. Ties
    stay in name order."""
    descending = sort.startswith("-")
    column = sort.lstrip("-")
    by_name = sorted(rows, key=SORT_KEYS["name"])
    ordered = sorted(by_name, key=SORT_KEYS.get(column, SORT_KEYS["name"]), reverse=descending)
    if column == "rate":
        # Units without members have no rate: they come after every unit with one, whichever the direction.
        ordered = [r for r in ordered if r.rate is not None] + [r for r in ordered if r.rate is None]
    return ordered


def not_confirmed(campaign: DataCampaign, unit: Unit):
    """Current members of ``unit``'s subtree who have not confirmed yet, by unit then name."""
    confirmed = DataConfirmation.objects.filter(campaign=campaign, member=OuterRef("pk"))
    return (
        Member.objects.filter(status__in=CURRENT_STATUSES, unit__path__startswith=unit.path)
        .exclude(Exists(confirmed))
        .select_related("unit")
        .order_by("unit__search_name", "unit_id", "search_name", "pk")
    )


def totals(rows: list[CompletionRow], unit: Unit) -> CompletionRow:
    return CompletionRow(unit, sum(r.members for r in rows), sum(r.confirmed for r in rows))
