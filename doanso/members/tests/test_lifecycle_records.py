"""Temporary attachment, the annual rating, discipline and positions."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from doanso.core.models import AuditRecord
from doanso.members.models import AnnualRating, Discipline, MemberEvent, MemberStatus, Position, TemporaryAttachment
from doanso.members.services import lifecycle

from .factories import MemberFactory
from .lifecycle_support import TODAY, english, frozen, state, timeline  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen", "english")]


@pytest.fixture
def member(world):
    return MemberFactory(unit=world.B1, joined_on=datetime.date(2020, 3, 26))


def refused(call, errors: dict):
    before = state()
    with pytest.raises(ValidationError) as exc:
        call()
    assert exc.value.message_dict == errors
    assert state() == before


def denied(call):
    before = state()
    with pytest.raises(PermissionDenied):
        call()
    assert state() == before


# --- temporary attachment -------------------------------------------------------------------------------------


def test_attachment_keeps_the_file_with_the_home_unit(world, member):
    attachment = lifecycle.attach_temporarily(
        member,
        world.B3,
        actor=world.manager_C1,
        start=datetime.date(2025, 2, 1),
        end=datetime.date(2025, 12, 31),
        reason="Học đại học ở Hải Châu",
    )
    member.refresh_from_db()
    assert (member.unit, member.status) == (world.B1, MemberStatus.ACTIVE)
    assert (attachment.unit, attachment.start, attachment.end) == (
        world.B3,
        datetime.date(2025, 2, 1),
        datetime.date(2025, 12, 31),
    )
    event = MemberEvent.objects.get(member=member)
    assert (event.kind, event.unit, event.other_unit, event.status_after, event.note) == (
        "attached",
        world.B1,
        world.B3,
        "active",
        "Học đại học ở Hải Châu",
    )


def test_attachment_refusals(world, member):
    refused(
        lambda: lifecycle.attach_temporarily(member, world.B1, actor=world.manager_C1),
        {"unit": ["Chi đoàn thôn 1 already holds the member's file."]},
    )
    refused(
        lambda: lifecycle.attach_temporarily(
            member, world.B3, actor=world.manager_C1, start=TODAY, end=datetime.date(2025, 6, 1)
        ),
        {"end": ["The end date cannot be before the start date."]},
    )
    lifecycle.attach_temporarily(member, world.B3, actor=world.manager_C1, start=datetime.date(2025, 1, 1))
    refused(
        lambda: lifecycle.attach_temporarily(member, world.B3, actor=world.manager_C1),
        {"unit": [f"{member.full_name} is already attached to Chi đoàn tổ 5 then."]},
    )
    # Only the unit holding the file records an attachment.
    denied(lambda: lifecycle.attach_temporarily(member, world.B2, actor=world.manager_C2))


def test_the_host_unit_may_end_an_attachment(world, member, make_user):
    attachment = lifecycle.attach_temporarily(member, world.B3, actor=world.manager_C1, start=datetime.date(2025, 1, 1))
    denied(lambda: lifecycle.end_attachment(attachment, actor=make_user("unit_manager", world.B2)))
    refused(
        lambda: lifecycle.end_attachment(attachment, actor=world.manager_C2, end=datetime.date(2024, 12, 31)),
        {"end": ["The date cannot be before the start of the attachment (01/01/2025)."]},
    )
    lifecycle.end_attachment(attachment, actor=world.manager_C2, end=datetime.date(2025, 6, 1))
    assert TemporaryAttachment.objects.get().end == datetime.date(2025, 6, 1)
    assert timeline(member) == [("attached", "active"), ("attachment_ended", "active")]
    refused(
        lambda: lifecycle.end_attachment(attachment, actor=world.manager_C1),
        {"end": ["This attachment already ended on 01/06/2025."]},
    )


# --- annual rating --------------------------------------------------------------------------------------------


@pytest.fixture
def branch(world):
    return [MemberFactory(unit=world.B1) for _i in range(3)]


def ratings() -> list[tuple]:
    return list(AnnualRating.objects.order_by("member_id").values_list("member_id", "year", "level", "participation"))


def test_rating_a_whole_branch_at_once(world, branch):
    a, b, c = branch
    counts = lifecycle.rate_members(
        world.B1,
        2024,
        {
            a: lifecycle.RatingEntry("excellent", participation=95),
            b: "good",
            c: lifecycle.RatingEntry("not_completed", participation=20, note="Vắng nhiều"),
        },
        actor=world.manager_C1,
    )
    assert counts == {"created": 3, "corrected": 0, "unchanged": 0}
    assert ratings() == [
        (a.pk, 2024, "excellent", 95),
        (b.pk, 2024, "good", None),
        (c.pk, 2024, "not_completed", 20),
    ]
    assert [timeline(m) for m in branch] == [[("rated", "active")]] * 3
    assert AuditRecord.objects.filter(action="members.rating.create", unit=world.B1).count() == 3


def test_top_rating_requires_90_percent_participation(world, branch):
    a, b, _c = branch
    refused(
        lambda: lifecycle.rate_members(
            world.B1, 2024, {a: lifecycle.RatingEntry("excellent", participation=89), b: "good"}, actor=world.manager_C1
        ),
        {f"participation_{a.pk}": [f"{a.full_name}: the top level needs at least 90% participation (89% given)."]},
    )
    # Exactly 90 is enough, and without a figure the branch's judgement stands.
    lifecycle.rate_members(
        world.B1,
        2024,
        {a: lifecycle.RatingEntry("excellent", participation=90), b: "excellent"},
        actor=world.manager_C1,
    )
    assert ratings() == [(a.pk, 2024, "excellent", 90), (b.pk, 2024, "excellent", None)]


def test_the_participation_rule_is_configurable(world, branch, settings):
    settings.DOANSO_RULES = {**settings.DOANSO_RULES, "excellent_min_participation": 80}
    lifecycle.rate_members(
        world.B1, 2024, {branch[0]: lifecycle.RatingEntry("excellent", participation=85)}, actor=world.manager_C1
    )
    assert ratings() == [(branch[0].pk, 2024, "excellent", 85)]


def test_one_rating_per_member_and_year_a_second_is_a_correction(world, branch):
    a, b, _c = branch
    lifecycle.rate_members(world.B1, 2024, {a: "good", b: "good"}, actor=world.manager_C1)
    counts = lifecycle.rate_members(world.B1, 2024, {a: "completed", b: "good"}, actor=world.manager_C1)
    assert counts == {"created": 0, "corrected": 1, "unchanged": 1}
    assert ratings() == [(a.pk, 2024, "completed", None), (b.pk, 2024, "good", None)]
    correction = AuditRecord.objects.get(action="members.rating.correct")
    assert (correction.before["level"], correction.after["level"]) == ("good", "completed")
    assert timeline(a) == [("rated", "active"), ("rated", "active")]
    assert timeline(b) == [("rated", "active")]
    assert MemberEvent.objects.filter(member=a).last().note == "Correction of the 2024 rating"
    # Another year is another rating.
    lifecycle.rate_members(world.B1, 2025, {a: "good"}, actor=world.manager_C1)
    assert AnnualRating.objects.filter(member=a).count() == 2


def test_rating_refuses_members_of_another_branch_and_next_year(world, branch):
    outsider = MemberFactory(unit=world.B2)
    refused(
        lambda: lifecycle.rate_members(world.B1, 2024, {branch[0]: "good", outsider: "good"}, actor=world.manager_C1),
        {f"level_{outsider.pk}": [f"{outsider.full_name} is not a member of Chi đoàn thôn 1."]},
    )
    refused(
        lambda: lifecycle.rate_members(world.B1, 2026, {branch[0]: "good"}, actor=world.manager_C1),
        {"year": ["A year that has not come yet cannot be rated."]},
    )
    refused(
        lambda: lifecycle.rate_members(world.B1, 2024, {branch[0]: "best"}, actor=world.manager_C1),
        {f"level_{branch[0].pk}": ["Choose one of the four levels."]},
    )
    denied(lambda: lifecycle.rate_members(world.B1, 2024, {branch[0]: "good"}, actor=world.manager_C2))


# --- discipline -----------------------------------------------------------------------------------------------


def test_the_branch_decides_a_reprimand(world, member, make_user):
    secretary = make_user("unit_manager", world.B1)
    discipline = lifecycle.discipline_member(
        member, actor=secretary, level="reprimand", decided_by=world.B1, reason="Vắng sinh hoạt", decided_on=TODAY
    )
    assert (discipline.level, discipline.decided_by, discipline.decided_on) == ("reprimand", world.B1, TODAY)
    event = MemberEvent.objects.get(member=member)
    assert (event.kind, event.status_after, event.other_unit, event.note) == (
        "disciplined",
        "active",
        world.B1,
        "Reprimand",
    )


def test_warning_needs_the_superior_union(world, member):
    refused(
        lambda: lifecycle.discipline_member(
            member, actor=world.manager_C1, level="warning", decided_by=world.B1, reason="Vi phạm"
        ),
        {
            "decided_by": [
                "Warning is decided by the union directly above the member's unit (Đoàn xã Hòa Vang), "
                "not by Chi đoàn thôn 1."
            ]
        },
    )
    lifecycle.discipline_member(member, actor=world.manager_C1, level="warning", decided_by=world.C1, reason="Vi phạm")
    assert Discipline.objects.get().decided_by == world.C1


def test_the_branch_secretary_cannot_record_the_superior_unions_decision(world, member, make_user):
    denied(
        lambda: lifecycle.discipline_member(
            member, actor=make_user("unit_manager", world.B1), level="warning", decided_by=world.C1, reason="Vi phạm"
        )
    )


def test_a_unit_outside_the_members_line_cannot_discipline(world, member):
    refused(
        lambda: lifecycle.discipline_member(
            member, actor=world.manager_C2, level="reprimand", decided_by=world.C2, reason="Vi phạm"
        ),
        {"decided_by": ["Đoàn phường Hải Châu is not the member's unit or a union above it."]},
    )


def test_expulsion_ends_membership(world, member):
    Position.objects.create(member=member, title="Ủy viên BCH", unit=world.C1, start=datetime.date(2023, 1, 1))
    lifecycle.discipline_member(
        member, actor=world.manager_C1, level="expulsion", decided_by=world.C1, reason="Vi phạm pháp luật"
    )
    member.refresh_from_db()
    assert member.status == MemberStatus.EXPELLED
    assert timeline(member) == [("disciplined", "expelled")]
    assert Position.objects.get().end == TODAY
    refused(
        lambda: lifecycle.discipline_member(
            member, actor=world.manager_C1, level="reprimand", decided_by=world.C1, reason="x"
        ),
        {"member": [f"{member.full_name} is no longer a member (Expelled)."]},
    )


def test_dismissal_ends_the_positions_but_not_membership(world, member):
    Position.objects.create(member=member, title="Bí thư chi đoàn", unit=world.B1, start=datetime.date(2023, 1, 1))
    lifecycle.discipline_member(member, actor=world.manager_C1, level="dismissal", decided_by=world.C1, reason="x")
    member.refresh_from_db()
    assert member.status == MemberStatus.ACTIVE
    assert Position.objects.get().end == TODAY
    assert AuditRecord.objects.get(action="members.discipline").after["positions_ended"] == 1


def test_discipline_needs_a_reason(world, member):
    refused(
        lambda: lifecycle.discipline_member(
            member, actor=world.manager_C1, level="reprimand", decided_by=world.B1, reason=""
        ),
        {"reason": ["Give the reason."]},
    )


# --- positions ------------------------------------------------------------------------------------------------


def test_positions_are_recorded_by_the_unit_where_they_are_held(world, member):
    position = lifecycle.add_position(
        member,
        actor=world.manager_C1,
        title="Phó Bí thư Đoàn xã",
        unit=world.C1,
        start=datetime.date(2025, 1, 1),
        keeps_membership=True,
    )
    assert (position.title, position.unit, position.keeps_membership, position.end) == (
        "Phó Bí thư Đoàn xã",
        world.C1,
        True,
        None,
    )
    refused(
        lambda: lifecycle.add_position(member, actor=world.manager_C1, title="phó bí thư đoàn xã", unit=world.C1),
        {"title": [f"{member.full_name} already holds this position at Đoàn xã Hòa Vang."]},
    )
    denied(lambda: lifecycle.add_position(member, actor=world.manager_C1, title="Ủy viên", unit=world.C2))
    lifecycle.end_position(position, actor=world.manager_C1, end=datetime.date(2025, 6, 1))
    assert Position.objects.get().end == datetime.date(2025, 6, 1)
    assert timeline(member) == [("position", "active"), ("position", "active")]
    assert MemberEvent.objects.filter(member=member).last().note == "Left the position: Phó Bí thư Đoàn xã"
    refused(
        lambda: lifecycle.end_position(position, actor=world.manager_C1),
        {"end": ["This position already ended on 01/06/2025."]},
    )
