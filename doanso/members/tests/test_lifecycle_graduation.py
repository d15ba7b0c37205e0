"""Graduation (trưởng thành Đoàn) at the age limit, and the end of membership: strike-off, resignation, death."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from doanso.core.models import AuditRecord
from doanso.members.models import MemberEvent, MemberStatus, Position
from doanso.members.services import lifecycle

from .factories import MemberFactory
from .lifecycle_support import TODAY, english, frozen, state, timeline  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen", "english")]


def refused(call, errors: dict):
    before = state()
    with pytest.raises(ValidationError) as exc:
        call()
    assert exc.value.message_dict == errors
    assert state() == before


def born(world, year, month=6, day=1, unit=None, **extra):
    return MemberFactory(
        unit=unit or world.B1,
        date_of_birth=datetime.date(year, month, day),
        given_name=f"Sinh{year}",
        joined_on=datetime.date(max(year + 16, 2005), 1, 1),
        **extra,
    )


def names(rows) -> list[str]:
    return [row.member.given_name for row in rows]


def test_graduation_lists_the_members_over_the_age_limit_this_year(world):
    born(world, 1994, 12, 31)  # 31 in 2025, even before the birthday
    born(world, 1995, 1, 1)  # 30 in 2025: not yet
    born(world, 1992, unit=world.B2)  # the commune's list covers its branches
    born(world, 1990, unit=world.B3)  # another commune
    born(world, 1993, status=MemberStatus.GRADUATED)
    listing = lifecycle.graduation_candidates(world.C1, 2025)
    assert names(listing.due) == ["Sinh1992", "Sinh1994"]
    assert [(row.age, row.over_cap) for row in listing.due] == [(33, False), (31, False)]
    assert (listing.kept, listing.exempt) == ([], [])
    # Next year, one more.
    assert names(lifecycle.graduation_candidates(world.C1, 2026).due) == ["Sinh1992", "Sinh1994", "Sinh1995"]


def test_graduation_exempts_elected_cadres(world):
    cadre = born(world, 1990)
    Position.objects.create(
        member=cadre, title="Bí thư Đoàn xã", unit=world.C1, start=datetime.date(2022, 10, 1), keeps_membership=True
    )
    former = born(world, 1991)
    Position.objects.create(
        member=former,
        title="Phó Bí thư Đoàn xã",
        unit=world.C1,
        start=datetime.date(2019, 10, 1),
        end=datetime.date(2022, 10, 1),
        keeps_membership=True,
    )
    ordinary = born(world, 1992)
    Position.objects.create(member=ordinary, title="Tổ trưởng", unit=world.B1, start=datetime.date(2024, 1, 1))
    listing = lifecycle.graduation_candidates(world.C1, 2025)
    assert names(listing.exempt) == ["Sinh1990"]
    assert listing.exempt[0].position.title == "Bí thư Đoàn xã"
    # Past the extended limit too: in office, the cadre still stays.
    assert listing.exempt[0].over_cap is False
    assert names(listing.due) == ["Sinh1991", "Sinh1992"]


def test_graduation_exempts_full_time_staff_whatever_their_age(world):
    staff = born(world, 1985)
    Position.objects.create(
        member=staff,
        title="Chuyên viên Thành đoàn",
        unit=world.P,
        start=datetime.date(2015, 1, 1),
        keeps_membership=True,
    )
    listing = lifecycle.graduation_candidates(world.C1, 2025)
    assert (names(listing.exempt), listing.exempt[0].over_cap, listing.due) == (["Sinh1985"], True, [])


def test_the_age_limit_is_configurable(world, settings):
    born(world, 1996)
    settings.DOANSO_RULES = {**settings.DOANSO_RULES, "member_age_limit": 28}
    assert names(lifecycle.graduation_candidates(world.C1, 2025).due) == ["Sinh1996"]


def test_graduation_list_takes_three_queries_whatever_its_size(world, django_assert_num_queries):
    for year in (1990, 1991, 1992, 1993):
        member = born(world, year)
        Position.objects.create(member=member, title="x", unit=world.B1, start=datetime.date(2020, 1, 1))
    # Members, their positions, their "kept" decisions (none to read before the event kind exists).
    with django_assert_num_queries(3):
        listing = lifecycle.graduation_candidates(world.C1, 2025)
        assert [row.member.unit.code for row in listing.due] == ["B1"] * 4


def test_graduate_in_bulk_with_a_ceremony_date(world):
    a, b = born(world, 1993), born(world, 1994, unit=world.B2)
    Position.objects.create(member=a, title="Tổ trưởng", unit=world.B1, start=datetime.date(2024, 1, 1))
    ceremony = datetime.date(2025, 3, 26)
    assert lifecycle.graduate_members([a, b], actor=world.manager_C1, ceremony_on=ceremony) == 2
    for member in (a, b):
        member.refresh_from_db()
        assert member.status == MemberStatus.GRADUATED
        event = MemberEvent.objects.get(member=member)
        assert (event.kind, event.date, event.status_after) == ("graduated", ceremony, "graduated")
    assert Position.objects.get().end == ceremony
    assert AuditRecord.objects.filter(action="members.graduate").count() == 2
    assert lifecycle.graduation_candidates(world.C1, 2025).due == []


def test_graduation_is_all_or_nothing(world):
    old, young = born(world, 1993), born(world, 1996)
    cadre = born(world, 1990)
    Position.objects.create(
        member=cadre, title="Bí thư Đoàn xã", unit=world.C1, start=datetime.date(2022, 10, 1), keeps_membership=True
    )
    refused(
        lambda: lifecycle.graduate_members([old, young, cadre], actor=world.manager_C1, ceremony_on=TODAY),
        {
            "members": [
                f"{young.full_name} is 29 in 2025, not over 30.",
                f"{cadre.full_name} holds “Bí thư Đoàn xã”, which keeps membership while in office: end the "
                "position first.",
            ]
        },
    )
    refused(
        lambda: lifecycle.graduate_members([], actor=world.manager_C1),
        {"members": ["Choose at least one member."]},
    )


def test_graduation_outside_the_cadres_units_is_refused(world):
    member = born(world, 1990, unit=world.B3)
    before = state()
    with pytest.raises(PermissionDenied):
        lifecycle.graduate_members([member], actor=world.manager_C1)
    assert state() == before


def test_the_branch_keeps_a_member_up_to_the_extended_limit(world):
    kept = born(world, 1992)
    lifecycle.keep_member(kept, actor=world.manager_C1, reason="Tự nguyện ở lại, đang phụ trách đội văn nghệ")
    listing = lifecycle.graduation_candidates(world.C1, 2025)
    assert (names(listing.kept), listing.due) == (["Sinh1992"], [])
    # Kept until 35: in 2028 the member is 36 and due again.
    assert names(lifecycle.graduation_candidates(world.C1, 2028).due) == ["Sinh1992"]
    too_old = born(world, 1989)
    refused(
        lambda: lifecycle.keep_member(too_old, actor=world.manager_C1, reason="x"),
        {"member": [f"{too_old.full_name} is 36 in 2025: a branch keeps members only up to 35."]},
    )
    young = born(world, 1996)
    refused(
        lambda: lifecycle.keep_member(young, actor=world.manager_C1, reason="x"),
        {"member": [f"{young.full_name} is not over 30 yet: nothing to decide."]},
    )


# --- strike-off, resignation, death ---------------------------------------------------------------------------


@pytest.fixture
def member(world):
    return MemberFactory(unit=world.B1, joined_on=datetime.date(2020, 3, 26))


def test_strike_off_after_3_months_without_attending_or_paying(world, member):
    refused(
        lambda: lifecycle.strike_off(member, actor=world.manager_C1, reason="Không sinh hoạt", months_missed=2),
        {
            "months_missed": [
                "A member is struck off after 3 months in a year without attending or paying dues; 2 given."
            ]
        },
    )
    refused(
        lambda: lifecycle.strike_off(member, actor=world.manager_C1, reason="", months_missed=3),
        {"reason": ["Give the reason."]},
    )
    Position.objects.create(member=member, title="Tổ trưởng", unit=world.B1, start=datetime.date(2024, 1, 1))
    lifecycle.strike_off(member, actor=world.manager_C1, reason="Bỏ sinh hoạt không lý do", months_missed=4)
    member.refresh_from_db()
    assert member.status == MemberStatus.STRUCK_OFF
    event = MemberEvent.objects.get(member=member)
    assert (event.kind, event.status_after, event.note, event.data) == (
        "struck_off",
        "struck_off",
        "Bỏ sinh hoạt không lý do",
        {"months_missed": 4},
    )
    assert Position.objects.get().end == TODAY
    assert AuditRecord.objects.get(action="members.strike_off").after == {
        "unit": world.B1.pk,
        "status": "struck_off",
        "reason": "Bỏ sinh hoạt không lý do",
        "months_missed": 4,
        "positions_ended": 1,
        "attachments_ended": 0,
    }


def test_the_strike_off_months_are_configurable(world, member, settings):
    settings.DOANSO_RULES = {**settings.DOANSO_RULES, "strike_off_months": 2}
    lifecycle.strike_off(member, actor=world.manager_C1, reason="Không sinh hoạt", months_missed=2)
    assert timeline(member) == [("struck_off", "struck_off")]


def test_resignation_and_death_end_membership_once(world, member):
    other = MemberFactory(unit=world.B1)
    lifecycle.record_resignation(member, actor=world.manager_C1, reason="Xin ra khỏi Đoàn", on=TODAY)
    lifecycle.record_death(other, actor=world.manager_C1, on=datetime.date(2025, 6, 2))
    member.refresh_from_db()
    other.refresh_from_db()
    assert (member.status, other.status) == ("resigned", "deceased")
    assert timeline(member) == [("resigned", "resigned")]
    assert timeline(other) == [("deceased", "deceased")]
    refused(
        lambda: lifecycle.record_resignation(member, actor=world.manager_C1, reason="again"),
        {"member": [f"{member.full_name} is no longer a member (Left the union)."]},
    )
    refused(
        lambda: lifecycle.record_death(member, actor=world.manager_C1, on=datetime.date(2019, 1, 1)),
        {"member": [f"{member.full_name} is no longer a member (Left the union)."]},
    )


def test_end_of_membership_dates(world, member):
    refused(
        lambda: lifecycle.record_resignation(member, actor=world.manager_C1, reason="x", on=datetime.date(2020, 1, 1)),
        {"on": ["The date cannot be before the day the member joined (26/03/2020)."]},
    )
    refused(
        lambda: lifecycle.record_death(member, actor=world.manager_C1, on=datetime.date(2025, 7, 1)),
        {"on": ["The date cannot be in the future."]},
    )


def test_end_of_membership_outside_the_cadres_units_is_refused(world, member):
    for call in (
        lambda: lifecycle.strike_off(member, actor=world.manager_C2, reason="x", months_missed=3),
        lambda: lifecycle.record_resignation(member, actor=world.manager_C2, reason="x"),
        lambda: lifecycle.record_death(member, actor=world.nobody),
    ):
        before = state()
        with pytest.raises(PermissionDenied):
            call()
        assert state() == before


def test_the_status_is_always_the_last_events_status(world, member):
    """A member's status is derived from the history: after any sequence of steps, the latest timeline entry
    carries the status the member has."""
    transfer = lifecycle.send_transfer(member, actor=world.manager_C1, to_unit=world.B3)
    lifecycle.cancel_transfer(transfer, actor=world.manager_C1)
    lifecycle.attach_temporarily(member, world.B3, actor=world.manager_C1)
    lifecycle.rate_members(world.B1, 2024, {member: "good"}, actor=world.manager_C1)
    lifecycle.discipline_member(member, actor=world.manager_C1, level="reprimand", decided_by=world.B1, reason="x")
    transfer = lifecycle.send_transfer(member, actor=world.manager_C1, to_unit=world.B3)
    lifecycle.receive_transfer(transfer, actor=world.manager_C2)
    lifecycle.record_resignation(member, actor=world.manager_C2, reason="Chuyển công tác nước ngoài")
    member.refresh_from_db()
    history = timeline(member)
    assert history[-1][1] == member.status == MemberStatus.RESIGNED
    assert [kind for kind, _status in history] == [
        "transfer_sent",
        "transfer_cancelled",
        "attached",
        "rated",
        "disciplined",
        "transfer_sent",
        "transfer_received",
        "resigned",
    ]
