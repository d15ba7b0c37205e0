"""The lifecycle of a member: admission, transfer, temporary attachment, annual rating, discipline, graduation,
strike-off, resignation, death and positions.

Every function here is the only way to do what it names. Each one checks the actor's right with ``can`` (a
PermissionDenied, which views never reach because they fetch through ``restrict``), locks the rows it changes,
validates with messages meant for the field they name, writes a :class:`MemberEvent` carrying the status the
member has afterwards, and an audit record. A refused call raises before its first write, inside one
transaction, so it leaves nothing behind.

``check_*`` functions validate without writing: the services call them after locking, and the forms call them
to build the preview of the two-step forms.

A member's status is only ever changed here, always together with an event, so the timeline explains every
status the member has had.
"""

import datetime
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from doanso.accounts.roles import MANAGE_MEMBERS
from doanso.accounts.scope import can
from doanso.core import audit
from doanso.core.text import nfc
from doanso.org.models import Unit, UnitKind

from ..models import (
    Admission,
    AnnualRating,
    Discipline,
    DisciplineLevel,
    Member,
    MemberEvent,
    MemberKind,
    MemberStatus,
    Position,
    RatingLevel,
    Sex,
    TemporaryAttachment,
    Transfer,
)
from ..validators import admission_age_errors
from .records import clean_record

# Units whose meeting votes on an admission: the chi đoàn, where members actually meet.
BRANCH_KINDS = (UnitKind.BRANCH, UnitKind.GRASSROOTS_BRANCH)
MEMBER_AUDIT_FIELDS = ["unit", "status"]
# One value this module needs beyond the foundation's model, asked of the lead: MemberEvent.Kind.KEPT (the branch
# keeps a member past the age limit). Until its migration lands, keeping a member refuses with a message instead
# of storing an event kind the model does not know; once it has, this is simply True and can go.
# Verification codes are read aloud and typed from paper: no 0/O, 1/I/L.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12


def rule(name: str) -> int:
    """A rule of the charter that the province may configure (settings.DOANSO_RULES)."""
    return settings.DOANSO_RULES[name]


def require(actor, unit: Unit | None) -> None:
    if unit is None or not can(actor, MANAGE_MEMBERS, unit):
        raise PermissionDenied


def d(value: datetime.date) -> str:
    return value.strftime("%d/%m/%Y")


def today() -> datetime.date:
    return timezone.localdate()


def check_not_future(value: datetime.date, field_name: str) -> None:
    if value > today():
        raise ValidationError({field_name: _("The date cannot be in the future.")})


def check_not_before(value: datetime.date, earliest: datetime.date | None, field_name: str, what: str) -> None:
    if earliest is not None and value < earliest:
        raise ValidationError(
            {field_name: _("The date cannot be before {what} ({date}).").format(what=what, date=d(earliest))}
        )


def check_unit_active(unit: Unit, field_name: str, on: datetime.date | None = None) -> None:
    on = on or today()
    if (unit.active_to is not None and unit.active_to <= on) or unit.active_from > on:
        raise ValidationError({field_name: _("{unit} is not an active unit.").format(unit=unit.name)})


def check_member_status(member: Member, allowed=(MemberStatus.ACTIVE,), field_name: str = "member") -> None:
    """Lifecycle steps apply to a member whose file is here and settled; the message says what to do instead."""
    if member.status in allowed:
        return
    if member.status == MemberStatus.TRANSFERRING:
        raise ValidationError(
            {
                field_name: _(
                    "{name} is being transferred: cancel the transfer, or let the receiving unit take the file, first."
                ).format(name=member.full_name)
            }
        )
    raise ValidationError(
        {
            field_name: _("{name} is no longer a member ({status}).").format(
                name=member.full_name, status=member.get_status_display()
            )
        }
    )


def fresh(unit: Unit) -> Unit:
    """The unit as stored now: a form's instance may predate a merge or a dissolution."""
    return Unit.objects.get(pk=unit.pk)


def lock_member(member: Member) -> Member:
    # of=("self",): lock the member row only, not the unit joined for the checks.
    return Member.objects.select_for_update(of=("self",)).select_related("unit").get(pk=member.pk)


def add_event(
    member: Member,
    kind: str,
    *,
    actor,
    on: datetime.date,
    unit: Unit | None = None,
    other_unit: Unit | None = None,
    note: str = "",
    data: dict | None = None,
) -> MemberEvent:
    """One timeline entry; ``status_after`` is the member's status as the service leaves it."""
    return MemberEvent.objects.create(
        member=member,
        kind=kind,
        date=on,
        unit=unit or member.unit,
        other_unit=other_unit,
        status_after=member.status,
        note=nfc(note)[:500],
        data=audit.jsonable(data or {}),
        actor=actor if getattr(actor, "pk", None) else None,
    )


def set_status(member: Member, status: str, **extra) -> dict:
    """Change the status (and the fields in ``extra``) and return the audit 'before'."""
    before = audit.snapshot(member, MEMBER_AUDIT_FIELDS)
    member.status = status
    for key, value in extra.items():
        setattr(member, key, value)
    member.save(update_fields=["status", *extra.keys(), "updated_at"])
    return before


def close_open_records(member: Member, on: datetime.date) -> dict:
    """When membership ends, positions and temporary attachments end with it: a former member holds no post."""
    positions = Position.objects.filter(member=member).filter(Q(end__isnull=True) | Q(end__gt=on)).update(end=on)
    attachments = (
        TemporaryAttachment.objects.filter(member=member).filter(Q(end__isnull=True) | Q(end__gt=on)).update(end=on)
    )
    return {"positions_ended": positions, "attachments_ended": attachments}


def member_audit(actor, action: str, member: Member, before: dict | None, **after) -> None:
    audit.record(
        actor=actor,
        action=action,
        obj=member,
        unit=member.unit,
        before=before,
        after={**audit.snapshot(member, MEMBER_AUDIT_FIELDS), **after},
    )


# --- admission ------------------------------------------------------------------------------------------------


APPLICANT_FIELDS = (
    "family_name",
    "middle_name",
    "given_name",
    "date_of_birth",
    "sex",
    "ethnicity",
    "citizen_id",
    "phone",
)


@dataclass
class ApplicantData:
    """What a new admission file holds about the applicant (forms, the API and tests pass it)."""

    family_name: str
    given_name: str
    date_of_birth: datetime.date
    sex: str
    middle_name: str = ""
    ethnicity: str = ""
    citizen_id: str = ""
    phone: str = ""

    def cleaned(self) -> "ApplicantData":
        """Normalised the way every member record is (names in NFC, the ethnic group's official spelling, the
        phone in one format, the citizen ID checked against the birth date and sex), so approval copies a
        record that the registry would accept as typed."""
        if self.sex not in Sex.values:
            raise ValidationError({"sex": _("Choose the sex.")})
        values = clean_record({name: getattr(self, name) for name in APPLICANT_FIELDS})
        for name in APPLICANT_FIELDS:
            setattr(self, name, values[name] if values[name] is not None else "")
        return self


def check_citizen_id_free(citizen_id: str, exclude_admission: int | None = None) -> None:
    if not citizen_id:
        return
    if Member.objects.filter(citizen_id=citizen_id).exists():
        raise ValidationError({"citizen_id": _("A member with this citizen ID is already in the registry.")})
    open_files = Admission.objects.filter(citizen_id=citizen_id).exclude(
        stage__in=[Admission.Stage.APPROVED, Admission.Stage.REJECTED]
    )
    if exclude_admission:
        open_files = open_files.exclude(pk=exclude_admission)
    if open_files.exists():
        raise ValidationError({"citizen_id": _("An admission with this citizen ID is already in progress.")})


def check_age(date_of_birth: datetime.date, on: datetime.date, field_name: str) -> None:
    errors = admission_age_errors(date_of_birth, on)
    if errors:
        raise ValidationError({field_name: errors})


def check_start_admission(unit: Unit, data: ApplicantData) -> None:
    if unit.kind not in BRANCH_KINDS:
        raise ValidationError(
            {"unit": _("Admissions are voted by a branch (chi đoàn): {unit} is not one.").format(unit=unit.name)}
        )
    if unit.parent_id is None:
        raise ValidationError({"unit": _("{unit} has no superior union to confirm admissions.").format(unit=unit.name)})
    check_unit_active(unit, "unit")
    data.cleaned()
    # Checked now as well as at the vote: a wrong date of birth shows up when the file is opened, not months later.
    check_age(data.date_of_birth, today(), "date_of_birth")
    check_citizen_id_free(data.citizen_id)


@transaction.atomic
def start_admission(unit: Unit, data: ApplicantData, *, actor) -> Admission:
    """Open an admission file (đơn xin vào Đoàn) at a branch: the applicant becomes a candidate."""
    require(actor, unit)
    check_start_admission(unit, data)
    admission = Admission.objects.create(
        unit=unit,
        family_name=data.family_name,
        middle_name=data.middle_name,
        given_name=data.given_name,
        date_of_birth=data.date_of_birth,
        sex=data.sex,
        ethnicity=data.ethnicity,
        citizen_id=data.citizen_id,
        phone=data.phone,
    )
    audit.record(
        actor=actor,
        action="members.admission.start",
        obj=admission,
        unit=unit,
        after=audit.snapshot(admission, ["unit", "family_name", "middle_name", "given_name", "date_of_birth", "stage"]),
    )
    return admission


def lock_admission(admission: Admission) -> Admission:
    return Admission.objects.select_for_update(of=("self",)).select_related("unit__parent").get(pk=admission.pk)


def check_stage(admission: Admission, expected: str) -> None:
    if admission.stage == expected:
        return
    if admission.stage in (Admission.Stage.APPROVED, Admission.Stage.REJECTED):
        message = _("This admission is closed: {stage}.").format(stage=admission.get_stage_display())
    else:
        message = _("This step comes after “{expected}”; the file is at “{stage}”.").format(
            expected=Admission.Stage(expected).label, stage=admission.get_stage_display()
        )
    raise ValidationError({"stage": message})


def admission_audit(actor, action: str, admission: Admission, before: dict, fields: list[str]) -> None:
    audit.record(
        actor=actor,
        action=action,
        obj=admission,
        unit=admission.unit,
        before=before,
        after=audit.snapshot(admission, fields),
    )


def check_course(admission: Admission, completed_on: datetime.date) -> None:
    check_stage(admission, Admission.Stage.CANDIDATE)
    check_not_future(completed_on, "completed_on")


@transaction.atomic
def record_course(admission: Admission, *, actor, completed_on: datetime.date) -> Admission:
    """The candidate completed the union course (lớp cảm tình Đoàn)."""
    require(actor, admission.unit)
    admission = lock_admission(admission)
    check_course(admission, completed_on)
    fields = ["stage", "course_completed_on"]
    before = audit.snapshot(admission, fields)
    admission.stage = Admission.Stage.COURSE_DONE
    admission.course_completed_on = completed_on
    admission.save(update_fields=fields)
    admission_audit(actor, "members.admission.course", admission, before, fields)
    return admission


def check_introduction(
    admission: Admission,
    on: datetime.date,
    introducer: Member | None,
    known_since: datetime.date | None,
    collective: str,
) -> None:
    check_stage(admission, Admission.Stage.COURSE_DONE)
    check_not_future(on, "on")
    if introducer is None and not nfc(collective):
        raise ValidationError(
            {"introducer": _("Choose the introducing member, or name the collective (chi đội, chi hội) introducing.")}
        )
    if introducer is not None and nfc(collective):
        raise ValidationError(
            {"collective": _("An applicant is introduced by one member or by a collective, not both.")}
        )
    if introducer is None:
        return
    if introducer.status != MemberStatus.ACTIVE or introducer.kind != MemberKind.UNION:
        raise ValidationError(
            {
                "introducer": _("{name} is not an active union member and cannot introduce an applicant.").format(
                    name=introducer.full_name
                )
            }
        )
    if known_since is None:
        raise ValidationError({"known_since": _("Enter since when the introducer has known the applicant.")})
    months = rule("introducer_known_months")
    latest = on - relativedelta(months=months)
    if known_since > latest:
        raise ValidationError(
            {
                "known_since": _(
                    "The introducer must have known the applicant for at least {n} months on {date}: "
                    "since {latest} at the latest."
                ).format(n=months, date=d(on), latest=d(latest))
            }
        )


@transaction.atomic
def record_introduction(
    admission: Admission,
    *,
    actor,
    introducer: Member | None = None,
    known_since: datetime.date | None = None,
    collective: str = "",
    on: datetime.date | None = None,
) -> Admission:
    """A member who has known the applicant long enough introduces them, or a collective (the chi đội, the chi
    hội) does; its name is kept in ``collective_introducer``."""
    on = on or today()
    require(actor, admission.unit)
    admission = lock_admission(admission)
    if introducer is not None:
        introducer = Member.objects.select_for_update(of=("self",)).get(pk=introducer.pk)
    check_introduction(admission, on, introducer, known_since, collective)
    fields = ["stage", "introducer", "introducer_known_since", "collective_introducer"]
    before = audit.snapshot(admission, fields)
    admission.stage = Admission.Stage.INTRODUCED
    admission.introducer = introducer
    admission.introducer_known_since = known_since if introducer else None
    admission.collective_introducer = "" if introducer else nfc(collective)
    admission.save(update_fields=fields)
    audit.record(
        actor=actor,
        action="members.admission.introduce",
        obj=admission,
        unit=admission.unit,
        before=before,
        after={**audit.snapshot(admission, fields), "on": on},
    )
    return admission


def vote_passes(present: int, votes_for: int) -> bool:
    """More than half of those present: 6 of 10 passes, 5 of 10 does not."""
    return votes_for * 2 > present


def check_vote(admission: Admission, vote_on: datetime.date, present: int, votes_for: int) -> None:
    check_stage(admission, Admission.Stage.INTRODUCED)
    check_not_future(vote_on, "vote_on")
    check_not_before(vote_on, admission.course_completed_on, "vote_on", _("the union course"))
    if present < 1:
        raise ValidationError({"votes_present": _("At least one member must be present.")})
    if votes_for < 0:
        raise ValidationError({"votes_for": _("The number of votes cannot be negative.")})
    if votes_for > present:
        raise ValidationError(
            {
                "votes_for": _("There cannot be more votes for ({n}) than members present ({m}).").format(
                    n=votes_for, m=present
                )
            }
        )
    # The day of consideration: the age rule is about this day.
    check_age(admission.date_of_birth, vote_on, "vote_on")


@transaction.atomic
def record_branch_vote(
    admission: Admission, *, actor, vote_on: datetime.date, present: int, votes_for: int
) -> Admission:
    """The branch meeting votes. More than half of those present admits (stage VOTED, waiting for the superior
    union's confirmation); otherwise the file closes as not admitted, with the count kept."""
    require(actor, admission.unit)
    admission = lock_admission(admission)
    check_vote(admission, vote_on, present, votes_for)
    fields = ["stage", "vote_on", "votes_present", "votes_for"]
    before = audit.snapshot(admission, fields)
    admission.vote_on = vote_on
    admission.votes_present = present
    admission.votes_for = votes_for
    admission.stage = Admission.Stage.VOTED if vote_passes(present, votes_for) else Admission.Stage.REJECTED
    admission.save(update_fields=fields)
    admission_audit(actor, "members.admission.vote", admission, before, fields)
    return admission


def new_member_values(admission: Admission, approved_on: datetime.date) -> dict:
    """The record approval creates, normalised and checked by the registry's own rules (records.clean_record),
    so that the new member can be edited later like any other. A joining date past the age limit is reported at
    the confirmation date: the superior union must confirm before the applicant turns 31."""
    values = {
        "kind": MemberKind.UNION,
        "family_name": admission.family_name,
        "middle_name": admission.middle_name,
        "given_name": admission.given_name,
        "date_of_birth": admission.date_of_birth,
        "sex": admission.sex,
        "ethnicity": admission.ethnicity,
        "citizen_id": admission.citizen_id,
        "phone": admission.phone,
        "joined_on": approved_on,
        "admitted_at": admission.unit.name,
    }
    try:
        return clean_record(values)
    except ValidationError as exc:
        raise ValidationError(
            {"approved_on" if name == "joined_on" else name: messages for name, messages in exc.message_dict.items()}
        ) from None


def check_approval(admission: Admission, approved_on: datetime.date) -> dict:
    check_stage(admission, Admission.Stage.VOTED)
    check_not_future(approved_on, "approved_on")
    check_not_before(approved_on, admission.vote_on, "approved_on", _("the branch vote"))
    check_citizen_id_free(admission.citizen_id, exclude_admission=admission.pk)
    return new_member_values(admission, approved_on)


@transaction.atomic
def approve_admission(admission: Admission, *, actor, approved_on: datetime.date | None = None) -> Member:
    """The directly superior union confirms (quyết định chuẩn y): the applicant becomes a member of the branch,
    joined on the day of the confirmation."""
    approved_on = approved_on or today()
    admission = lock_admission(admission)
    superior = admission.unit.parent
    # Only the union directly above the branch (or a cadre whose subtree holds it) confirms.
    require(actor, superior)
    values = check_approval(admission, approved_on)
    member = Member(**values, unit=admission.unit, status=MemberStatus.ACTIVE)
    member.refresh_search()
    member.save()
    fields = ["stage", "approved_on", "approved_by", "member"]
    before = audit.snapshot(admission, fields)
    admission.stage = Admission.Stage.APPROVED
    admission.approved_on = approved_on
    admission.approved_by = superior
    admission.member = member
    admission.save(update_fields=fields)
    add_event(
        member,
        MemberEvent.Kind.ADMITTED,
        actor=actor,
        on=approved_on,
        other_unit=superior,
        data={"admission": admission.pk, "vote_on": admission.vote_on, "introducer": admission.introducer_id},
    )
    admission_audit(actor, "members.admission.approve", admission, before, fields)
    member_audit(actor, "members.member.admit", member, None, admission=admission.pk)
    return member


def check_rejection(admission: Admission, reason: str) -> None:
    if admission.stage in (Admission.Stage.APPROVED, Admission.Stage.REJECTED):
        raise ValidationError(
            {"stage": _("This admission is closed: {stage}.").format(stage=admission.get_stage_display())}
        )
    if not nfc(reason):
        raise ValidationError({"reason": _("Give the reason.")})


@transaction.atomic
def reject_admission(admission: Admission, *, actor, reason: str) -> Admission:
    """Close a file without admission (the applicant withdrew, the superior union did not confirm…)."""
    require(actor, admission.unit)
    admission = lock_admission(admission)
    check_rejection(admission, reason)
    before = audit.snapshot(admission, ["stage"])
    admission.stage = Admission.Stage.REJECTED
    admission.save(update_fields=["stage"])
    audit.record(
        actor=actor,
        action="members.admission.reject",
        obj=admission,
        unit=admission.unit,
        before=before,
        after={"stage": admission.stage, "reason": nfc(reason)},
    )
    return admission


# --- transfer -------------------------------------------------------------------------------------------------


def new_verification_code() -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))
        if not Transfer.objects.filter(verification_code=code).exists():
            return code


def normalise_code(value: str) -> str:
    """What people type from the paper letter: spaces, dashes and lower case do not matter."""
    return "".join(ch for ch in (value or "").upper() if ch.isalnum())[:CODE_LENGTH]


def check_send_transfer(
    member: Member,
    to_unit: Unit | None,
    destination: str,
    sent_on: datetime.date,
    assessment: str,
) -> None:
    check_member_status(member)
    destination = nfc(destination)
    if to_unit is None and not destination:
        raise ValidationError(
            {"to_unit": _("Choose the receiving unit, or write the destination outside the province.")}
        )
    if to_unit is not None and destination:
        raise ValidationError(
            {"destination": _("Choose either a unit of the province or a destination outside it, not both.")}
        )
    if to_unit is not None:
        if to_unit.pk == member.unit_id:
            raise ValidationError(
                {
                    "to_unit": _("{unit} already holds the file of {name}.").format(
                        unit=to_unit.name, name=member.full_name
                    )
                }
            )
        check_unit_active(to_unit, "to_unit")
    elif not nfc(assessment):
        raise ValidationError({"assessment": _("Write the branch's assessment: the letter carries it.")})
    check_not_future(sent_on, "sent_on")
    check_not_before(sent_on, member.joined_on, "sent_on", _("the day the member joined"))


@transaction.atomic
def send_transfer(
    member: Member,
    *,
    actor,
    to_unit: Unit | None = None,
    destination: str = "",
    sent_on: datetime.date | None = None,
    assessment: str = "",
    dues_paid_until: datetime.date | None = None,
) -> Transfer:
    """The unit holding the file sends the member on (chuyển sinh hoạt). The file stays with the sender, the
    member shown as being transferred, until the receiving unit takes it: the member is never without a unit.

    ``to_unit`` for a unit of the province; ``destination`` (free text) for elsewhere, which also gets a
    verification code for the letter the member carries."""
    sent_on = sent_on or today()
    member = lock_member(member)
    require(actor, member.unit)
    to_unit = fresh(to_unit) if to_unit is not None else None
    check_send_transfer(member, to_unit, destination, sent_on, assessment)
    transfer = Transfer.objects.create(
        member=member,
        from_unit=member.unit,
        to_unit=to_unit,
        destination=nfc(destination),
        verification_code=new_verification_code() if to_unit is None else "",
        assessment=nfc(assessment),
        dues_paid_until=dues_paid_until,
        sent_on=sent_on,
        sent_by=actor,
    )
    before = set_status(member, MemberStatus.TRANSFERRING)
    add_event(
        member,
        MemberEvent.Kind.TRANSFER_SENT,
        actor=actor,
        on=sent_on,
        other_unit=to_unit,
        note=transfer.destination,
        data={"transfer": transfer.pk},
    )
    member_audit(
        actor, "members.transfer.send", member, before, transfer=transfer.pk, to_unit=to_unit, destination=destination
    )
    return transfer


def lock_transfer(transfer: Transfer) -> Transfer:
    return (
        Transfer.objects.select_for_update(of=("self",))
        .select_related("from_unit", "to_unit", "member")
        .get(pk=transfer.pk)
    )


def check_open(transfer: Transfer) -> None:
    if transfer.status != Transfer.Status.SENT:
        raise ValidationError(
            {
                "transfer": _("This transfer is no longer waiting: {status}.").format(
                    status=transfer.get_status_display()
                )
            }
        )


def check_receive(transfer: Transfer, received_on: datetime.date, place_in: Unit | None) -> None:
    check_open(transfer)
    if transfer.to_unit is None or place_in is None:
        raise ValidationError(
            {"transfer": _("This transfer goes outside the province: record that it was received there instead.")}
        )
    if not place_in.path.startswith(transfer.to_unit.path):
        raise ValidationError(
            {"place_in": _("Place the member in {unit} or in a unit under it.").format(unit=transfer.to_unit.name)}
        )
    check_unit_active(place_in, "place_in", received_on)
    check_not_future(received_on, "received_on")
    check_not_before(received_on, transfer.sent_on, "received_on", _("the day it was sent"))


@transaction.atomic
def receive_transfer(
    transfer: Transfer, *, actor, received_on: datetime.date | None = None, place_in: Unit | None = None
) -> Member:
    """The receiving unit takes the file: the member's unit becomes ``place_in`` (the receiving unit itself, or
    the branch under it where the member will meet) and the member is active again."""
    received_on = received_on or today()
    transfer = lock_transfer(transfer)
    # The unit the transfer was addressed to decides where the member goes, even into one of its branches. (A
    # transfer out of the province has no such unit: its sender gets the message of check_receive.)
    require(actor, transfer.to_unit or transfer.from_unit)
    target = fresh(place_in) if place_in is not None else transfer.to_unit
    member = lock_member(transfer.member)
    check_receive(transfer, received_on, target)
    assert target is not None  # check_receive refuses a transfer without a receiving unit
    transfer.status = Transfer.Status.RECEIVED
    transfer.received_on = received_on
    transfer.received_by = actor
    transfer.save(update_fields=["status", "received_on", "received_by"])
    before = set_status(member, MemberStatus.ACTIVE, unit=target)
    # Like the sending entry, unit → other_unit reads "from → to" on the timeline.
    add_event(
        member,
        MemberEvent.Kind.TRANSFER_RECEIVED,
        actor=actor,
        on=received_on,
        unit=transfer.from_unit,
        other_unit=target,
        data={"transfer": transfer.pk},
    )
    member_audit(actor, "members.transfer.receive", member, before, transfer=transfer.pk)
    return member


def may_cancel(user, transfer: Transfer) -> bool:
    """Either side may call a transfer off: the sender withdraws it, the receiver declines it."""
    return can(user, MANAGE_MEMBERS, transfer.from_unit) or (
        transfer.to_unit is not None and can(user, MANAGE_MEMBERS, transfer.to_unit)
    )


def check_cancel(transfer: Transfer, on: datetime.date) -> None:
    check_open(transfer)
    check_not_future(on, "on")
    check_not_before(on, transfer.sent_on, "on", _("the day it was sent"))


@transaction.atomic
def cancel_transfer(transfer: Transfer, *, actor, on: datetime.date | None = None, reason: str = "") -> Member:
    """Call a transfer off: the file never left the sender, so the member is simply active there again. A letter
    for outside the province stops being valid."""
    on = on or today()
    transfer = lock_transfer(transfer)
    if not may_cancel(actor, transfer):
        raise PermissionDenied
    member = lock_member(transfer.member)
    check_cancel(transfer, on)
    transfer.status = Transfer.Status.CANCELLED
    transfer.save(update_fields=["status"])
    before = set_status(member, MemberStatus.ACTIVE)
    add_event(
        member,
        MemberEvent.Kind.TRANSFER_CANCELLED,
        actor=actor,
        on=on,
        other_unit=transfer.to_unit,
        note=reason,
        data={"transfer": transfer.pk},
    )
    member_audit(actor, "members.transfer.cancel", member, before, transfer=transfer.pk, reason=nfc(reason))
    return member


def not_available_yet() -> ValidationError:
    return ValidationError({"__all__": _("This step is not available yet.")})


def check_transfer_out(transfer: Transfer, received_on: datetime.date) -> None:
    check_open(transfer)
    if transfer.to_unit is not None:
        raise ValidationError(
            {"transfer": _("This transfer stays in the province: the receiving unit takes the file itself.")}
        )
    check_not_future(received_on, "received_on")
    check_not_before(received_on, transfer.sent_on, "received_on", _("the day it was sent"))


@transaction.atomic
def record_transfer_out(
    transfer: Transfer, *, actor, received_on: datetime.date | None = None, note: str = ""
) -> Member:
    """The union of the other province confirmed it received the member: the file leaves this registry. The
    record stays, ended, with status TRANSFERRED_OUT; it is not a resignation, and a later transfer back in is a new
    arrival."""
    received_on = received_on or today()
    transfer = lock_transfer(transfer)
    require(actor, transfer.from_unit)
    member = lock_member(transfer.member)
    check_transfer_out(transfer, received_on)
    transfer.status = Transfer.Status.RECEIVED
    transfer.received_on = received_on
    transfer.received_by = actor
    transfer.save(update_fields=["status", "received_on", "received_by"])
    before = set_status(member, MemberStatus.TRANSFERRED_OUT)
    closed = close_open_records(member, received_on)
    add_event(
        member,
        MemberEvent.Kind.TRANSFER_RECEIVED,
        actor=actor,
        on=received_on,
        note=note or transfer.destination,
        data={"transfer": transfer.pk, "destination": transfer.destination},
    )
    member_audit(actor, "members.transfer.out", member, before, transfer=transfer.pk, **closed)
    return member


# --- temporary attachment -------------------------------------------------------------------------------------


def check_attachment(member: Member, host: Unit, start: datetime.date, end: datetime.date | None) -> None:
    check_member_status(member)
    if host.pk == member.unit_id:
        raise ValidationError({"unit": _("{unit} already holds the member's file.").format(unit=host.name)})
    check_unit_active(host, "unit", start)
    check_not_future(start, "start")
    if end is not None and end < start:
        raise ValidationError({"end": _("The end date cannot be before the start date.")})
    overlapping = TemporaryAttachment.objects.filter(member=member, unit=host).filter(
        Q(end__isnull=True) | Q(end__gte=start)
    )
    if overlapping.exists():
        raise ValidationError(
            {"unit": _("{name} is already attached to {unit} then.").format(name=member.full_name, unit=host.name)}
        )


@transaction.atomic
def attach_temporarily(
    member: Member,
    host: Unit,
    *,
    actor,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
    reason: str = "",
) -> TemporaryAttachment:
    """Sinh hoạt tạm thời: the member also takes part in ``host`` (where they now live or study) while their
    own unit keeps the file; so only a cadre of the member's unit records it."""
    start = start or today()
    member = lock_member(member)
    require(actor, member.unit)
    host = fresh(host)
    check_attachment(member, host, start, end)
    attachment = TemporaryAttachment.objects.create(member=member, unit=host, start=start, end=end, reason=nfc(reason))
    add_event(
        member,
        MemberEvent.Kind.ATTACHED,
        actor=actor,
        on=start,
        other_unit=host,
        note=reason,
        data={"attachment": attachment.pk, "until": end},
    )
    member_audit(actor, "members.attachment.add", member, None, attachment=attachment.pk, host=host, until=end)
    return attachment


def may_end_attachment(user, attachment: TemporaryAttachment) -> bool:
    return can(user, MANAGE_MEMBERS, attachment.member.unit) or can(user, MANAGE_MEMBERS, attachment.unit)


def check_end_attachment(attachment: TemporaryAttachment, end: datetime.date) -> None:
    if attachment.end is not None and attachment.end <= today():
        raise ValidationError({"end": _("This attachment already ended on {date}.").format(date=d(attachment.end))})
    check_not_future(end, "end")
    check_not_before(end, attachment.start, "end", _("the start of the attachment"))


@transaction.atomic
def end_attachment(attachment: TemporaryAttachment, *, actor, end: datetime.date | None = None) -> TemporaryAttachment:
    end = end or today()
    attachment = (
        TemporaryAttachment.objects.select_for_update(of=("self",))
        .select_related("member__unit", "unit")
        .get(pk=attachment.pk)
    )
    # The host unit may say the member stopped coming; the home unit may say the reason ended.
    if not may_end_attachment(actor, attachment):
        raise PermissionDenied
    member = lock_member(attachment.member)
    check_end_attachment(attachment, end)
    attachment.end = end
    attachment.save(update_fields=["end"])
    add_event(
        member,
        MemberEvent.Kind.ATTACHMENT_ENDED,
        actor=actor,
        on=end,
        other_unit=attachment.unit,
        data={"attachment": attachment.pk},
    )
    member_audit(actor, "members.attachment.end", member, None, attachment=attachment.pk, end=end)
    return attachment


# --- annual rating --------------------------------------------------------------------------------------------


@dataclass
class RatingEntry:
    level: str
    participation: int | None = None
    note: str = ""


def rateable_members(unit: Unit):
    """The members a branch rates: those whose file it holds (also the ones it is sending on)."""
    return Member.objects.filter(unit=unit, status__in=[MemberStatus.ACTIVE, MemberStatus.TRANSFERRING])


def as_entry(value: "str | RatingEntry") -> RatingEntry:
    return value if isinstance(value, RatingEntry) else RatingEntry(level=value)


# The first year the registry keeps ratings for (the rating form offers no earlier one).
FIRST_RATED_YEAR = 2000


def check_ratings(unit: Unit, year: int, ratings: Mapping[Member, "str | RatingEntry"]) -> None:
    """All the errors of the table at once, each at its row: ``level_<member id>``, ``participation_<id>``."""
    if year > today().year:
        raise ValidationError({"year": _("A year that has not come yet cannot be rated.")})
    if year < FIRST_RATED_YEAR:
        raise ValidationError({"year": _("Ratings are kept from {year} on.").format(year=FIRST_RATED_YEAR)})
    errors: dict[str, list[str]] = {}
    minimum = rule("excellent_min_participation")
    rateable = set(rateable_members(unit).filter(pk__in=[m.pk for m in ratings]).values_list("pk", flat=True))
    for member, value in ratings.items():
        entry = as_entry(value)
        if member.pk not in rateable:
            errors.setdefault(f"level_{member.pk}", []).append(
                _("{name} is not a member of {unit}.").format(name=member.full_name, unit=unit.name)
            )
            continue
        if entry.level not in RatingLevel.values:
            errors.setdefault(f"level_{member.pk}", []).append(_("Choose one of the four levels."))
        if entry.participation is not None and not 0 <= entry.participation <= 100:
            errors.setdefault(f"participation_{member.pk}", []).append(_("Participation is a percentage, 0 to 100."))
        elif entry.level == RatingLevel.EXCELLENT and entry.participation is not None and entry.participation < minimum:
            errors.setdefault(f"participation_{member.pk}", []).append(
                _("{name}: the top level needs at least {min}% participation ({n}% given).").format(
                    name=member.full_name, min=minimum, n=entry.participation
                )
            )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def rate_members(
    unit: Unit,
    year: int,
    ratings: Mapping[Member, "str | RatingEntry"],
    *,
    actor,
    on: datetime.date | None = None,
) -> dict[str, int]:
    """The branch's yearly rating of its members, the whole table in one go (all or nothing).

    A member has one rating per year: giving another level later is a correction, recorded with what it
    replaced. Rows that do not change write nothing. Returns how many were created and corrected.
    """
    on = on or today()
    require(actor, unit)
    ids = sorted(m.pk for m in ratings)
    # Lock in a fixed order so that two cadres saving the same table cannot deadlock.
    locked = {
        m.pk: m
        for m in Member.objects.select_for_update(of=("self",)).select_related("unit").filter(pk__in=ids).order_by("pk")
    }
    ratings = {locked[m.pk]: v for m, v in ratings.items() if m.pk in locked}
    check_ratings(unit, year, ratings)
    existing = {
        r.member_id: r
        for r in AnnualRating.objects.select_for_update().filter(member_id__in=ids, year=year).order_by("member_id")
    }
    counts = {"created": 0, "corrected": 0, "unchanged": 0}
    fields = ["level", "participation", "note", "unit"]
    for member, value in sorted(ratings.items(), key=lambda item: item[0].pk):
        entry = as_entry(value)
        rating = existing.get(member.pk)
        before = audit.snapshot(rating, fields) if rating else None
        if rating is None:
            rating = AnnualRating(member=member, year=year)
        rating.level, rating.participation, rating.note, rating.unit = (
            entry.level,
            entry.participation,
            nfc(entry.note),
            unit,
        )
        after = audit.snapshot(rating, fields)
        if before == after:
            counts["unchanged"] += 1
            continue
        rating.save()
        corrected = before is not None
        counts["corrected" if corrected else "created"] += 1
        add_event(
            member,
            MemberEvent.Kind.RATED,
            actor=actor,
            on=on,
            note=_("Correction of the {year} rating").format(year=year) if corrected else "",
            data={"year": year, "level": entry.level, "participation": entry.participation, "before": before},
        )
        audit.record(
            actor=actor,
            action="members.rating.correct" if corrected else "members.rating.create",
            obj=rating,
            unit=unit,
            before=before,
            after={**after, "member": member.pk, "year": year},
        )
    return counts


# --- discipline -----------------------------------------------------------------------------------------------

# Cảnh cáo and above are decided by the directly superior union, not by the member's own branch.
SUPERIOR_LEVELS = (DisciplineLevel.WARNING, DisciplineLevel.DISMISSAL, DisciplineLevel.EXPULSION)


def check_discipline(member: Member, level: str, decided_by: Unit, decided_on: datetime.date, reason: str) -> None:
    check_member_status(member)
    if level not in DisciplineLevel.values:
        raise ValidationError({"level": _("Choose a level of discipline.")})
    if not nfc(reason):
        raise ValidationError({"reason": _("Give the reason.")})
    check_not_future(decided_on, "decided_on")
    unit = member.unit
    if level in SUPERIOR_LEVELS:
        # A strict ancestor: the directly superior union, or a level above it acting in its place.
        if not unit.path.startswith(decided_by.path) or decided_by.pk == unit.pk:
            superior = unit.parent.name if unit.parent is not None else unit.name
            raise ValidationError(
                {
                    "decided_by": _(
                        "{level} is decided by the union directly above the member's unit ({superior}), not by {unit}."
                    ).format(level=DisciplineLevel(level).label, superior=superior, unit=decided_by.name)
                }
            )
    elif not unit.path.startswith(decided_by.path):
        raise ValidationError(
            {"decided_by": _("{unit} is not the member's unit or a union above it.").format(unit=decided_by.name)}
        )


@transaction.atomic
def discipline_member(
    member: Member,
    *,
    actor,
    level: str,
    decided_by: Unit,
    reason: str,
    decided_on: datetime.date | None = None,
) -> Discipline:
    """Record a discipline decided by secret ballot at ``decided_by``. Dismissal (cách chức) ends the positions
    the member holds; expulsion (khai trừ) ends membership."""
    decided_on = decided_on or today()
    # The deciding unit records its own decision.
    decided_by = fresh(decided_by)
    require(actor, decided_by)
    member = lock_member(member)
    check_discipline(member, level, decided_by, decided_on, reason)
    discipline = Discipline.objects.create(
        member=member, level=level, decided_on=decided_on, decided_by=decided_by, reason=nfc(reason)
    )
    before = audit.snapshot(member, MEMBER_AUDIT_FIELDS)
    closed: dict = {}
    if level == DisciplineLevel.EXPULSION:
        before = set_status(member, MemberStatus.EXPELLED)
        closed = close_open_records(member, decided_on)
    elif level == DisciplineLevel.DISMISSAL:
        closed = {
            "positions_ended": Position.objects.filter(member=member)
            .filter(Q(end__isnull=True) | Q(end__gt=decided_on))
            .update(end=decided_on)
        }
    add_event(
        member,
        MemberEvent.Kind.DISCIPLINED,
        actor=actor,
        on=decided_on,
        other_unit=decided_by,
        note=str(DisciplineLevel(level).label),
        data={"discipline": discipline.pk, "level": level},
    )
    member_audit(actor, "members.discipline", member, before, discipline=discipline.pk, level=level, **closed)
    return discipline


# --- graduation -----------------------------------------------------------------------------------------------


def age_in_year(member: Member, year: int) -> int:
    """The age a member reaches during ``year``: the age limit is about the year, not the birthday."""
    return year - member.date_of_birth.year


def keeping_position(member: Member, on: datetime.date) -> Position | None:
    """A position that keeps the member past the age limit while in office (elected cadres, full-time staff),
    from prefetched ``member.positions``."""
    for position in member.positions.all():
        if position.keeps_membership and position.start <= on and (position.end is None or position.end >= on):
            return position
    return None


def kept_event(member: Member, year: int) -> MemberEvent | None:
    """The latest decision of the branch to keep the member past the age limit, from prefetched ``member.events``
    (only KEPT events are prefetched); it holds until the extended limit."""
    kept = [e for e in member.events.all() if e.date.year <= year]
    return kept[-1] if kept else None


@dataclass
class GraduationRow:
    member: Member
    age: int
    position: Position | None = None
    kept: MemberEvent | None = None
    # Past the extended limit: the branch can no longer keep the member.
    over_cap: bool = False


@dataclass
class GraduationList:
    year: int
    due: list[GraduationRow] = field(default_factory=list)
    kept: list[GraduationRow] = field(default_factory=list)
    exempt: list[GraduationRow] = field(default_factory=list)


def graduation_candidates(unit: Unit, year: int, *, on: datetime.date | None = None) -> GraduationList:
    """Members of ``unit``'s subtree older than the age limit in ``year``: ``due`` to graduate, ``kept`` by their
    branch (until the extended limit) and ``exempt`` while in a position that keeps membership. Three queries
    whatever the size."""
    on = on or today()
    limit, cap = rule("member_age_limit"), rule("extended_age_limit")
    members = (
        Member.objects.filter(
            unit__path__startswith=unit.path,
            status=MemberStatus.ACTIVE,
            kind=MemberKind.UNION,
            date_of_birth__lt=datetime.date(year - limit, 1, 1),
        )
        .select_related("unit")
        .prefetch_related(
            Prefetch("positions", queryset=Position.objects.filter(keeps_membership=True).order_by("start")),
            Prefetch(
                "events",
                queryset=MemberEvent.objects.filter(kind=MemberEvent.Kind.KEPT).order_by("date", "id"),
            ),
        )
        .order_by("date_of_birth", "search_name")
    )
    result = GraduationList(year=year)
    for member in members:
        row = GraduationRow(member=member, age=age_in_year(member, year))
        row.position = keeping_position(member, on)
        row.over_cap = row.age > cap
        if row.position is not None:
            result.exempt.append(row)
            continue
        row.kept = kept_event(member, year)
        if row.kept is not None and not row.over_cap:
            result.kept.append(row)
        else:
            result.due.append(row)
    return result


def check_graduation(members: Iterable[Member], ceremony_on: datetime.date) -> None:
    check_not_future(ceremony_on, "ceremony_on")
    limit = rule("member_age_limit")
    errors = []
    for member in members:
        try:
            check_member_status(member)
        except ValidationError as exc:
            errors.extend(exc.messages)
            continue
        age = age_in_year(member, ceremony_on.year)
        if age <= limit:
            errors.append(
                _("{name} is {age} in {year}, not over {limit}.").format(
                    name=member.full_name, age=age, year=ceremony_on.year, limit=limit
                )
            )
        position = keeping_position(member, ceremony_on)
        if position is not None:
            errors.append(
                _("{name} holds “{title}”, which keeps membership while in office: end the position first.").format(
                    name=member.full_name, title=position.title
                )
            )
    if errors:
        raise ValidationError({"members": errors})


@transaction.atomic
def graduate_members(members: Iterable[Member], *, actor, ceremony_on: datetime.date | None = None) -> int:
    """Trưởng thành Đoàn: the members leave the union at the age limit, with the ceremony's date. All or none."""
    ceremony_on = ceremony_on or today()
    ids = sorted({m.pk for m in members})
    if not ids:
        raise ValidationError({"members": _("Choose at least one member.")})
    locked = list(
        Member.objects.select_for_update(of=("self",))
        .select_related("unit")
        .prefetch_related("positions")
        .filter(pk__in=ids)
        .order_by("pk")
    )
    for member in locked:
        require(actor, member.unit)
    check_graduation(locked, ceremony_on)
    for member in locked:
        before = set_status(member, MemberStatus.GRADUATED)
        closed = close_open_records(member, ceremony_on)
        add_event(member, MemberEvent.Kind.GRADUATED, actor=actor, on=ceremony_on)
        member_audit(actor, "members.graduate", member, before, ceremony_on=ceremony_on, **closed)
    return len(locked)


def check_keep(member: Member, on: datetime.date, reason: str) -> None:
    check_member_status(member)
    check_not_future(on, "on")
    limit, cap = rule("member_age_limit"), rule("extended_age_limit")
    age = age_in_year(member, on.year)
    if age <= limit:
        raise ValidationError(
            {
                "member": _("{name} is not over {limit} yet: nothing to decide.").format(
                    name=member.full_name, limit=limit
                )
            }
        )
    if age > cap:
        raise ValidationError(
            {
                "member": _("{name} is {age} in {year}: a branch keeps members only up to {cap}.").format(
                    name=member.full_name, age=age, year=on.year, cap=cap
                )
            }
        )
    if not nfc(reason):
        raise ValidationError({"reason": _("Give the reason.")})


@transaction.atomic
def keep_member(member: Member, *, actor, reason: str, on: datetime.date | None = None) -> MemberEvent:
    """The branch keeps a member who wishes to stay past the age limit, until the extended limit."""
    on = on or today()
    member = lock_member(member)
    require(actor, member.unit)
    check_keep(member, on, reason)
    kind = MemberEvent.Kind.KEPT  # type: ignore[attr-defined]
    event = add_event(member, kind, actor=actor, on=on, note=reason)
    member_audit(actor, "members.keep", member, None, reason=nfc(reason))
    return event


# --- end of membership ----------------------------------------------------------------------------------------


def check_end(member: Member, on: datetime.date, reason: str, *, allowed=(MemberStatus.ACTIVE,)) -> None:
    check_member_status(member, allowed)
    check_not_future(on, "on")
    check_not_before(on, member.joined_on, "on", _("the day the member joined"))
    if not nfc(reason):
        raise ValidationError({"reason": _("Give the reason.")})


def check_strike_off(member: Member, on: datetime.date, reason: str, months_missed: int) -> None:
    check_end(member, on, reason)
    months = rule("strike_off_months")
    if not 0 <= months_missed <= 12:
        raise ValidationError({"months_missed": _("A number of months in a year: 0 to 12.")})
    if months_missed < months:
        raise ValidationError(
            {
                "months_missed": _(
                    "A member is struck off after {n} months in a year without attending or paying dues; {m} given."
                ).format(n=months, m=months_missed)
            }
        )


def close_membership(
    member: Member, status: str, kind: str, *, actor, on: datetime.date, note: str, action: str, **data
):
    before = set_status(member, status)
    closed = close_open_records(member, on)
    add_event(member, kind, actor=actor, on=on, note=note, data=data)
    member_audit(actor, action, member, before, reason=nfc(note), **data, **closed)
    return member


@transaction.atomic
def strike_off(member: Member, *, actor, reason: str, months_missed: int, on: datetime.date | None = None) -> Member:
    """Xóa tên: months in a year without attending or paying dues, without good reason."""
    on = on or today()
    member = lock_member(member)
    require(actor, member.unit)
    check_strike_off(member, on, reason, months_missed)
    return close_membership(
        member,
        MemberStatus.STRUCK_OFF,
        MemberEvent.Kind.STRUCK_OFF,
        actor=actor,
        on=on,
        note=reason,
        action="members.strike_off",
        months_missed=months_missed,
    )


@transaction.atomic
def record_resignation(member: Member, *, actor, reason: str, on: datetime.date | None = None) -> Member:
    """Ra khỏi Đoàn at the member's own request."""
    on = on or today()
    member = lock_member(member)
    require(actor, member.unit)
    check_end(member, on, reason)
    return close_membership(
        member,
        MemberStatus.RESIGNED,
        MemberEvent.Kind.RESIGNED,
        actor=actor,
        on=on,
        note=reason,
        action="members.resign",
    )


def check_death(member: Member, on: datetime.date) -> None:
    # A death is recorded whatever is under way: an open transfer is closed with it.
    check_member_status(member, (MemberStatus.ACTIVE, MemberStatus.TRANSFERRING))
    check_not_future(on, "on")
    check_not_before(on, member.joined_on, "on", _("the day the member joined"))


@transaction.atomic
def record_death(member: Member, *, actor, on: datetime.date | None = None, note: str = "") -> Member:
    on = on or today()
    member = lock_member(member)
    require(actor, member.unit)
    check_death(member, on)
    open_transfer = Transfer.objects.select_for_update().filter(member=member, status=Transfer.Status.SENT).first()
    if open_transfer is not None:
        open_transfer.status = Transfer.Status.CANCELLED
        open_transfer.save(update_fields=["status"])
    return close_membership(
        member,
        MemberStatus.DECEASED,
        MemberEvent.Kind.DECEASED,
        actor=actor,
        on=on,
        note=note,
        action="members.death",
        transfer_cancelled=open_transfer.pk if open_transfer else None,
    )


# --- positions ------------------------------------------------------------------------------------------------


def check_position(member: Member, title: str, unit: Unit, start: datetime.date) -> None:
    check_member_status(member)
    if not nfc(title):
        raise ValidationError({"title": _("Enter the position.")})
    check_unit_active(unit, "unit", start)
    check_not_future(start, "start")
    # Compared in Python: SQLite folds only ASCII case, and "Đoàn" must match "đoàn".
    held = Position.objects.filter(member=member, unit=unit, end__isnull=True).values_list("title", flat=True)
    if nfc(title).casefold() in {t.casefold() for t in held}:
        raise ValidationError(
            {"title": _("{name} already holds this position at {unit}.").format(name=member.full_name, unit=unit.name)}
        )


@transaction.atomic
def add_position(
    member: Member,
    *,
    actor,
    title: str,
    unit: Unit,
    start: datetime.date | None = None,
    keeps_membership: bool = False,
) -> Position:
    """A position at ``unit`` (secretary, committee member, full-time staff…); the unit where the member holds
    it records it, which may be above the member's own unit."""
    start = start or today()
    unit = fresh(unit)
    require(actor, unit)
    member = lock_member(member)
    check_position(member, title, unit, start)
    position = Position.objects.create(
        member=member, title=nfc(title), unit=unit, start=start, keeps_membership=keeps_membership
    )
    add_event(
        member,
        MemberEvent.Kind.POSITION,
        actor=actor,
        on=start,
        other_unit=unit,
        note=position.title,
        data={"position": position.pk, "keeps_membership": keeps_membership},
    )
    member_audit(actor, "members.position.add", member, None, position=position.pk, title=position.title, at=unit)
    return position


def check_end_position(position: Position, end: datetime.date) -> None:
    if position.end is not None and position.end <= today():
        raise ValidationError({"end": _("This position already ended on {date}.").format(date=d(position.end))})
    check_not_future(end, "end")
    check_not_before(end, position.start, "end", _("the start of the position"))


@transaction.atomic
def end_position(position: Position, *, actor, end: datetime.date | None = None) -> Position:
    end = end or today()
    position = Position.objects.select_for_update(of=("self",)).select_related("unit", "member").get(pk=position.pk)
    require(actor, position.unit)
    member = lock_member(position.member)
    check_end_position(position, end)
    position.end = end
    position.save(update_fields=["end"])
    add_event(
        member,
        MemberEvent.Kind.POSITION,
        actor=actor,
        on=end,
        other_unit=position.unit,
        note=_("Left the position: {title}").format(title=position.title),
        data={"position": position.pk, "ended": True},
    )
    member_audit(actor, "members.position.end", member, None, position=position.pk, end=end)
    return position
