"""Reads of the contests module: participation by unit (from the tallies, added up the tree), unit rankings,
the live dashboard."""

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMinute
from django.utils import timezone
from django.utils.translation import gettext as _

from doanso.members.selectors import subtree_counts
from doanso.org.models import Unit

from .models import PRIZE_ORDER, Attempt, AttemptStatus, Contest, Round, RoundResult, UnitQuota, UnitTally
from .services import results


def _roll_up(direct: dict[int, tuple[int, int]], paths: dict[int, str]) -> dict[int, list[int]]:
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for unit_id, (participants, attempts) in direct.items():
        for ancestor in paths[unit_id].strip("/").split("/"):
            t = totals[int(ancestor)]
            t[0] += participants
            t[1] += attempts
    return totals


def tallies(contest: Contest, round_: Round | None = None) -> dict[int, tuple[int, int]]:
    """(participants, attempts) of each unit itself, for a round or (``round_`` None) the whole contest."""
    if round_ is not None:
        rows = (
            UnitTally.objects.filter(round=round_)
            .values_list("unit_id")
            .annotate(p=Sum("participants"), a=Sum("attempts"))
            .order_by()
        )
        return {u: (p, a) for u, p, a in rows}
    # Each unit's counters are split over shards (see UnitTally): add them up.
    people = dict(
        UnitTally.objects.filter(contest=contest, round__isnull=True)
        .values_list("unit_id")
        .annotate(p=Sum("participants"))
        .order_by()
    )
    attempts = dict(
        UnitTally.objects.filter(contest=contest, round__isnull=False)
        .values_list("unit_id")
        .annotate(n=Sum("attempts"))
        .order_by()
    )
    return {u: (people.get(u, 0), attempts.get(u, 0)) for u in people.keys() | attempts.keys()}


def recount(contest: Contest, round_: Round | None = None) -> dict[int, tuple[int, int]]:
    """The same figures as :func:`tallies`, counted from the attempts (to check or repair the tallies)."""
    qs = Attempt.objects.filter(round__contest=contest, status="submitted")
    if round_ is not None:
        qs = qs.filter(round=round_)
        rows = qs.values_list("unit_id").annotate(p=Count("id", filter=_first()), a=Count("id")).order_by()
        return {u: (p, a) for u, p, a in rows}
    rows = qs.values_list("unit_id").annotate(p=Count("participant", distinct=True), a=Count("id")).order_by()
    return {u: (p, a) for u, p, a in rows}


def _first():
    return Q(is_first=True)


@dataclass
class UnitParticipation:
    unit: Unit
    members: int
    participants: int
    attempts: int
    quota: int | None
    prize_points: int = 0

    @property
    def rate(self) -> float | None:
        return round(100 * self.participants / self.members, 1) if self.members else None

    @property
    def quota_share(self) -> float | None:
        return round(100 * self.participants / self.quota, 1) if self.quota else None


def participation(contest: Contest, root: Unit, round_: Round | None = None, *, members=None) -> list:
    """``root`` and each of its child units with members (from the registry), participants, attempts, rate,
    quota and share of quota, each counted over the unit's whole subtree. A handful of queries whatever the
    number of attempts: the tallies are per unit, the member counts one GROUP BY."""
    units = [root, *Unit.objects.filter(parent=root).active().order_by("name")]
    paths = dict(Unit.objects.filter(path__startswith=root.path).values_list("id", "path"))
    direct = {u: v for u, v in tallies(contest, round_).items() if u in paths}
    totals = _roll_up(direct, paths)
    members = members if members is not None else subtree_counts()
    quotas = dict(UnitQuota.objects.filter(contest=contest, unit__in=units).values_list("unit_id", "quota"))
    points = prize_points_by_unit(contest, paths, round_)
    return [
        UnitParticipation(
            unit=u,
            members=members.get(u.pk, 0),
            participants=totals.get(u.pk, [0, 0])[0],
            attempts=totals.get(u.pk, [0, 0])[1],
            quota=quotas.get(u.pk),
            prize_points=points.get(u.pk, 0),
        )
        for u in units
    ]


def prize_points_by_unit(contest: Contest, paths: dict[int, str], round_: Round | None = None) -> dict[int, int]:
    weights = {p.value: int(contest.prize_points.get(p.value, 0)) for p in PRIZE_ORDER}
    qs = RoundResult.objects.filter(round__contest=contest).exclude(prize="")
    if round_ is not None:
        qs = qs.filter(round=round_)
    direct = defaultdict(int)
    for unit_id, prize, n in qs.values_list("unit_id", "prize").annotate(n=Count("position")).order_by():
        if unit_id in paths:
            direct[unit_id] += weights.get(prize, 0) * n
    totals: dict[int, int] = defaultdict(int)
    for unit_id, pts in direct.items():
        for ancestor in paths[unit_id].strip("/").split("/"):
            totals[int(ancestor)] += pts
    return totals


def unit_ranking(contest: Contest, root: Unit, round_: Round | None = None, *, members=None) -> list[dict]:
    """The child units of ``root`` ranked by collective score (rate % × weight + prize points), then rate."""
    rows = participation(contest, root, round_, members=members)[1:]
    weight = float(contest.rate_weight)
    ranked = []
    for row in rows:
        rate = row.rate or 0.0
        ranked.append({"row": row, "score": round(rate * weight + row.prize_points, 1)})
    ranked.sort(key=lambda r: (-r["score"], -(r["row"].rate or 0), r["row"].unit.name))
    for i, r in enumerate(ranked):
        r["rank"] = i + 1 if i == 0 or r["score"] != ranked[i - 1]["score"] else ranked[i - 1]["rank"]
    return ranked


def entries_per_minute(round_: Round, minutes: int = 60, now=None) -> list[tuple[datetime.datetime, int]]:
    """Attempts started in each of the last ``minutes`` minutes (index on round, started_at)."""
    now = now or timezone.now()
    since = (now - datetime.timedelta(minutes=minutes - 1)).replace(second=0, microsecond=0)
    counts = dict(
        Attempt.objects.filter(round=round_, started_at__gte=since)
        .annotate(minute=TruncMinute("started_at"))
        .values_list("minute")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = {k.replace(second=0, microsecond=0): v for k, v in counts.items()}
    return [
        (since + datetime.timedelta(minutes=i), counts.get(since + datetime.timedelta(minutes=i), 0))
        for i in range(minutes)
    ]


def attempt_questions(attempt) -> list[dict]:
    """The attempt's questions as shown: in the drawn order, the options in the attempt's order, what was chosen
    and the sequence number of the last save — never which options are correct (the page and the API)."""
    from .models import AttemptQuestion

    questions = []
    for aq in AttemptQuestion.objects.filter(attempt=attempt).select_related("version").order_by("position"):
        texts = {o["id"]: o["text"] for o in aq.version.options}
        questions.append(
            {
                "position": aq.position,
                "text": aq.version.text,
                "multiple": aq.version.kind == "multiple",
                "options": [{"id": i, "text": texts[i], "checked": i in aq.chosen} for i in aq.option_order],
                "chosen": aq.chosen,
                "seq": aq.seq,
            }
        )
    return questions


def bank_shortfall(round_: Round, topics: dict[str, int]) -> list[str]:
    """What the question bank (``topics``: active questions per topic) lacks for ``round_`` — its quotas per
    topic, then its number of questions — for the organisers: contestants would be refused a start."""
    problems = []
    for topic, wanted in (round_.topic_quotas or {}).items():
        if topics.get(topic, 0) < wanted:
            problems.append(
                _("{round}: the topic “{topic}” has {have} active questions; the round draws {want}.").format(
                    round=round_, topic=topic, have=topics.get(topic, 0), want=wanted
                )
            )
    if sum(topics.values()) < round_.question_count:
        problems.append(
            _("{round}: the bank has {have} active questions; each attempt draws {want}.").format(
                round=round_, have=sum(topics.values()), want=round_.question_count
            )
        )
    return problems


def remaining_seconds(attempt) -> int:
    """Seconds left to answer: none once the attempt is submitted, whatever its deadline."""
    if attempt.status != AttemptStatus.IN_PROGRESS:
        return 0
    return max(0, int((attempt.deadline - timezone.now()).total_seconds()))


@dataclass
class Standing:
    """Where a person stands in a round whose results are published: their stored place (``result``), or, past
    the stored head of the ranking, the number of places stored before theirs (``after``); neither when none
    of their attempts is ranked (disqualified)."""

    result: RoundResult | None
    after: int | None


def standing(attempt: Attempt) -> Standing | None:
    """The standing of ``attempt``'s participant (by their best attempt), or None before publication."""
    round_ = attempt.round
    if not round_.results_published:
        return None
    result = RoundResult.objects.filter(round=round_, participant_id=attempt.participant_id).first()
    if result is not None:
        return Standing(result, None)
    stored = RoundResult.objects.filter(round=round_).count()
    return Standing(None, stored if stored >= results.STORED_POSITIONS else None)
