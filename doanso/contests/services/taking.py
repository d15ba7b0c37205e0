"""The contestants' path: registration, starting an attempt, saving answers, submitting.

These run hundreds of times a second at a round's close, so each is a handful of indexed statements:
- the attempt is reached by its secret key (no session lookup);
- an answer save is one conditional UPDATE (the condition refuses stale and replayed saves; a refused save is
  then explained with ordinary queries); outside a transaction the saves that arrive together are written by
  one such UPDATE and one commit (core.batching, decision 0014);
- a submit locks the attempt row (double submits count once), grades it and bumps the unit's tally: on
  PostgreSQL in one call of a database function shared by the submits that arrive together (decisions 0013,
  0015), elsewhere through the ORM.
Contestants' writes are not copied to the audit log: the attempt rows are their own record (times, address,
every answer with its sequence number); see docs/decisions/0011-contest-hot-path.md.
"""

import datetime
import functools
import hashlib
import json
import os
import random
import re
import secrets
import unicodedata
from typing import NoReturn

import psycopg
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from doanso.core.batching import Batcher, BatchFailed
from doanso.core.text import fold, nfc
from doanso.members.importing import Bad, Masked, parse_citizen_id, parse_phone
from doanso.members.models import CURRENT_STATUSES, Member, Occupation

from ..models import (
    TALLY_SHARDS,
    Attempt,
    AttemptQuestion,
    AttemptStatus,
    Audience,
    Contest,
    Participant,
    PredictionKind,
    Question,
    Round,
    UnitTally,
)

# Saves in flight when the deadline passes still count: the server's clock decides, with this much slack for
# the network (a phone on 3G sends the last tap a moment before the timer shows zero).
GRACE = datetime.timedelta(seconds=3)
BANK_CACHE_SECONDS = 300
_random = random.SystemRandom()


class AttemptRefused(ValidationError):
    """A refused contestant action; ``code`` tells the client what happened (for the API and the page)."""


def _refuse(message, code, field="__all__") -> NoReturn:
    raise AttemptRefused({field: [ValidationError(message, code=code)]})


# --- Registration ----------------------------------------------------------------------------------------------


def _check_unit(contest: Contest, unit) -> None:
    if unit is None or not unit.path.startswith(contest.audience_unit.path):
        raise ValidationError({"unit": _("Choose your unit from the suggestions (a unit of this contest).")})
    if not unit.is_active:
        raise ValidationError({"unit": _("This unit has ended; choose the unit you belong to now.")})


# A phone number or citizen ID typed with spaces, dots and a country code is never longer than this; a longer
# value is refused before it is parsed, and never echoed back in a message.
_LONGEST_TYPED_NUMBER = 40


def _visible_text(text: str) -> str:
    """NFC, without control and invisible format characters (NUL, zero-width spaces…), spaces collapsed: a name
    of zero-width spaces is no name, and PostgreSQL refuses NUL."""
    text = "".join(ch for ch in nfc(text) if unicodedata.category(ch) not in ("Cc", "Cf"))
    return " ".join(text.split())


@transaction.atomic
def register_participant(
    contest: Contest,
    *,
    full_name: str,
    date_of_birth: datetime.date,
    phone: str,
    unit,
    citizen_id: str = "",
    occupation: str = "",
    ip: str | None = None,
) -> Participant:
    """A member of the public enters the contest. The same person coming back from another phone (same phone
    number, name and date of birth) gets their registration back; someone else with that phone or citizen ID
    is refused — the one-person rule."""
    if not contest.is_published or contest.audience != Audience.PUBLIC:
        raise ValidationError(_("This contest does not take public registrations."))
    errors: dict[str, str | list[str]] = {}
    full_name = _visible_text(full_name)
    if len(full_name.split()) < 2:
        errors["full_name"] = _("Write your full name (family name and given name).")
    elif len(full_name) > (Participant._meta.get_field("full_name").max_length or 0):
        errors["full_name"] = _("The name is too long.")
    if occupation and occupation not in Occupation.values:
        errors["occupation"] = _("Choose the occupation from the list.")
    today = timezone.localdate()
    if date_of_birth is None or not (today.year - 100 <= date_of_birth.year <= today.year - 6):
        errors["date_of_birth"] = _("Check the date of birth (dd/mm/yyyy).")
    try:
        if len(phone) > _LONGEST_TYPED_NUMBER:
            raise Bad(_("This is too long for a phone number."))
        phone = parse_phone(phone)
    except Bad as exc:
        errors["phone"] = str(exc)
    except Masked:
        errors["phone"] = _("Write the whole phone number, without hidden digits.")
    cid = None
    if citizen_id and citizen_id.strip():
        try:
            if len(citizen_id) > _LONGEST_TYPED_NUMBER:
                raise Bad(_("This is too long for a citizen ID."))
            cid = parse_citizen_id(citizen_id)
        except Bad as exc:
            errors["citizen_id"] = str(exc)
        except Masked:
            errors["citizen_id"] = _("Write the whole citizen ID, without hidden digits.")
    try:
        _check_unit(contest, unit)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)

    def same_person(p: Participant) -> bool:
        return fold(p.full_name) == fold(full_name) and p.date_of_birth == date_of_birth

    by_phone = Participant.objects.filter(contest=contest, phone=phone).first()
    if by_phone is not None:
        if not same_person(by_phone):
            raise ValidationError(
                {"phone": _("This phone number is already registered in this contest by someone else.")}
            )
        if cid and by_phone.citizen_id and by_phone.citizen_id != cid:
            raise ValidationError({"citizen_id": _("This is not the citizen ID registered with this phone number.")})
        return by_phone
    holder = Participant.objects.filter(contest=contest, citizen_id=cid).first() if cid else None
    if holder is not None:
        if holder.user_id is not None:
            raise ValidationError(
                {"citizen_id": _("This citizen ID is a member's, who takes part by logging in: log in instead.")}
            )
        raise ValidationError(
            {"citizen_id": _("This citizen ID is already registered in this contest with another phone number.")}
        )
    try:
        with transaction.atomic():
            return Participant.objects.create(
                contest=contest,
                full_name=full_name,
                search_name=fold(full_name),
                date_of_birth=date_of_birth,
                phone=phone,
                citizen_id=cid,
                unit=unit,
                occupation=occupation or "",
                ip=ip,
            )
    except IntegrityError:
        # The same phone or ID registered a moment ago from another request: the checks above now see it.
        existing = Participant.objects.filter(contest=contest, phone=phone).first()
        if existing is not None and same_person(existing):
            return existing
        raise ValidationError(
            {"phone": _("This phone number or citizen ID is already registered in this contest.")}
        ) from None


@transaction.atomic
def join_as_member(contest: Contest, user) -> Participant:
    """A logged-in member takes part under their registry record (unit, name and date of birth from it)."""
    if not contest.is_published:
        raise ValidationError(_("This contest is not open."))
    member = Member.objects.select_related("unit").filter(user=user, status__in=CURRENT_STATUSES).first()
    if member is None:
        raise ValidationError(_("Your account is not linked to a current member record."))
    if not member.unit.path.startswith(contest.audience_unit.path):
        raise ValidationError(_("This contest is for the members of {unit}.").format(unit=contest.audience_unit))
    existing = Participant.objects.filter(contest=contest, member=member).first()
    if existing is not None:
        return existing
    phone = member.phone or ""
    if phone and Participant.objects.filter(contest=contest, phone=phone).exists():
        # Registered from the public form before logging in: the same person, now linked to the record.
        participant = Participant.objects.get(contest=contest, phone=phone)
        if participant.member_id is None and participant.date_of_birth == member.date_of_birth:
            participant.member, participant.user, participant.unit = member, user, member.unit
            participant.save(update_fields=["member", "user", "unit"])
            return participant
        phone = ""
    try:
        with transaction.atomic():
            return Participant.objects.create(
                contest=contest,
                full_name=member.full_name,
                search_name=fold(member.full_name),
                date_of_birth=member.date_of_birth,
                phone=phone,
                citizen_id=member.citizen_id or None,
                unit=member.unit,
                occupation=member.occupation,
                member=member,
                user=user,
            )
    except IntegrityError:
        existing = Participant.objects.filter(contest=contest, member=member).first()
        if existing is None:
            raise ValidationError(
                _("Your citizen ID is already registered in this contest by another entry.")
            ) from None
        return existing


# --- Starting ----------------------------------------------------------------------------------------------------


def _bank(contest_id: int) -> list[tuple[int, str, list[int]]]:
    """(version id, topic, option ids) of the active questions, cached: a start must not read the whole bank.
    The key holds the bank's generation, read afresh (one primary-key lookup), so an edit counts at once."""
    key = Contest.objects.only("pk", "created_at", "bank_generation").get(pk=contest_id).bank_cache_key
    bank = cache.get(key)
    if bank is None:
        rows = Question.objects.filter(contest_id=contest_id, is_active=True, current__isnull=False).values_list(
            "current_id", "topic", "current__options"
        )
        bank = [(vid, topic, [o["id"] for o in options]) for vid, topic, options in rows]
        cache.set(key, bank, BANK_CACHE_SECONDS)
    return bank


def draw_questions(round_: Round) -> list[tuple[int, list[int]]]:
    """The questions of a new attempt: the topic quotas first, the rest from anything left; shuffled, each with
    its options shuffled."""
    bank = _bank(round_.contest_id)
    by_topic: dict[str, list] = {}
    for item in bank:
        by_topic.setdefault(item[1], []).append(item)
    chosen, used = [], set()
    for topic, count in (round_.topic_quotas or {}).items():
        pool = by_topic.get(topic, [])
        if len(pool) < count:
            _refuse(
                _("The question bank has too few questions for this round; the organisers have been told."),
                "bank_too_small",
            )
        for item in _random.sample(pool, count):
            chosen.append(item)
            used.add(item[0])
    rest = [item for item in bank if item[0] not in used]
    missing = round_.question_count - len(chosen)
    if len(rest) < missing:
        _refuse(
            _("The question bank has too few questions for this round; the organisers have been told."),
            "bank_too_small",
        )
    chosen += _random.sample(rest, missing)
    _random.shuffle(chosen)
    out = []
    for vid, _topic, option_ids in chosen:
        order = list(option_ids)
        _random.shuffle(order)
        out.append((vid, order))
    return out


def open_attempt(round_: Round, participant: Participant) -> Attempt | None:
    return (
        Attempt.objects.filter(round=round_, participant=participant, status=AttemptStatus.IN_PROGRESS)
        .order_by("-number")
        .first()
    )


def attempts_left(round_: Round, participant: Participant) -> int:
    return max(0, round_.attempt_cap - Attempt.objects.filter(round=round_, participant=participant).count())


@transaction.atomic
def start_attempt(round_: Round, participant: Participant, *, ip: str | None = None, now=None) -> Attempt:
    """Start (or resume) the participant's attempt. Start and deadline are the server's; the cap holds even
    under concurrent starts (the attempt number is unique per participant and round)."""
    now = now or timezone.now()
    if participant.contest_id != round_.contest_id:
        _refuse(_("This round belongs to another contest."), "wrong_contest")
    if not round_.contest.is_published:
        _refuse(_("This contest is not open."), "not_open")
    if now < round_.opens_at:
        _refuse(_("This round has not opened yet."), "not_open")
    if now >= round_.closes_at:
        _refuse(_("This round has closed."), "closed")
    # One start at a time per person (a double tap, two tabs): the second waits here, then resumes the first's
    # attempt instead of spending another. The lock is on this person's row only.
    Participant.objects.select_for_update().filter(pk=participant.pk).first()
    current = open_attempt(round_, participant)
    if current is not None:
        if now <= current.deadline + GRACE:
            return current  # a second tab, a refresh, another phone: the same attempt, the same clock
        finalise_attempt(current, now=now)
    used = Attempt.objects.filter(round=round_, participant=participant).count()
    if used >= round_.attempt_cap:
        _refuse(_("You have used all {cap} attempts of this round.").format(cap=round_.attempt_cap), "cap_reached")
    drawn = draw_questions(round_)
    # The deadline never runs past the round's close.
    deadline = min(now + datetime.timedelta(seconds=round_.time_limit), round_.closes_at)
    try:
        with transaction.atomic():
            attempt = Attempt.objects.create(
                round=round_,
                participant=participant,
                unit_id=participant.unit_id,
                number=used + 1,
                key=secrets.token_urlsafe(24)[:32],
                started_at=now,
                deadline=deadline,
                question_total=len(drawn),
                ip=ip,
            )
    except IntegrityError:
        # Another request started attempt number used + 1 at the same moment: that one is the attempt.
        current = open_attempt(round_, participant)
        if current is None:
            _refuse(_("You have used all {cap} attempts of this round.").format(cap=round_.attempt_cap), "cap_reached")
        return current
    AttemptQuestion.objects.bulk_create(
        [
            AttemptQuestion(attempt=attempt, position=i + 1, version_id=vid, option_order=order)
            for i, (vid, order) in enumerate(drawn)
        ]
    )
    return attempt


# --- Answering ---------------------------------------------------------------------------------------------------


def _check_open(attempt: Attempt, now) -> None:
    if attempt.status != AttemptStatus.IN_PROGRESS:
        _refuse(_("This attempt has been submitted; answers can no longer change."), "submitted")
    if now > attempt.deadline + GRACE:
        _refuse(_("Time is up: the answers saved before the deadline have been submitted."), "time_up")


def _as_ids(chosen) -> list[int]:
    if not isinstance(chosen, list | tuple) or len(chosen) > 8:
        _refuse(_("This answer is not one of the options."), "bad_option", "chosen")
    ids = []
    for value in chosen:
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            _refuse(_("This answer is not one of the options."), "bad_option", "chosen")
    return sorted(set(ids))


def _small_int(value, limit: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < limit


def _check_seq(seq) -> None:
    # The column holds up to 2**31 - 1: a larger number (forged, or a client gone wrong) is refused here, not by
    # the database with a server error.
    if not _small_int(seq, 2**31):
        _refuse(_("The save's sequence number must be a whole number from 1 to 2147483647."), "bad_seq", "seq")


_KEY = re.compile(r"[A-Za-z0-9_-]{1,32}")  # start_attempt's keys: secrets.token_urlsafe(24)[:32]


def save_answer(key: str, position: int, chosen, seq: int, *, now=None) -> None:
    """Save the options chosen for one question of the attempt with secret ``key``.

    ``seq`` is the client's sequence number for the attempt: a save is applied only if its number is higher than
    the question's last applied save, so an old request delivered late, or a replayed one, changes nothing.
    """
    now = now or timezone.now()
    ids = _as_ids(chosen)
    _check_seq(seq)
    if not _small_int(position, 2**15):
        _refuse(_("This question is not part of your attempt."), "bad_question", "position")
    if not _KEY.fullmatch(key):
        # Never an attempt's key (and kept out of the batch, where a value PostgreSQL refuses, a NUL say, would
        # fail every save in it).
        _refuse(_("This attempt does not exist."), "not_found")
    batch_failed = False
    if connection.vendor == "postgresql":
        save = (key, position, ids, seq, now, now - GRACE)
        try:
            if _fast_save(save):
                return
        except BatchFailed:
            batch_failed = True
    # Refused by the single statement (or another database): find out why, and check again before writing.
    row = (
        AttemptQuestion.objects.filter(attempt__key=key, position=position)
        .values_list(
            "id", "option_order", "seq", "chosen", "version__kind", "attempt_id", "attempt__status", "attempt__deadline"
        )
        .first()
    )
    if row is None:
        if not Attempt.objects.filter(key=key).exists():
            _refuse(_("This attempt does not exist."), "not_found")
        _refuse(_("This question is not part of your attempt."), "bad_question", "position")
    aq_id, order, last_seq, last_chosen, kind, attempt_id, status, deadline = row
    if batch_failed and seq == last_seq and last_chosen == ids:
        return  # the failed batch had committed this very save before it failed
    if status != AttemptStatus.IN_PROGRESS:
        _refuse(_("This attempt has been submitted; answers can no longer change."), "submitted")
    if now > deadline + GRACE:
        finalise_attempt(Attempt.objects.get(pk=attempt_id), now=now)
        _refuse(_("Time is up: the answers saved before the deadline have been submitted."), "time_up")
    if any(i not in order for i in ids):
        _refuse(_("This answer is not one of the options."), "bad_option", "chosen")
    if kind == "single" and len(ids) > 1:
        _refuse(_("Choose only one answer for this question."), "bad_option", "chosen")
    if seq <= last_seq:
        _refuse(_("This save is older than one already received; it was ignored."), "stale", "seq")
    # The conditions repeat under the attempt's lock (see _SAVE_SQL): a submit or a newer save that lands in
    # between wins.
    with transaction.atomic():
        open_ = Attempt.objects.select_for_update(no_key=True).filter(pk=attempt_id, status=AttemptStatus.IN_PROGRESS)
        if not list(open_.values_list("pk", flat=True)[:1]):
            _refuse(_("This attempt has been submitted; answers can no longer change."), "submitted")
        updated = AttemptQuestion.objects.filter(pk=aq_id, seq__lt=seq).update(chosen=ids, seq=seq, answered_at=now)
    if not updated:
        _refuse(_("This save is older than one already received; it was ignored."), "stale", "seq")


# Every valid save of a batch in one statement (PostgreSQL): the attempt by its key, in progress and in time,
# the question in it, a newer sequence number, the options among those shown, one option unless the question
# takes several. A save that does not qualify updates no row and is not returned; save_answer then finds the
# reason with ordinary queries. (Two saves of one question in a batch: one is applied and the other takes that
# path, where a newer one is applied and an older one refused, as if they had come one after the other.)
# The attempts are read FOR SHARE, in the order of their ids: a submit (which locks its attempt FOR UPDATE and
# then grades the saved answers) either waits for the batch to commit and counts its saves, or has committed
# first and the batch finds the attempt submitted. Without the lock a save could land between the grading's read
# and its commit: acknowledged, but not graded. An attempt locked by someone else (a submit under way, a save on
# the one-by-one path) is skipped, not waited for: its saves take the one-by-one path, which waits for that lock
# alone, instead of the whole batch waiting. They are found by key alone, the status checked after: the plan
# is prepared once per connection, and with the status among the conditions it could use the status index when
# the statistics are stale (at a round's start they count few attempts in progress).
_SAVE_SQL = """
WITH save AS (
    SELECT * FROM jsonb_to_recordset(%(saves)s::jsonb) AS s(
        n integer, key varchar, position integer, chosen jsonb, seq integer, now timestamptz,
        not_after timestamptz, count integer)
), open_attempt AS MATERIALIZED (
    SELECT a.id, a.key, a.deadline, a.status FROM contests_attempt AS a
    WHERE a.key = ANY (%(keys)s::varchar[])
    ORDER BY a.id
    FOR SHARE SKIP LOCKED
)
UPDATE contests_attemptquestion AS aq
SET chosen = save.chosen, seq = save.seq, answered_at = save.now
FROM save JOIN open_attempt AS a
    ON a.key = save.key AND a.status = 'in_progress' AND a.deadline >= save.not_after
WHERE aq.attempt_id = a.id
  AND aq.position = save.position
  AND aq.seq < save.seq
  AND aq.option_order @> save.chosen
  AND (save.count <= 1 OR EXISTS (
      SELECT 1 FROM contests_questionversion AS v WHERE v.id = aq.version_id AND v.kind = 'multiple'))
RETURNING save.n
"""


def _write_saves(cursor, saves, **execute) -> list[bool]:
    """Run _SAVE_SQL for ``saves`` (tuples: key, position, options chosen, seq, now, not after) with ``cursor``;
    whether each was applied. The batch travels as one JSON parameter: seven arrays took psycopg longer to
    adapt, in Python, than the statement took to run."""
    rows = [
        {
            "n": n,
            "key": key,
            "position": position,
            "chosen": chosen,
            "seq": seq,
            "now": now.isoformat(),
            "not_after": not_after.isoformat(),
            "count": len(chosen),
        }
        for n, (key, position, chosen, seq, now, not_after) in enumerate(saves, 1)
    ]
    # The keys also as an array, so that the attempts are found by their unique key (from the JSON alone PostgreSQL
    # guessed a hundred and read every attempt in progress instead).
    cursor.execute(_SAVE_SQL, {"saves": json.dumps(rows), "keys": [save[0] for save in saves]}, **execute)
    applied = {n for (n,) in cursor.fetchall()}
    return [n in applied for n in range(1, len(saves) + 1)]


class _OwnConnection:
    """A connection of this process's own for one batcher's batches (autocommit: each statement commits)."""

    def __init__(self):
        self.conn = None
        self.pid = None

    def cursor(self) -> psycopg.Cursor:
        if self.conn is None or self.pid != os.getpid():
            # (A connection inherited through a fork belongs to the parent: left alone, not closed.)
            conn = connection.get_new_connection(connection.get_connection_params())
            conn.autocommit = True
            # The batch statements take arrays and JSON whose sizes the planner cannot know; left to choose, it may
            # plan a prepared statement anew on every run. Their generic plans reach every row by a unique index.
            conn.execute("SET plan_cache_mode = force_generic_plan")
            self.conn, self.pid = conn, os.getpid()
        # A cursor that sends the values apart from the statement (Django's connections quote them into its text,
        # which for the arrays of a batch took most of the batch's time in Python).
        return psycopg.Cursor(self.conn)

    def reset(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            conn.close()


def _batcher(name: str, write) -> Batcher:
    """A Batcher whose batches run ``write(cursor, items, prepare=True)`` on a connection of its own. Prepared
    once per connection: planning the statement took longer than running it."""
    own = _OwnConnection()

    def work(items):
        with own.cursor() as cursor:
            return write(cursor, items, prepare=True)

    return Batcher(name, work, reset=own.reset)


_save_batcher = _batcher("answer-saves", _write_saves)


def _fast_save(save: tuple) -> bool:
    """Whether the save was applied by the single statement. Inside a transaction (the caller's, or a test's) it
    runs there, alone; otherwise with the other saves of the moment (BatchFailed if that batch failed)."""
    if connection.in_atomic_block:
        with connection.cursor() as cursor:
            return _write_saves(cursor, [save])[0]
    return _save_batcher.run(save)


# A whole number, its thousands grouped with dots, commas or spaces as people write them ("1.250.000") or not.
_PREDICTION = re.compile(r"[0-9]{1,3}(?:([.,\s])[0-9]{3}(?:\1[0-9]{3})*)?|[0-9]+")


def _prediction_number(value) -> int | None:
    """The prediction as a number, or None: "1.5" (not thousands) and digits of other scripts are refused."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, str) or len(value) > 30 or not _PREDICTION.fullmatch(value.strip()):
        return None
    return int(re.sub(r"[^0-9]", "", value))


def save_prediction(key: str, value, seq: int, *, now=None) -> None:
    now = now or timezone.now()
    _check_seq(seq)
    attempt = Attempt.objects.filter(key=key).select_related("round").first()
    if attempt is None:
        _refuse(_("This attempt does not exist."), "not_found")
    if attempt.round.prediction_kind == PredictionKind.NONE:
        _refuse(_("This round has no prediction question."), "bad_question", "prediction")
    if attempt.status == AttemptStatus.IN_PROGRESS and now > attempt.deadline + GRACE:
        finalise_attempt(attempt, now=now)
    _check_open(attempt, now)
    number = _prediction_number(value)
    if number is None or not 0 <= number <= 10**12:
        _refuse(_("Write the prediction as a whole number."), "bad_prediction", "prediction")
    updated = Attempt.objects.filter(pk=attempt.pk, prediction_seq__lt=seq, status=AttemptStatus.IN_PROGRESS).update(
        prediction=number, prediction_seq=seq
    )
    if not updated:
        _refuse(_("This save is older than one already received; it was ignored."), "stale", "seq")


# --- Submitting ----------------------------------------------------------------------------------------------------


def _bump_tally(attempt: Attempt, first_in_round: bool, first_in_contest: bool) -> None:
    """Add the attempt to its unit's counters (the round's row and the contest's row). Only the unit's own rows
    are touched; pages add them up the tree. A row created concurrently is caught by its unique constraint."""
    contest_id = attempt.round.contest_id
    for round_id, first in ((attempt.round_id, first_in_round), (None, first_in_contest)):
        if round_id is None and not first:
            continue  # the contest row counts people only
        which = {"round_id": round_id} if round_id is not None else {"round__isnull": True}
        shard = _random.randrange(TALLY_SHARDS)
        rows = UnitTally.objects.filter(contest_id=contest_id, unit_id=attempt.unit_id, shard=shard, **which)
        changes = {"participants": F("participants") + int(first)}
        if round_id is not None:
            changes["attempts"] = F("attempts") + 1
        if rows.update(**changes):
            continue
        try:
            with transaction.atomic():
                UnitTally.objects.create(
                    shard=shard,
                    contest_id=contest_id,
                    round_id=round_id,
                    unit_id=attempt.unit_id,
                    participants=int(first),
                    attempts=1 if round_id is not None else 0,
                )
        except IntegrityError:
            rows.update(**changes)


def fingerprint(answers: list[tuple[int, list[int]]]) -> str:
    # MD5 (not a security use: it only groups equal answer sheets) because the database's submit function
    # (migration contests.0002) computes the same digest of the same text.
    return hashlib.md5(json.dumps(answers).encode(), usedforsecurity=False).hexdigest()


def duration_ms(started_at, submitted_at) -> int:
    # Whole milliseconds, rounded down exactly (no float), as the database's submit function computes them.
    return max(0, (submitted_at - started_at) // datetime.timedelta(milliseconds=1))


@transaction.atomic
def finalise_attempt(attempt: Attempt, *, now=None) -> Attempt:
    """Submit the attempt with what was saved. Locked, so that fifty simultaneous submits count once: the first
    grades it, the others find it submitted and return it unchanged. After the deadline, the submission time
    is the deadline (what was saved by then is what counts)."""
    from .fairplay import check_attempt

    now = now or timezone.now()
    attempt = Attempt.objects.select_for_update(of=("self",)).select_related("round__contest").get(pk=attempt.pk)
    assert attempt.round_id is not None
    if attempt.status == AttemptStatus.SUBMITTED:
        return attempt
    submitted_at = min(now, attempt.deadline)
    rows = list(
        AttemptQuestion.objects.filter(attempt=attempt)
        .order_by("position")
        .values_list("version_id", "chosen", "version__correct")
    )
    attempt.correct = sum(1 for _vid, chosen, correct in rows if chosen and sorted(chosen) == sorted(correct))
    # By question, not by the shuffled order shown: a script gives the same answers to the same questions.
    attempt.fingerprint = fingerprint(sorted((vid, sorted(chosen)) for vid, chosen, _c in rows))
    attempt.status = AttemptStatus.SUBMITTED
    attempt.submitted_at = submitted_at
    attempt.duration_ms = duration_ms(attempt.started_at, submitted_at)
    first_in_round = not Attempt.objects.filter(
        round_id=attempt.round_id, participant_id=attempt.participant_id, is_first=True
    ).exists()
    attempt.is_first = first_in_round
    attempt.save(update_fields=["correct", "fingerprint", "status", "submitted_at", "duration_ms", "is_first"])
    first_in_contest = bool(
        Participant.objects.filter(pk=attempt.participant_id, first_submitted_at__isnull=True).update(
            first_submitted_at=submitted_at
        )
    )
    _bump_tally(attempt, first_in_round, first_in_contest)
    check_attempt(attempt)
    return attempt


def submit_attempt(key: str, *, now=None) -> Attempt:
    now = now or timezone.now()
    if connection.vendor == "postgresql" and _KEY.fullmatch(key):
        try:
            attempt = _fast_submit(key, now)
        except BatchFailed:
            attempt = None  # the ORM path below finds the attempt submitted if the batch did so before failing
        if attempt is not None:
            return attempt
    # Already submitted (a double submit returns the same result), unknown, or another database.
    attempt = Attempt.objects.filter(key=key).first()
    if attempt is None:
        _refuse(_("This attempt does not exist."), "not_found")
    return finalise_attempt(attempt, now=now)


def _fast_submit(key: str, now) -> Attempt | None:
    """finalise_attempt in one call of the database function contests_submit_attempts (migration
    contests.0004), which locks, grades and records attempts, their participants, their units' tallies and the
    fair-play flags, where the ORM path takes a dozen statements per attempt. Inside a transaction (the
    caller's, or a test's) it runs there, alone; otherwise with the other submits of the moment, for the submits
    that pour in at a round's close (decision 0015). None when the attempt is not in progress or does not exist."""
    if connection.in_atomic_block:
        with connection.cursor() as cursor:
            return _write_submits(cursor, [(key, now)])[0]
    return _submit_batcher.run((key, now))


def _write_submits(cursor, submits, **execute) -> list[Attempt | None]:
    """Run contests_submit_attempts for ``submits`` (tuples: key, now) with ``cursor``; the submitted attempt
    of each, or None."""
    too_fast, identical, bulk = _flag_texts(settings.LANGUAGE_CODE)
    # The keys (letters, digits, - and _: _KEY) and times go as the text of two arrays, their elements quoted (a key
    # "NULL" stays a string), for PostgreSQL to read: psycopg adapts a list element by element, in Python. The
    # columns are named, in the model's order: rows go to from_db as they come (reading the cursor's description
    # built a column object per column on every call).
    cursor.execute(
        _SUBMIT_SQL,
        [
            '{"' + '","'.join([key for key, _now in submits]) + '"}',
            '{"' + '","'.join([now.isoformat() for _key, now in submits]) + '"}',
            _random.randrange(TALLY_SHARDS),
            too_fast,
            identical,
            bulk,
        ],
        **execute,
    )
    done = {row[_KEY_INDEX]: Attempt.from_db(connection.alias, _ATTNAMES, row) for row in cursor.fetchall()}
    return [done.get(key) for key, _now in submits]


_ATTNAMES = [f.attname for f in Attempt._meta.concrete_fields]
_KEY_INDEX = _ATTNAMES.index("key")
_SUBMIT_SQL = "SELECT {} FROM contests_submit_attempts(%s::varchar[], %s::timestamptz[], %s, %s, %s, %s)".format(  # noqa: S608
    ", ".join(str(f.column) for f in Attempt._meta.concrete_fields)  # (the model's own columns)
)


@functools.cache
def _flag_texts(language: str) -> tuple[str, str, int]:
    """The fair-play flags' texts as format() templates of the database (placeholders %1$s…) in the site's
    language ``language``: the same for every submit, so translated once per process."""
    from .fairplay import IDENTICAL_BULK, identical_template, too_fast_template

    return (
        _sql_format(too_fast_template(), questions="%1$s", seconds="%2$s.%3$s"),
        _sql_format(identical_template(), count="%1$s", ip="%2$s"),
        IDENTICAL_BULK,
    )


_submit_batcher = _batcher("submits", _write_submits)


def _sql_format(message: str, **placeholders: str) -> str:
    message = message.replace("%", "%%")
    for name, placeholder in placeholders.items():
        message = message.replace("{" + name + "}", placeholder)
    return message


def expire_attempts(*, now=None, limit: int = 5000) -> int:
    """Submit the attempts whose time ran out without a submit (closed tab, lost connection). Run by the
    periodic task and before a round is ranked; each attempt is its own transaction."""
    now = now or timezone.now()
    ids = list(
        Attempt.objects.filter(status=AttemptStatus.IN_PROGRESS, deadline__lt=now - GRACE)
        .order_by("deadline")
        .values_list("id", flat=True)[:limit]
    )
    for pk in ids:
        finalise_attempt(Attempt(pk=pk), now=now)
    return len(ids)


def attempt_for_page(key: str, *, now=None) -> Attempt | None:
    """The attempt with ``key``, finalised first when its time ran out while nobody was looking."""
    attempt = Attempt.objects.select_related("round__contest", "participant").filter(key=key).first()
    if attempt is not None and attempt.is_open and (now or timezone.now()) > attempt.deadline + GRACE:
        attempt = finalise_attempt(attempt, now=now)
        attempt = Attempt.objects.select_related("round__contest", "participant").get(pk=attempt.pk)
    return attempt
