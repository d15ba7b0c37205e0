"""Shared by the lifecycle tests: the fixed day they run on, and a snapshot of everything a refused step must
leave as it was."""

import datetime

import pytest
from django.urls import get_resolver
from django.utils import translation
from freezegun import freeze_time

from doanso.core.models import AuditRecord
from doanso.members.models import (
    Admission,
    AnnualRating,
    Discipline,
    Member,
    MemberEvent,
    Position,
    TemporaryAttachment,
    Transfer,
)

# Dates matter to every rule here (ages, 3 months, the age limit this year): the tests run on this day.
TODAY = datetime.date(2025, 6, 15)


@pytest.fixture
def frozen():
    # Build the URLconf (and the API schemas it includes) with the real date class: pydantic cannot make a
    # schema of freezegun's FakeDate when the first request of the run happens under a frozen clock.
    assert get_resolver().url_patterns
    # _pytest keeps the real clock, so that --durations reports real times.
    with freeze_time("2025-06-15 09:00:00+07:00", ignore=["_pytest"]):
        yield TODAY


@pytest.fixture
def english():
    """Messages are asserted in their English source: the Vietnamese catalogue is filled in later."""
    with translation.override("en"):
        yield


def state():
    """Every row a lifecycle step may write."""

    def rows(model, *fields):
        return list(model.objects.order_by("pk").values_list("pk", *fields))

    return (
        rows(Member, "unit_id", "status", "joined_on"),
        rows(MemberEvent, "kind", "status_after"),
        rows(Admission, "stage", "introducer_id", "vote_on", "votes_for", "approved_by_id", "member_id"),
        rows(Transfer, "status", "to_unit_id", "received_on"),
        rows(TemporaryAttachment, "unit_id", "end"),
        rows(AnnualRating, "year", "level", "participation"),
        rows(Discipline, "level", "decided_by_id"),
        rows(Position, "title", "end"),
        AuditRecord.objects.count(),
    )


def timeline(member) -> list[tuple[str, str]]:
    return list(MemberEvent.objects.filter(member=member).order_by("id").values_list("kind", "status_after"))
