"""The official ranking: correct ↓, prediction distance ↑ (none last), duration ↑, submission time ↑; each
person's best attempt; exact ties share a rank. Table-driven: each case lists attempts and the expected order."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from doanso.contests.models import Attempt, AttemptStatus, OverallResult, PredictionKind, RoundResult
from doanso.contests.services import results, setup
from doanso.contests.services.taking import register_participant

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 1, 8, 0, tzinfo=datetime.UTC)


def at(seconds):
    return T0 + datetime.timedelta(seconds=seconds)


# (person, correct, prediction, duration s, submitted at s)
CASES = {
    "correct first": (
        [("An", 8, 100, 300, 10), ("Bình", 9, 5000, 500, 20)],
        ["Bình", "An"],
        [1, 2],
    ),
    "then the prediction closest to the true figure (100)": (
        [("An", 9, 130, 100, 10), ("Bình", 9, 90, 500, 20), ("Chi", 9, 70, 50, 5)],
        ["Bình", "Chi", "An"],
        [1, 2, 3],
    ),
    "above and below the figure are the same distance": (
        [("An", 9, 110, 200, 10), ("Bình", 9, 90, 100, 20)],
        ["Bình", "An"],
        [1, 2],
    ),
    "no prediction ranks after any prediction": (
        [("An", 9, None, 10, 1), ("Bình", 9, 1_000_000, 500, 20)],
        ["Bình", "An"],
        [1, 2],
    ),
    "then the shorter duration": (
        [("An", 9, 100, 301, 10), ("Bình", 9, 100, 300, 20)],
        ["Bình", "An"],
        [1, 2],
    ),
    "then the earlier submission": (
        [("An", 9, 100, 300, 21), ("Bình", 9, 100, 300, 20)],
        ["Bình", "An"],
        [1, 2],
    ),
    "exact ties share a rank; the next rank skips": (
        [("An", 9, 100, 300, 20), ("Bình", 9, 100, 300, 20), ("Chi", 8, 100, 300, 20)],
        ["An", "Bình", "Chi"],
        [1, 1, 3],
    ),
    "a person's best attempt counts, once": (
        [("An", 5, 100, 300, 10), ("An", 9, 100, 400, 30), ("Bình", 7, 100, 100, 20)],
        ["An", "Bình"],
        [1, 2],
    ),
}


@pytest.fixture
def people(contest, world):
    made = {}

    def get(name):
        if name not in made:
            made[name] = register_participant(
                contest,
                full_name=f"Nguyễn {name}",
                date_of_birth=datetime.date(2000, 1, 1),
                phone=f"09050{len(made):05d}",
                unit=world.B1,
            )
        return made[name]

    return get


def closed_round(contest, world, number=None, **extra):
    return setup.create_round(
        contest,
        actor=world.manager_C1,
        number=number,
        opens_at=T0 - datetime.timedelta(days=7),
        closes_at=T0 + datetime.timedelta(days=1),
        question_count=10,
        prediction_kind=PredictionKind.ATTEMPTS,
        prediction_text="Bao nhiêu lượt thi?",
        **extra,
    )


def add_attempts(round_, people, rows):
    counts = {}
    for name, correct, prediction, duration, submitted in rows:
        p = people(name)
        counts[name] = counts.get(name, 0) + 1
        Attempt.objects.create(
            round=round_,
            participant=p,
            unit=p.unit,
            number=counts[name],
            key=f"k{round_.pk}{name}{counts[name]}",
            status=AttemptStatus.SUBMITTED,
            started_at=at(submitted - duration),
            deadline=at(submitted + 600),
            submitted_at=at(submitted),
            duration_ms=duration * 1000,
            correct=correct,
            question_total=10,
            prediction=prediction,
        )


@pytest.mark.parametrize("case", sorted(CASES))
def test_round_ranking(contest, world, people, case):
    rows, order, ranks = CASES[case]
    round_ = closed_round(contest, world)
    add_attempts(round_, people, rows)
    round_.prediction_value = 100
    results.rank_round_sql(round_)
    got = list(
        RoundResult.objects.filter(round=round_).order_by("position").values_list("participant__full_name", "rank")
    )
    assert got == [(f"Nguyễn {n}", r) for n, r in zip(order, ranks, strict=True)]


def test_rank_round_computes_the_true_figure_assigns_prizes_and_skips_disqualified(contest, world, people):
    round_ = closed_round(contest, world, prizes={"first": 1, "second": 1, "consolation": 1})
    add_attempts(
        round_,
        people,
        [
            ("An", 10, 5, 100, 10),
            ("Bình", 10, 4, 100, 10),
            ("Chi", 9, 4, 100, 10),
            ("Dũng", 8, 4, 100, 10),
            ("Hà", 10, 4, 50, 5),
        ],
    )
    Attempt.objects.filter(participant__full_name="Nguyễn Hà").update(disqualified=True)
    results.rank_round(round_, actor=world.manager_C1, now=T0 + datetime.timedelta(days=2))
    round_.refresh_from_db()
    assert round_.prediction_value == 4  # attempts, the disqualified one left out
    got = list(RoundResult.objects.filter(round=round_).values_list("participant__full_name", "prize", "distance"))
    assert got == [
        ("Nguyễn Bình", "first", 0),
        ("Nguyễn An", "second", 1),
        ("Nguyễn Chi", "consolation", 0),
        ("Nguyễn Dũng", "", 0),
    ]


def test_an_open_round_cannot_be_ranked(contest, world):
    round_ = closed_round(contest, world)
    with pytest.raises(ValidationError):
        results.rank_round(round_, actor=world.manager_C1, now=T0)
    assert not RoundResult.objects.exists()


def test_overall_adds_up_each_persons_best_per_round(contest, world, people):
    r1, r2 = closed_round(contest, world, number=1), closed_round(contest, world, number=2)
    add_attempts(r1, people, [("An", 9, 100, 300, 10), ("Bình", 10, 100, 300, 10)])
    add_attempts(r2, people, [("An", 10, 100, 200, 10), ("Bình", 8, None, 100, 10), ("Chi", 10, 100, 10, 1)])
    for r in (r1, r2):
        r.prediction_value = 100
        r.results_published = True
        r.save()
        results.rank_round_sql(r)
    results.rank_overall_sql(contest)
    got = list(
        OverallResult.objects.filter(contest=contest).values_list("participant__full_name", "rounds", "correct", "rank")
    )
    assert got == [("Nguyễn An", 2, 19, 1), ("Nguyễn Bình", 2, 18, 2), ("Nguyễn Chi", 1, 10, 3)]
    assert timezone.now()


def test_a_rank_after_publication_redoes_the_overall_ranking(contest, world, people):
    # Found by a test pass: a winner disqualified after publication stayed in the overall ranking.
    round_ = closed_round(contest, world, prizes={"first": 1})
    add_attempts(round_, people, [("An", 10, 5, 100, 10), ("Bình", 9, 4, 100, 10)])
    later = T0 + datetime.timedelta(days=2)
    results.rank_round(round_, actor=world.manager_C1, now=later)
    results.publish_results(round_, actor=world.manager_C1)
    assert OverallResult.objects.filter(contest=contest).order_by("rank").first().participant.full_name == "Nguyễn An"
    Attempt.objects.filter(participant__full_name="Nguyễn An").update(disqualified=True)
    results.rank_round(round_, actor=world.manager_C1, now=later)
    overall = list(OverallResult.objects.filter(contest=contest).values_list("participant__full_name", flat=True))
    assert overall == ["Nguyễn Bình"]


def test_a_ranked_round_keeps_what_its_ranking_was_computed_from(contest, world, people):
    round_ = closed_round(contest, world)
    results.rank_round(round_, actor=world.manager_C1, now=T0 + datetime.timedelta(days=2))
    with pytest.raises(ValidationError) as info:
        setup.update_round(round_, actor=world.manager_C1, closes_at=round_.closes_at + datetime.timedelta(days=7))
    assert "closes_at" in info.value.message_dict
    setup.update_round(round_, actor=world.manager_C1, title="Tuần 1 (đã xếp hạng)")  # the title may change
    round_.refresh_from_db()
    assert round_.title == "Tuần 1 (đã xếp hạng)"
