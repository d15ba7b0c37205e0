"""Organisers' writes: contests, rounds, quotas and the question bank. Each checks the right at the organiser
unit, validates with messages keyed by field, and writes an audit record."""

import re
from collections.abc import Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from doanso.accounts.scope import can
from doanso.core import audit
from doanso.core.text import fold, nfc

from ..models import (
    PRIZE_ORDER,
    Attempt,
    AttemptStatus,
    Contest,
    PredictionKind,
    Question,
    QuestionKind,
    QuestionVersion,
    Round,
    UnitQuota,
)
from ..permissions import MANAGE_CONTESTS

CONTEST_FIELDS = [
    "organiser",
    "title",
    "rules",
    "audience",
    "audience_unit",
    "is_published",
    "challenge_enabled",
    "min_seconds_per_question",
    "prize_points",
    "rate_weight",
]
ROUND_FIELDS = [
    "number",
    "title",
    "opens_at",
    "closes_at",
    "question_count",
    "topic_quotas",
    "time_limit",
    "attempt_cap",
    "prediction_kind",
    "prediction_text",
    "prizes",
]
MAX_OPTIONS = 8


def _require(actor, unit) -> None:
    if not can(actor, MANAGE_CONTESTS, unit):
        raise PermissionDenied


def forget_bank(contest_id: int) -> None:
    """New attempts draw from the bank as it is after this transaction (the draw caches the bank under a key
    that holds the generation, so the next attempt after the commit reads it afresh)."""
    Contest.objects.filter(pk=contest_id).update(bank_generation=F("bank_generation") + 1)


def _check_prize_points(points) -> dict:
    if not isinstance(points, dict):
        raise ValidationError({"prize_points": _("Give the points of each prize as whole numbers.")})
    clean = {}
    for key in PRIZE_ORDER:
        value = points.get(key.value, 0)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 1000:
            raise ValidationError({"prize_points": _("Prize points are whole numbers from 0 to 1000.")})
        clean[key.value] = value
    unknown = set(points) - {k.value for k in PRIZE_ORDER}
    if unknown:
        raise ValidationError({"prize_points": _("Unknown prize: {name}.").format(name=", ".join(sorted(unknown)))})
    return clean


def _check_contest(contest: Contest) -> None:
    if not nfc(contest.title):
        raise ValidationError({"title": _("Give the contest a title.")})
    contest.title = nfc(contest.title)
    if not contest.audience_unit.path.startswith(contest.organiser.path):
        raise ValidationError({"audience_unit": _("The audience must be the organiser's unit or a unit under it.")})
    contest.prize_points = _check_prize_points(contest.prize_points)
    if contest.rate_weight is not None and contest.rate_weight < 0:
        raise ValidationError({"rate_weight": _("The weight cannot be negative.")})


@transaction.atomic
def create_contest(*, actor, organiser, title: str, audience_unit=None, **fields) -> Contest:
    _require(actor, organiser)
    contest = Contest(
        organiser=organiser, title=title, audience_unit=audience_unit or organiser, created_by=actor, **fields
    )
    _check_contest(contest)
    contest.save()
    audit.record(
        actor=actor,
        action="contests.create_contest",
        obj=contest,
        unit=organiser,
        after=audit.snapshot(contest, CONTEST_FIELDS),
    )
    return contest


@transaction.atomic
def update_contest(contest: Contest, *, actor, **fields) -> Contest:
    contest = Contest.objects.select_for_update().get(pk=contest.pk)
    _require(actor, contest.organiser)
    before = audit.snapshot(contest, CONTEST_FIELDS)
    if "organiser" in fields and fields["organiser"] != contest.organiser:
        raise ValidationError({"organiser": _("The organiser of a contest cannot change.")})
    for name, value in fields.items():
        setattr(contest, name, value)
    _check_contest(contest)
    contest.save()
    audit.record(
        actor=actor,
        action="contests.update_contest",
        obj=contest,
        unit=contest.organiser,
        before=before,
        after=audit.snapshot(contest, CONTEST_FIELDS),
    )
    return contest


def _check_round(round_: Round) -> None:
    errors = {}
    if round_.opens_at and round_.closes_at and round_.closes_at <= round_.opens_at:
        errors["closes_at"] = _("The round must close after it opens.")
    if not 1 <= (round_.question_count or 0) <= 100:
        errors["question_count"] = _("An attempt has from 1 to 100 questions.")
    if not 10 <= (round_.time_limit or 0) <= 4 * 3600:
        errors["time_limit"] = _("The time limit is from 10 seconds to 4 hours.")
    if not 1 <= (round_.attempt_cap or 0) <= 50:
        errors["attempt_cap"] = _("Each person may have from 1 to 50 attempts in a round.")
    quotas = round_.topic_quotas or {}
    if not isinstance(quotas, dict) or any(
        not isinstance(n, int) or isinstance(n, bool) or n < 0 for n in quotas.values()
    ):
        errors["topic_quotas"] = _("Each topic needs a whole number of questions.")
    elif sum(quotas.values()) > (round_.question_count or 0):
        errors["topic_quotas"] = _("The topics ask for {total} questions, more than the {count} of an attempt.").format(
            total=sum(quotas.values()), count=round_.question_count
        )
    prizes = round_.prizes or {}
    if (
        not isinstance(prizes, dict)
        or set(prizes) - {k.value for k in PRIZE_ORDER}
        or any(not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= 10000 for n in prizes.values())
    ):
        errors["prizes"] = _("Give the number of each prize as a whole number.")
    if round_.prediction_kind != PredictionKind.NONE and not nfc(round_.prediction_text):
        errors["prediction_text"] = _("Write the prediction question that contestants will see.")
    if errors:
        raise ValidationError(errors)
    round_.prediction_text = nfc(round_.prediction_text)
    round_.topic_quotas = {nfc(k): n for k, n in quotas.items() if n}


@transaction.atomic
def create_round(contest: Contest, *, actor, **fields) -> Round:
    _require(actor, contest.organiser)
    if "number" not in fields or fields["number"] is None:
        last = contest.rounds.order_by("-number").values_list("number", flat=True).first() or 0
        fields["number"] = last + 1
    elif contest.rounds.filter(number=fields["number"]).exists():
        raise ValidationError(
            {"number": _("This contest already has a round {number}.").format(number=fields["number"])}
        )
    round_ = Round(contest=contest, **fields)
    _check_round(round_)
    round_.save()
    audit.record(
        actor=actor,
        action="contests.create_round",
        obj=round_,
        unit=contest.organiser,
        after=audit.snapshot(round_, ROUND_FIELDS),
    )
    return round_


# What a ranked round keeps: its results were computed from these (all but its number and wording).
_RANKED_FIXED = tuple(f for f in ROUND_FIELDS if f not in ("number", "title", "prediction_text"))


@transaction.atomic
def update_round(round_: Round, *, actor, **fields) -> Round:
    round_ = Round.objects.select_for_update().select_related("contest__organiser").get(pk=round_.pk)
    _require(actor, round_.contest.organiser)
    before = audit.snapshot(round_, ROUND_FIELDS)
    number = fields.get("number", round_.number)
    if number != round_.number and round_.contest.rounds.filter(number=number).exclude(pk=round_.pk).exists():
        raise ValidationError(
            {"number": _("This contest already has a round {number}.").format(number=fields["number"])}
        )
    if round_.ranked_at is not None:
        changed = [name for name in _RANKED_FIXED if name in fields and fields[name] != getattr(round_, name)]
        if changed:
            # The ranking, the true figure and the prizes were computed from them.
            raise ValidationError(
                {name: _("The round has been ranked: this can no longer change.") for name in changed}
            )
    old_close = round_.closes_at
    for name, value in fields.items():
        setattr(round_, name, value)
    _check_round(round_)
    # Attempts already started keep their questions and time limit; a close moved earlier shortens their
    # deadline, as a start near the close does: nobody answers after the round is closed.
    round_.save()
    if round_.closes_at < old_close:
        Attempt.objects.filter(round=round_, status=AttemptStatus.IN_PROGRESS, deadline__gt=round_.closes_at).update(
            deadline=round_.closes_at
        )
    audit.record(
        actor=actor,
        action="contests.update_round",
        obj=round_,
        unit=round_.contest.organiser,
        before=before,
        after=audit.snapshot(round_, ROUND_FIELDS),
    )
    return round_


@transaction.atomic
def set_unit_quota(contest: Contest, unit, quota: int | None, *, actor) -> UnitQuota | None:
    _require(actor, contest.organiser)
    if not unit.path.startswith(contest.audience_unit.path):
        raise ValidationError({"unit": _("This unit is not among the contest's units.")})
    existing = UnitQuota.objects.filter(contest=contest, unit=unit).first()
    before = {"quota": existing.quota} if existing else None
    if quota is None:
        if existing:
            existing.delete()
        result = None
    else:
        if quota < 0:
            raise ValidationError({"quota": _("A quota cannot be negative.")})
        result, _created = UnitQuota.objects.update_or_create(contest=contest, unit=unit, defaults={"quota": quota})
    audit.record(
        actor=actor,
        action="contests.set_quota",
        object_type="contests.unitquota",
        object_id=f"{contest.pk}:{unit.pk}",
        object_repr=f"{contest} · {unit}",
        unit=unit,
        before=before,
        after={"quota": quota} if quota is not None else None,
    )
    return result


# --- The question bank ---------------------------------------------------------------------------------------


def clean_question(text: str, options: Sequence[str], correct: Sequence[int], kind: str | None = None) -> dict:
    """The checked content of a question: options are given in order, ``correct`` are their 0-based indexes.
    The kind follows from the number of correct options unless given."""
    errors = {}
    text = nfc(text)
    options = [nfc(o) for o in options]
    while options and not options[-1]:
        options.pop()
    if not text:
        errors["text"] = _("Write the question.")
    if len(options) < 2:
        errors["options"] = _("A question needs at least two options.")
    elif len(options) > MAX_OPTIONS:
        errors["options"] = _("A question has at most {count} options.").format(count=MAX_OPTIONS)
    elif any(not o for o in options):
        errors["options"] = _("An option in the middle is empty.")
    elif len({o.casefold() for o in options}) != len(options):
        errors["options"] = _("Two options have the same text.")
    correct = sorted(set(correct))
    if "options" not in errors:
        if not correct:
            errors["correct"] = _("Mark the correct answer.")
        elif any(not 0 <= i < len(options) for i in correct):
            errors["correct"] = _("The correct answer must be one of the options.")
    if kind is None:
        kind = QuestionKind.MULTIPLE if len(correct) > 1 else QuestionKind.SINGLE
    elif kind == QuestionKind.SINGLE and len(correct) > 1:
        errors["correct"] = _("A single-choice question has exactly one correct answer.")
    if errors:
        raise ValidationError(errors)
    return {
        "text": text,
        "kind": kind,
        # Option ids are 1…n within a version; the browser only ever sees ids and texts.
        "options": [{"id": i + 1, "text": o} for i, o in enumerate(options)],
        "correct": [i + 1 for i in correct],
    }


def _new_version(question: Question, content: dict, explanation: str) -> QuestionVersion:
    last = question.versions.order_by("-number").values_list("number", flat=True).first() or 0
    return QuestionVersion.objects.create(question=question, number=last + 1, explanation=nfc(explanation), **content)


@transaction.atomic
def question_key(text: str) -> str:
    """What makes two questions the same one: their words, ignoring case, accents, spacing and punctuation."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", fold(text)).split())


def banked_question_keys(contest: Contest) -> set[str]:
    """The ``question_key`` of every active question of the contest's bank."""
    texts = contest.questions.filter(is_active=True, current__isnull=False).values_list("current__text", flat=True)
    return {question_key(text) for text in texts}


def create_question(
    contest: Contest,
    *,
    actor,
    text: str,
    options: Sequence[str],
    correct: Sequence[int],
    kind: str | None = None,
    topic: str = "",
    difficulty: str = "medium",
    explanation: str = "",
    audit_it: bool = True,
) -> Question:
    _require(actor, contest.organiser)
    content = clean_question(text, options, correct, kind)
    # One question typed in (an import has checked its rows against the bank already).
    if audit_it and question_key(content["text"]) in banked_question_keys(contest):
        raise ValidationError({"text": _("The same question is already in the bank.")})
    question = Question.objects.create(
        contest=contest, topic=nfc(topic), difficulty=difficulty or "medium", kind=content["kind"]
    )
    question.current = _new_version(question, content, explanation)
    question.save(update_fields=["current"])
    forget_bank(contest.pk)
    if audit_it:
        audit.record(
            actor=actor,
            action="contests.create_question",
            obj=question,
            unit=contest.organiser,
            after={**content, "topic": question.topic, "difficulty": question.difficulty},
        )
    return question


@transaction.atomic
def edit_question(
    question: Question,
    *,
    actor,
    text: str,
    options: Sequence[str],
    correct: Sequence[int],
    kind: str | None = None,
    topic: str | None = None,
    difficulty: str | None = None,
    explanation: str = "",
) -> Question:
    """A new version of the question: attempts that drew an earlier version keep it, with its answer key."""
    question = (
        Question.objects.select_for_update(of=("self",))
        .select_related("contest__organiser", "current")
        .get(pk=question.pk)
    )
    _require(actor, question.contest.organiser)
    content = clean_question(text, options, correct, kind)
    before = {"version": question.current.number if question.current else None}
    question.current = _new_version(question, content, explanation)
    question.kind = content["kind"]
    if topic is not None:
        question.topic = nfc(topic)
    if difficulty:
        question.difficulty = difficulty
    question.save(update_fields=["current", "kind", "topic", "difficulty"])
    forget_bank(question.contest_id)
    audit.record(
        actor=actor,
        action="contests.edit_question",
        obj=question,
        unit=question.contest.organiser,
        before=before,
        after={"version": question.current.number, **content},
    )
    return question


@transaction.atomic
def set_question_active(question: Question, active: bool, *, actor) -> Question:
    _require(actor, question.contest.organiser)
    before = {"is_active": question.is_active}
    question.is_active = active
    question.save(update_fields=["is_active"])
    forget_bank(question.contest_id)
    audit.record(
        actor=actor,
        action="contests.set_question_active",
        obj=question,
        unit=question.contest.organiser,
        before=before,
        after={"is_active": active},
    )
    return question


@transaction.atomic
def import_questions(contest: Contest, rows: list[dict], *, actor, filename: str = "") -> int:
    """Write the checked rows of an import (see ``bank.plan_import``); all or nothing, one audit record."""
    _require(actor, contest.organiser)
    for row in rows:
        create_question(contest, actor=actor, audit_it=False, **row)
    audit.record(
        actor=actor,
        action="contests.import_questions",
        obj=contest,
        unit=contest.organiser,
        after={"file": filename, "questions": len(rows)},
    )
    return len(rows)
