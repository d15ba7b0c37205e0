"""Members over the API: list and search with the filters of the web list, and one record. Protected fields
are masked exactly as in the web list; there is no unmasking over the API."""

import datetime
import uuid
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import LimitOffsetPagination, paginate

from doanso.accounts.roles import IMPORT_MEMBERS, MANAGE_MEMBERS, VIEW_MEMBERS
from doanso.org.models import Unit

from . import selectors
from .forms import MemberFilterForm
from .models import ImportMapping, Member, Transfer
from .privacy import mask_citizen_id, mask_phone
from .services import lifecycle

router = Router(tags=["members"])


class MemberOut(Schema):
    id: int
    kind: str
    full_name: str
    family_name: str
    middle_name: str
    given_name: str
    date_of_birth: datetime.date
    sex: str
    ethnicity: str
    citizen_id_masked: str
    phone_masked: str
    unit_code: str
    status: str
    joined_on: datetime.date | None
    card_number: str | None
    is_sample: bool

    @staticmethod
    def resolve_citizen_id_masked(obj):
        return mask_citizen_id(obj.citizen_id)

    @staticmethod
    def resolve_phone_masked(obj):
        return mask_phone(obj.phone)

    @staticmethod
    def resolve_unit_code(obj):
        return obj.unit.code


class MemberFilters(Schema):
    q: str = ""
    unit: str | None = None
    status: str = ""
    sex: str = ""
    kind: str = ""
    ethnicity: str = ""
    party: str = ""
    occupation: str = ""
    age_min: int | None = None
    age_max: int | None = None
    rating: str = ""
    rating_year: int | None = None


@router.get("/", response=list[MemberOut], summary="List and search members")
@paginate(LimitOffsetPagination)
def list_members(request, filters: Query[MemberFilters]):
    """Members in the caller's scope, sorted by given name the Vietnamese way. ``q`` matches names (accents
    ignored), citizen IDs, phones and card numbers; ``unit`` is a unit code (its whole subtree);
    ``status=all`` includes graduated, struck-off and other former members."""
    # Checked by the web list's own form: the same choices, bounds and messages (422 at the field).
    form = MemberFilterForm({k: v for k, v in filters.dict().items() if v not in (None, "")}, user=request.user)
    if not form.is_valid():
        if "unit" in form.errors:
            raise Http404  # a unit outside the caller's units reads as missing, like the web pages
        raise ValidationError({field: list(messages) for field, messages in form.errors.items()})
    return selectors.search(request.user, **form.criteria()).select_related("unit").order_by("sort_name", "id")


@router.get("/{int:member_id}", response=MemberOut, summary="One member")
def member_detail(request, member_id: int):
    return get_object_or_404(Member.objects.restrict(request.user, VIEW_MEMBERS).select_related("unit"), pk=member_id)


# --- lifecycle actions --------------------------------------------------------------------------------------
# The same services as the web pages: a refused action answers 422 with the messages keyed by field (see the
# ValidationError handler in doanso/api.py); a member, unit or transfer outside the caller's scope is a 404.


class TransferIn(Schema):
    to_unit: str | None = None  # a unit code of the province …
    destination: str = ""  # … or a union outside it
    assessment: str = ""
    sent_on: datetime.date | None = None
    dues_paid_until: datetime.date | None = None


class TransferOut(Schema):
    id: int
    member_id: int
    from_unit_code: str
    to_unit_code: str | None
    destination: str
    status: str
    sent_on: datetime.date
    received_on: datetime.date | None
    verification_code: str

    @staticmethod
    def resolve_from_unit_code(obj):
        return obj.from_unit.code

    @staticmethod
    def resolve_to_unit_code(obj):
        return obj.to_unit.code if obj.to_unit else None


class ReceiveIn(Schema):
    place_in: str | None = None  # a unit code under the receiving unit; the receiving unit itself by default
    received_on: datetime.date | None = None


class CancelIn(Schema):
    reason: str = ""


class EndIn(Schema):
    reason_kind: str  # "strike_off", "resignation" or "death"
    reason: str = ""
    months_missed: int = 0
    on: datetime.date | None = None


class RatingIn(Schema):
    member_id: int
    level: str
    participation: int | None = None


class RatingsIn(Schema):
    year: int
    ratings: list[RatingIn]


def _member(request, member_id: int, action: str = MANAGE_MEMBERS) -> Member:
    return get_object_or_404(Member.objects.restrict(request.user, action).select_related("unit"), pk=member_id)


def _unit(request, code: str | None, action: str = MANAGE_MEMBERS):
    if not code:
        return None
    return get_object_or_404(Unit.objects.restrict(request.user, action), code__iexact=code)


@router.post("/{int:member_id}/transfers", response={201: TransferOut}, summary="Send a member to another unit")
def send_transfer(request, member_id: int, payload: TransferIn):
    member = _member(request, member_id)
    # The receiving unit may be anywhere in the province: it is looked up among all active units.
    to_unit = (
        get_object_or_404(Unit.objects.filter(active_to__isnull=True), code__iexact=payload.to_unit)
        if payload.to_unit
        else None
    )
    transfer = lifecycle.send_transfer(
        member,
        actor=request.user,
        to_unit=to_unit,
        destination=payload.destination,
        assessment=payload.assessment,
        sent_on=payload.sent_on,
        dues_paid_until=payload.dues_paid_until,
    )
    return Status(201, Transfer.objects.select_related("from_unit", "to_unit").get(pk=transfer.pk))


@router.get("/transfers/inbox", response=list[TransferOut], summary="Transfers waiting for the caller's units")
def transfer_inbox(request):
    receiving = Unit.objects.restrict(request.user, MANAGE_MEMBERS).values("pk")
    return list(
        Transfer.objects.filter(status=Transfer.Status.SENT, to_unit__in=receiving).select_related(
            "from_unit", "to_unit"
        )
    )


def _transfer(request, transfer_id: int) -> Transfer:
    # Visible to both sides: the sender's and the receiver's managers.
    scope = Unit.objects.restrict(request.user, MANAGE_MEMBERS).values("pk")
    return get_object_or_404(
        Transfer.objects.filter(Q(from_unit__in=scope) | Q(to_unit__in=scope)).select_related("from_unit", "to_unit"),
        pk=transfer_id,
    )


@router.post("/transfers/{int:transfer_id}/receive", response=MemberOut, summary="Receive a transferred member")
def receive_transfer(request, transfer_id: int, payload: ReceiveIn):
    transfer = _transfer(request, transfer_id)
    member = lifecycle.receive_transfer(
        transfer, actor=request.user, received_on=payload.received_on, place_in=_unit(request, payload.place_in)
    )
    return Member.objects.select_related("unit").get(pk=member.pk)


@router.post("/transfers/{int:transfer_id}/cancel", response=MemberOut, summary="Cancel a transfer")
def cancel_transfer(request, transfer_id: int, payload: CancelIn):
    member = lifecycle.cancel_transfer(_transfer(request, transfer_id), actor=request.user, reason=payload.reason)
    return Member.objects.select_related("unit").get(pk=member.pk)


@router.post("/{int:member_id}/end", response=MemberOut, summary="Strike off, record a resignation or a death")
def end_membership(request, member_id: int, payload: EndIn):
    member = _member(request, member_id)
    if payload.reason_kind == "strike_off":
        member = lifecycle.strike_off(
            member, actor=request.user, reason=payload.reason, months_missed=payload.months_missed, on=payload.on
        )
    elif payload.reason_kind == "resignation":
        member = lifecycle.record_resignation(member, actor=request.user, reason=payload.reason, on=payload.on)
    elif payload.reason_kind == "death":
        member = lifecycle.record_death(member, actor=request.user, on=payload.on, note=payload.reason)
    else:
        raise ValidationError({"reason_kind": _("Choose strike_off, resignation or death.")})
    return Member.objects.select_related("unit").get(pk=member.pk)


@router.post("/units/{code}/ratings", summary="Rate the members of a branch for a year")
def rate_branch(request, code: str, payload: RatingsIn):
    unit = _unit(request, code)
    # Only the branch's own members are looked up: any other id is unknown, whoever it is (an id from elsewhere
    # must not tell its name, nor even that it exists), and an id beyond the column's range is unknown too.
    wanted = [r.member_id for r in payload.ratings if 0 < r.member_id < 2**63]
    members = lifecycle.rateable_members(unit).in_bulk(wanted)
    missing = [r.member_id for r in payload.ratings if r.member_id not in members]
    if missing:
        raise ValidationError(
            {
                "ratings": _("Not members rated by {unit}: {ids}.").format(
                    unit=unit.name, ids=", ".join(map(str, missing))
                )
            }
        )
    ratings = {
        members[r.member_id]: lifecycle.RatingEntry(level=r.level, participation=r.participation)
        for r in payload.ratings
    }
    return lifecycle.rate_members(unit, payload.year, ratings, actor=request.user)


# --- imports --------------------------------------------------------------------------------------------------


class ImportStarted(Schema):
    task_id: str
    status_url: str


@router.post("/imports", response={202: ImportStarted}, summary="Import a spreadsheet of members")
def start_import(
    request,
    file: UploadedFile = File(...),
    unit: str = Form(...),
    mapping: str = Form(""),
    duplicates: str = Form("update"),
    dry_run: bool = Form(True),
    only_valid: bool = Form(False),
):
    """The web import as a background task: a dry run by default (the error report lists every rejected row),
    or the import itself (all or nothing unless ``only_valid``). Poll ``status_url`` for progress and result.
    ``mapping`` names a saved or built-in column mapping; without it the columns are guessed from the headers."""
    from doanso.core.models import private_storage
    from doanso.core.tasks import start_task

    from . import importing

    target = get_object_or_404(Unit.objects.restrict(request.user, IMPORT_MEMBERS), code__iexact=unit)
    if duplicates not in (importing.DUPLICATES_UPDATE, importing.DUPLICATES_REJECT):
        raise ValidationError({"duplicates": _("Choose update or reject.")})
    saved = ImportMapping.objects.filter(name=mapping).first() if mapping else None
    if mapping and saved is None:
        raise ValidationError({"mapping": _("No saved column mapping has this name.")})
    data = file.read()
    try:
        sheet = importing.read_sheet(data, file.name or "")
    except importing.ImportFileError as exc:
        raise ValidationError({"file": str(exc)}) from exc
    name = private_storage().save(
        f"imports/{uuid.uuid4().hex}{Path(file.name or '').suffix.lower()[:6]}", ContentFile(data)
    )
    options = importing.ImportOptions(
        unit_id=target.pk,
        mapping=saved.mapping if saved else None,
        sheet=sheet.name,
        duplicates=duplicates,
        filename=Path(file.name or "").name[:200],
        mapping_name=saved.name if saved else "",
    ).as_dict()
    if dry_run:
        run = start_task(
            importing.preview_members_import,
            kind="members.import_preview",
            owner=request.user,
            unit=target,
            title=_("Checking {file} for {unit}").format(file=file.name, unit=target.name),
            storage_name=name,
            options=options,
            language=get_language(),
        )
    else:
        run = start_task(
            importing.commit_members_import,
            kind="members.import_commit",
            owner=request.user,
            unit=target,
            title=_("Importing {file} into {unit}").format(file=file.name, unit=target.name),
            storage_name=name,
            options=options,
            actor_id=request.user.pk,
            only_valid=only_valid,
            language=get_language(),
        )
    return Status(202, {"task_id": str(run.pk), "status_url": f"/api/v1/members/tasks/{run.pk}"})


class TaskOut(Schema):
    id: str
    kind: str
    status: str
    done: int
    total: int
    message: str
    result: dict
    error_count: int


@router.get("/tasks/{task_id}", response=TaskOut, summary="Progress and result of a background task")
def task_status(request, task_id: uuid.UUID):
    from doanso.core.views import visible_tasks

    run = get_object_or_404(visible_tasks(request.user), pk=task_id)
    return {
        "id": str(run.pk),
        "kind": run.kind,
        "status": run.status,
        "done": run.done,
        "total": run.total,
        "message": run.message,
        "result": run.result,
        "error_count": run.error_count,
    }
