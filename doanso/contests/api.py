"""Contests over the API, for the mobile app: the contest, registration (or joining as a member), start, the
attempt (to resume), saving answers, submitting, the result and the published results.

A public participant is identified by the token that registration returns (header ``X-Participant-Token``);
a member by their API token or session. The attempt is reached by its key, as on the web (decisions/0011).
Refusals answer {"error", "code"}: 404 not_found, 409 (stale, bad_seq, bad_option, bad_question, bad_prediction,
cap_reached, closed…), 410 time_up / submitted, 429 rate_limited; values of the wrong shape and registrations
refused by the rules answer 422 {"errors": {field: [messages]}} (see doanso/api.py).
"""

import datetime
import json

import pydantic
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from ninja.errors import ValidationError as InputError

from doanso.org.models import Unit

from . import selectors
from .models import Attempt, Audience, Contest, Participant, Round, RoundResult
from .public_views import _ip
from .services import fairplay, taking
from .services.taking import AttemptRefused

router = Router(tags=["contests"])
_SALT = "doanso.contests.participant"


def participant_token(participant: Participant) -> str:
    return signing.dumps(participant.pk, salt=_SALT, compress=True)


def _participant(request, contest_id: int) -> Participant | None:
    token = request.headers.get("X-Participant-Token", "")
    pk = None
    if token:
        try:
            pk = signing.loads(token, salt=_SALT)
        except signing.BadSignature:
            pk = None
    if pk is not None:
        found = Participant.objects.filter(pk=pk, contest_id=contest_id).first()
        if found is not None:
            return found
    user = getattr(request, "user", None)
    if (user is None or not user.is_authenticated) and request.headers.get("Authorization"):
        # A member's app sends its API token (these routes take the public's token too, so ninja's auth is off).
        from doanso.api import TokenAuth

        user = TokenAuth()(request)
    if user is not None and user.is_authenticated:
        return Participant.objects.filter(contest_id=contest_id, user=user).first()
    return None


def _refusal(exc: AttemptRefused):
    code = next(iter(e.code for errors in exc.error_dict.values() for e in errors), "refused")
    status = {"not_found": 404, "time_up": 410, "submitted": 410}.get(code, 409)
    return Status(status, {"error": " ".join(exc.messages), "code": code})


def _no_attempt():
    return Status(404, {"error": _("This attempt does not exist."), "code": "not_found"})


def _limited(exc: fairplay.RateLimited):
    return Status(429, {"error": str(exc), "code": "rate_limited"})


# The busiest route (at a round's close every phone saves answers) reads its body and writes its answer itself:
# ninja's generic parameter and response handling was a quarter of a save's time in the web worker. Its body is
# still described to OpenAPI, and bad input is refused in the same shapes as elsewhere (the API's exception
# handlers). The submit writes its result itself too. Both are reached through the contestants' lane
# (contests/middleware.py), past most of the middleware and ninja's dispatch; ninja serves them where it is not.
_JSON = "application/json; charset=utf-8"


def _body(request, schema: type[pydantic.BaseModel]):
    from doanso.api import JsonParser  # not at import time: doanso.api imports this module

    try:
        data = JsonParser().parse_body(request)
    except (ValueError, RecursionError) as exc:  # not JSON, not UTF-8, a NUL character, or nested too deep
        raise HttpError(400, "Cannot parse request body") from exc
    try:
        return schema.model_validate(data)
    except pydantic.ValidationError as exc:
        raise InputError([{**e, "loc": ("body", "payload", *e["loc"])} for e in exc.errors(include_url=False)]) from exc


def _documented_body(schema: type[pydantic.BaseModel]) -> dict:
    return {"requestBody": {"content": {"application/json": {"schema": schema.model_json_schema()}}, "required": True}}


class Error(Schema):
    error: str
    code: str


class RoundOut(Schema):
    id: int
    number: int
    title: str
    opens_at: datetime.datetime
    closes_at: datetime.datetime
    question_count: int
    time_limit: int
    attempt_cap: int
    prediction_text: str
    results_published: bool


class ContestOut(Schema):
    id: int
    title: str
    rules: str
    audience: str
    organiser: str
    rounds: list[RoundOut]

    @staticmethod
    def resolve_organiser(obj):
        return obj.organiser.name

    @staticmethod
    def resolve_rounds(obj):
        return list(obj.rounds.all())


@router.get("/{int:contest_id}", response=ContestOut, auth=None, summary="A published contest and its rounds")
def contest_detail(request, contest_id: int):
    return get_object_or_404(Contest.objects.published().select_related("organiser"), pk=contest_id)


class RegisterIn(Schema):
    full_name: str
    date_of_birth: datetime.date
    phone: str
    unit: str  # the unit's code
    citizen_id: str = ""
    occupation: str = ""


class ParticipantOut(Schema):
    participant_id: int
    token: str
    full_name: str
    unit: str


def _participant_out(p: Participant) -> dict:
    return {"participant_id": p.pk, "token": participant_token(p), "full_name": p.full_name, "unit": p.unit.name}


@router.post(
    "/{int:contest_id}/participants",
    response={201: ParticipantOut, 429: Error},
    auth=None,
    summary="Register to take part (the public)",
)
def register_participant(request, contest_id: int, payload: RegisterIn):
    contest = get_object_or_404(Contest.objects.published(), pk=contest_id, audience=Audience.PUBLIC)
    try:
        fairplay.throttle(("register", _ip(request) or "-"))
    except fairplay.RateLimited as exc:
        return _limited(exc)
    unit = Unit.objects.filter(code__iexact=payload.unit.strip(), path__startswith=contest.audience_unit.path).first()
    if unit is None:
        raise ValidationError({"unit": _("Choose your unit from the suggestions (a unit of this contest).")})
    data = payload.dict()
    data["unit"] = unit
    participant = taking.register_participant(contest, ip=_ip(request), **data)
    return Status(201, _participant_out(participant))


@router.post("/{int:contest_id}/join", response=ParticipantOut, summary="Take part as the logged-in member")
def join_contest(request, contest_id: int):
    contest = get_object_or_404(Contest.objects.published(), pk=contest_id)
    return _participant_out(taking.join_as_member(contest, request.user))


class OptionOut(Schema):
    id: int
    text: str


class QuestionOut(Schema):
    position: int
    text: str
    multiple: bool
    options: list[OptionOut]
    chosen: list[int]
    seq: int


class AttemptOut(Schema):
    key: str
    status: str
    started_at: datetime.datetime
    deadline: datetime.datetime
    remaining_seconds: int
    prediction_text: str
    prediction: int | None
    prediction_seq: int
    questions: list[QuestionOut]


def _attempt_out(attempt: Attempt) -> dict:
    questions = selectors.attempt_questions(attempt)
    return {
        "key": attempt.key,
        "status": attempt.status,
        "started_at": attempt.started_at,
        "deadline": attempt.deadline,
        "remaining_seconds": selectors.remaining_seconds(attempt),
        "prediction_text": attempt.round.prediction_text if attempt.round.prediction_kind != "none" else "",
        "prediction": attempt.prediction,
        "prediction_seq": attempt.prediction_seq,
        "questions": questions,
    }


@router.post(
    "/rounds/{int:round_id}/attempts",
    response={201: AttemptOut, 401: Error, 404: Error, 409: Error, 410: Error, 429: Error},
    auth=None,
    summary="Start an attempt (or resume the one in progress)",
)
def start_attempt(request, round_id: int):
    round_ = get_object_or_404(Round.objects.select_related("contest"), pk=round_id, contest__is_published=True)
    participant = _participant(request, round_.contest_id)
    if participant is None:
        return Status(401, {"error": _("Register first, or log in as a member."), "code": "who"})
    try:
        fairplay.throttle(("start", _ip(request) or "-"))
        attempt = taking.start_attempt(round_, participant, ip=_ip(request))
    except fairplay.RateLimited as exc:
        return _limited(exc)
    except AttemptRefused as exc:
        return _refusal(exc)
    return Status(201, _attempt_out(attempt))


@router.get("/attempts/{key}", response={200: AttemptOut, 404: Error}, auth=None, summary="The attempt (to resume)")
def attempt_detail(request, key: str):
    attempt = taking.attempt_for_page(key)
    if attempt is None:
        return _no_attempt()
    return _attempt_out(attempt)


class AnswerIn(Schema):
    seq: int
    position: int | None = None
    chosen: list[int] | None = None  # [] clears the answer
    prediction: int | str | None = None  # a number, or text as typed ("1.250.000")


class Saved(Schema):
    ok: bool
    seq: int


@router.post(
    "/attempts/{key}/answers",
    response={200: Saved, 404: Error, 409: Error, 410: Error, 429: Error},
    auth=None,
    summary="Save one answer (or the prediction)",
    openapi_extra=_documented_body(AnswerIn),
)
def save_answer(request, key: str):
    payload = _body(request, AnswerIn)
    try:
        fairplay.throttle(("save", key), ("save_ip", _ip(request) or "-"))
        if payload.prediction is not None:
            taking.save_prediction(key, payload.prediction, payload.seq)
        elif payload.chosen is None:
            # A save without "chosen" would otherwise clear the saved answer.
            return Status(
                409, {"error": _("Send the options chosen (an empty list clears the answer)."), "code": "bad_option"}
            )
        else:
            taking.save_answer(key, payload.position or 0, payload.chosen, payload.seq)
    except fairplay.RateLimited as exc:
        return _limited(exc)
    except AttemptRefused as exc:
        return _refusal(exc)
    return HttpResponse(b'{"ok": true, "seq": %d}' % payload.seq, content_type=_JSON)


class ResultOut(Schema):
    key: str
    correct: int
    question_total: int
    prediction: int | None
    duration_ms: int
    submitted_at: datetime.datetime


def _result_json(attempt: Attempt) -> bytes:
    """ResultOut of ``attempt`` as ninja renders it (at a round's close the submits come by the thousand: the
    generic validation and rendering were a fifth of a submit's time in the web worker)."""
    return json.dumps(
        {field: getattr(attempt, field) for field in ResultOut.model_fields}, cls=DjangoJSONEncoder
    ).encode()


@router.post(
    "/attempts/{key}/submit",
    response={200: ResultOut, 404: Error, 429: Error},
    auth=None,
    summary="Submit the attempt (a repeated submit returns the same result)",
)
def submit_attempt(request, key: str):
    try:
        fairplay.throttle(("submit", _ip(request) or "-"))
        attempt = taking.submit_attempt(key)
    except fairplay.RateLimited as exc:
        return _limited(exc)
    except AttemptRefused as exc:
        return _refusal(exc)
    return HttpResponse(_result_json(attempt), content_type=_JSON)


class StandingOut(Schema):
    position: int | None = None  # the person's place by their best attempt, when stored
    rank: int | None = None
    prize: str = ""
    after: int | None = None  # past the stored head: the number of places stored before theirs


class AttemptResultOut(ResultOut):
    results_published: bool
    standing: StandingOut | None  # null until the round's results are published

    @staticmethod
    def resolve_results_published(obj):
        return obj.round.results_published

    @staticmethod
    def resolve_standing(obj):
        standing = selectors.standing(obj)
        if standing is None:
            return None
        result = standing.result
        if result is None:
            return {"after": standing.after}
        return {"position": result.position, "rank": result.rank, "prize": result.prize}


@router.get(
    "/attempts/{key}/result",
    response={200: AttemptResultOut, 404: Error, 409: Error},
    auth=None,
    summary="A submitted attempt's result, and the person's place once the results are published",
)
def attempt_result(request, key: str):
    attempt = taking.attempt_for_page(key)
    if attempt is None:
        return _no_attempt()
    if attempt.is_open:
        return Status(409, {"error": _("This attempt has not been submitted yet."), "code": "in_progress"})
    return attempt


class WinnerOut(Schema):
    position: int
    rank: int
    prize: str
    full_name: str
    unit: str
    correct: int
    distance: int | None
    duration_ms: int


@router.get("/rounds/{int:round_id}/results", response=list[WinnerOut], auth=None, summary="Published prize winners")
def round_results(request, round_id: int):
    round_ = get_object_or_404(Round, pk=round_id, results_published=True, contest__is_published=True)
    rows = RoundResult.objects.filter(round=round_).exclude(prize="").select_related("participant", "unit")
    return [
        {
            "position": r.position,
            "rank": r.rank,
            "prize": r.prize,
            "full_name": r.participant.full_name,
            "unit": r.unit.name,
            "correct": r.correct,
            "distance": r.distance,
            "duration_ms": r.duration_ms,
        }
        for r in rows.order_by("position")
    ]
