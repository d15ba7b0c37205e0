"""The demo contest builds on any tree: a published contest, last week's round ranked and published with its
true figure, this week's open."""

import pytest

from doanso.contests.demo import QUESTIONS, build_contest_demo
from doanso.contests.models import Contest, RoundResult, UnitTally

pytestmark = pytest.mark.django_db


def test_demo_contest(world):
    build_contest_demo(world.admin, world.P, participants=12)
    contest = Contest.objects.get()
    assert contest.questions.count() == len(QUESTIONS)
    last, current = contest.rounds.order_by("number")
    assert last.results_published and last.prediction_value == 12
    assert RoundResult.objects.filter(round=last).count() == 12
    assert current.is_open() and not current.ranked_at
    assert sum(UnitTally.objects.filter(round=last).values_list("participants", flat=True)) == 12
