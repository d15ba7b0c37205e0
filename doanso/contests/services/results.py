"""The official ranking, computed in the database by one INSERT … SELECT with window functions:

    correct answers ↓, distance of the prediction from the true figure ↑ (no prediction ranks last),
    duration ↑, submission time ↑

Each participant's best attempt of the round ranks (by the same order). ``rank`` is shared by exact ties;
``position`` breaks them by attempt id so that prize lists are deterministic. The overall ranking adds up each
participant's best attempt of every published round, and is redone when a round's results are published.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from doanso.accounts.scope import can
from doanso.core import audit

from ..models import PRIZE_ORDER, Attempt, AttemptStatus, Contest, OverallResult, PredictionKind, Round, RoundResult
from ..permissions import MANAGE_CONTESTS
from .taking import expire_attempts

# A missing prediction weighs this much in the overall sum of distances (more than any real distance).
MISSING_DISTANCE = 10**13

# The whole ranking of a round, in order: every person's best attempt with its rank and position.
RANKING_SQL = """
SELECT round_id, participant_id, id AS attempt_id, unit_id, RANK() OVER w AS rank,
       ROW_NUMBER() OVER (ORDER BY correct DESC, distance ASC NULLS LAST, duration_ms ASC, submitted_at ASC,
                          id ASC) AS position,
       correct, distance, duration_ms, submitted_at
FROM (
    SELECT d.*, ROW_NUMBER() OVER (
        PARTITION BY participant_id
        ORDER BY correct DESC, distance ASC NULLS LAST, duration_ms ASC, submitted_at ASC, id ASC
    ) AS best
    FROM (
        SELECT id, round_id, participant_id, unit_id, correct, duration_ms, submitted_at,
               ABS(prediction - %s) AS distance
        FROM contests_attempt
        WHERE round_id = %s AND status = 'submitted' AND NOT disqualified
    ) d
) b
WHERE best = 1
WINDOW w AS (ORDER BY correct DESC, distance ASC NULLS LAST, duration_ms ASC, submitted_at ASC)
"""

# The head of the ranking is stored (prize lists, certificates, the pages, the overall ranking's input is the
# attempts): writing all 700,000 rows of a million-attempt round would triple the time (bench/README.md).
ROUND_RANKING_SQL = f"""
INSERT INTO contests_roundresult
    (round_id, participant_id, attempt_id, unit_id, rank, position, correct, distance, duration_ms, submitted_at,
     prize)
SELECT round_id, participant_id, attempt_id, unit_id, rank, position, correct, distance, duration_ms,
       submitted_at, ''
FROM ({RANKING_SQL}) ranking
WHERE position <= %s
"""  # noqa: S608 — built from constants only

# The overall ranking over the published rounds, from the attempts: each person's best attempt of each round,
# summed; the head is stored.
OVERALL_RANKING_SQL = """
INSERT INTO contests_overallresult
    (contest_id, participant_id, unit_id, rank, position, rounds, correct, distance, duration_ms, submitted_at)
SELECT contest_id, participant_id, unit_id, rank, position, rounds, correct, distance, duration, last
FROM (
    SELECT %s AS contest_id, s.participant_id, p.unit_id,
           RANK() OVER w AS rank,
           ROW_NUMBER() OVER (ORDER BY s.correct DESC, s.distance ASC, s.duration ASC, s.last ASC,
                              s.participant_id) AS position,
           s.rounds, s.correct, s.distance, s.duration, s.last
    FROM (
        SELECT participant_id, COUNT(*) AS rounds, SUM(correct) AS correct,
               SUM(COALESCE(distance, %s)) AS distance, SUM(duration_ms) AS duration, MAX(submitted_at) AS last
        FROM (
            SELECT a.participant_id, a.correct, a.duration_ms, a.submitted_at,
                   ABS(a.prediction - rd.prediction_value) AS distance,
                   ROW_NUMBER() OVER (
                       PARTITION BY a.round_id, a.participant_id
                       ORDER BY a.correct DESC, ABS(a.prediction - rd.prediction_value) ASC NULLS LAST,
                                a.duration_ms ASC, a.submitted_at ASC, a.id ASC
                   ) AS best
            FROM contests_attempt a JOIN contests_round rd ON rd.id = a.round_id
            WHERE rd.contest_id = %s AND rd.results_published AND a.status = 'submitted' AND NOT a.disqualified
        ) per_round
        WHERE best = 1
        GROUP BY participant_id
    ) s JOIN contests_participant p ON p.id = s.participant_id
    WINDOW w AS (ORDER BY s.correct DESC, s.distance ASC, s.duration ASC, s.last ASC)
) overall
WHERE position <= %s
"""

# How many positions are stored (at least every prize).
STORED_POSITIONS = 10_000


def _sort_memory(cursor) -> None:
    """Let the ranking's sorts of a million rows run in memory rather than spill to disk (this transaction
    only; PostgreSQL's default of 4 MB is sized for many small queries)."""
    if connection.vendor == "postgresql":
        cursor.execute("SET LOCAL work_mem = '256MB'")


def true_figure(round_: Round) -> int | None:
    """The figure the prediction question asks for, from the round's submitted attempts."""
    submitted = Attempt.objects.filter(round=round_, status=AttemptStatus.SUBMITTED, disqualified=False)
    if round_.prediction_kind == PredictionKind.PARTICIPANTS:
        return submitted.aggregate(n=Count("participant", distinct=True))["n"]
    if round_.prediction_kind == PredictionKind.ATTEMPTS:
        return submitted.count()
    if round_.prediction_kind == PredictionKind.FULL_MARKS:
        return submitted.filter(correct=F("question_total")).count()
    return None


@transaction.atomic
def rank_round_sql(round_: Round) -> int:
    """Replace the round's ranking (no permission check: called by the services below and the benchmark)."""
    RoundResult.objects.filter(round=round_)._raw_delete(connection.alias)
    with connection.cursor() as cursor:
        _sort_memory(cursor)
        prizes = sum(int(n) for n in (round_.prizes or {}).values())
        cursor.execute(ROUND_RANKING_SQL, [round_.prediction_value, round_.pk, max(STORED_POSITIONS, prizes)])
        count = cursor.rowcount
    start = 1
    for prize in PRIZE_ORDER:
        n = int((round_.prizes or {}).get(prize.value, 0))
        if n:
            RoundResult.objects.filter(round=round_, position__gte=start, position__lt=start + n).update(prize=prize)
            start += n
    return count


def rank_round(round_: Round, *, actor, now=None) -> int:
    """Rank a closed round: submit what time ran out on, compute the true figure, write the ranking and the
    prizes. The overall ranking follows when the results are published (or now, if they already are)."""
    now = now or timezone.now()
    _check_rankable(Round.objects.select_related("contest__organiser").get(pk=round_.pk), actor, now)
    # Each expired attempt in a transaction of its own, before the ranking's: one transaction holding the
    # tallies and sheet counts of every attempt it submitted could deadlock with the submits of other rounds.
    while expire_attempts(now=now):
        pass
    return _rank_round(round_, actor=actor, now=now)


def _check_rankable(round_: Round, actor, now) -> None:
    if not can(actor, MANAGE_CONTESTS, round_.contest.organiser):
        raise PermissionDenied
    if not round_.has_closed(now):
        raise ValidationError(_("The round is still open; rank it after it closes."))


@transaction.atomic
def _rank_round(round_: Round, *, actor, now) -> int:
    round_ = Round.objects.select_for_update().select_related("contest__organiser").get(pk=round_.pk)
    _check_rankable(round_, actor, now)
    round_.prediction_value = true_figure(round_)
    count = rank_round_sql(round_)
    round_.ranked_at = now
    round_.save(update_fields=["prediction_value", "ranked_at"])
    if round_.results_published:
        # Ranked again after publication (a disqualification): the overall ranking adds this round up too.
        rank_overall_sql(round_.contest)
    audit.record(
        actor=actor,
        action="contests.rank_round",
        obj=round_,
        unit=round_.contest.organiser,
        after={"ranked": count, "prediction_value": round_.prediction_value},
    )
    return count


@transaction.atomic
def rank_overall_sql(contest: Contest) -> int:
    OverallResult.objects.filter(contest=contest)._raw_delete(connection.alias)
    with connection.cursor() as cursor:
        _sort_memory(cursor)
        cursor.execute(OVERALL_RANKING_SQL, [contest.pk, MISSING_DISTANCE, contest.pk, STORED_POSITIONS])
        return cursor.rowcount


@transaction.atomic
def publish_results(round_: Round, *, actor, published: bool = True) -> Round:
    round_ = Round.objects.select_for_update().select_related("contest__organiser").get(pk=round_.pk)
    if not can(actor, MANAGE_CONTESTS, round_.contest.organiser):
        raise PermissionDenied
    if published and round_.ranked_at is None:
        raise ValidationError(_("Rank the round before publishing its results."))
    round_.results_published = published
    round_.save(update_fields=["results_published"])
    # The overall ranking adds up the published rounds' rankings; it is redone whenever that set changes.
    rank_overall_sql(round_.contest)
    audit.record(
        actor=actor,
        action="contests.publish_results",
        obj=round_,
        unit=round_.contest.organiser,
        after={"results_published": published},
    )
    return round_


def ranking_rows(round_: Round, chunk: int = 2000):
    """The whole ranking, streamed in order (for the export): (position, rank, full name, date of birth, phone,
    unit name, correct, distance, duration, submitted at). A server-side cursor on PostgreSQL."""
    sql = f"""
        SELECT r.position, r.rank, p.full_name, p.date_of_birth, p.phone, u.name, r.correct, r.distance,
               r.duration_ms, r.submitted_at
        FROM ({RANKING_SQL}) r
        JOIN contests_participant p ON p.id = r.participant_id
        JOIN org_unit u ON u.id = r.unit_id
        ORDER BY r.position
    """  # noqa: S608 — built from constants only
    with transaction.atomic():
        with connection.cursor() as setup_cursor:
            _sort_memory(setup_cursor)
        with connection.chunked_cursor() as cursor:
            cursor.execute(sql, [round_.prediction_value, round_.pk])
            while rows := cursor.fetchmany(chunk):
                yield from rows


def participants_ranked(round_: Round) -> int:
    """People with a submitted attempt in the round, from the tallies (no scan of the attempts)."""
    from ..models import UnitTally

    return UnitTally.objects.filter(round=round_).aggregate(n=Sum("participants"))["n"] or 0


def prize_winners(round_: Round):
    return (
        RoundResult.objects.filter(round=round_)
        .exclude(prize="")
        .select_related("participant", "unit")
        .order_by("position")
    )
