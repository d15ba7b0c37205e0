"""Admission (kết nạp): candidate → union course → introduction → branch vote → confirmation by the directly
superior union, which creates the member."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from freezegun import freeze_time

from doanso.core.models import AuditRecord
from doanso.members.models import Admission, Member, MemberEvent, MemberStatus
from doanso.members.services import lifecycle

from .factories import MemberFactory
from .lifecycle_support import TODAY, english, frozen, state  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen", "english")]


def applicant(**changes) -> lifecycle.ApplicantData:
    values = {
        "family_name": " Nguyễn ",
        "middle_name": "Văn",
        "given_name": "Minh",
        "date_of_birth": datetime.date(2008, 3, 2),
        "sex": "male",
        "ethnicity": "kinh",
        "citizen_id": "048208001234",
    }
    return lifecycle.ApplicantData(**{**values, **changes})


def voted(world, **changes) -> Admission:
    """An admission of B1 that has passed the branch vote."""
    admission = lifecycle.start_admission(world.B1, applicant(**changes), actor=world.manager_C1)
    lifecycle.record_course(admission, actor=world.manager_C1, completed_on=datetime.date(2025, 3, 1))
    introducer = MemberFactory(unit=world.B1, joined_on=datetime.date(2020, 3, 26))
    lifecycle.record_introduction(
        admission, actor=world.manager_C1, introducer=introducer, known_since=datetime.date(2024, 9, 1)
    )
    return lifecycle.record_branch_vote(
        admission, actor=world.manager_C1, vote_on=datetime.date(2025, 6, 1), present=12, votes_for=10
    )


def refused(call, field: str, message: str):
    before = state()
    with pytest.raises(ValidationError) as exc:
        call()
    assert exc.value.message_dict == {field: [message]}
    assert state() == before


def test_the_whole_path_creates_the_member_with_its_first_timeline_entry(world):
    admission = voted(world)
    assert admission.stage == Admission.Stage.VOTED
    member = lifecycle.approve_admission(admission, actor=world.manager_C1, approved_on=datetime.date(2025, 6, 10))

    member.refresh_from_db()
    admission.refresh_from_db()
    assert (member.full_name, member.unit, member.status, member.joined_on) == (
        "Nguyễn Văn Minh",
        world.B1,
        MemberStatus.ACTIVE,
        datetime.date(2025, 6, 10),
    )
    assert (member.ethnicity, member.citizen_id, member.admitted_at) == ("Kinh", "048208001234", "Chi đoàn thôn 1")
    assert member.search_name == "minh van nguyen"
    assert (admission.stage, admission.approved_by, admission.member) == (Admission.Stage.APPROVED, world.C1, member)
    event = MemberEvent.objects.get(member=member)
    assert (event.kind, event.date, event.unit, event.other_unit, event.status_after, event.actor) == (
        MemberEvent.Kind.ADMITTED,
        datetime.date(2025, 6, 10),
        world.B1,
        world.C1,
        MemberStatus.ACTIVE,
        world.manager_C1,
    )
    actions = list(AuditRecord.objects.order_by("id").values_list("action", flat=True))
    assert actions[-6:] == [
        "members.admission.start",
        "members.admission.course",
        "members.admission.introduce",
        "members.admission.vote",
        "members.admission.approve",
        "members.member.admit",
    ]


def test_admission_refuses_age_14(world):
    refused(
        lambda: lifecycle.start_admission(
            world.B1, applicant(date_of_birth=datetime.date(2011, 1, 1), citizen_id=""), actor=world.manager_C1
        ),
        "date_of_birth",
        "On 15/06/2025 the person is 14: admission needs at least 15 years and one day.",
    )


def test_admission_refuses_the_fifteenth_birthday_itself_and_accepts_the_day_after(world):
    refused(
        lambda: lifecycle.start_admission(
            world.B1, applicant(date_of_birth=datetime.date(2010, 6, 15), citizen_id=""), actor=world.manager_C1
        ),
        "date_of_birth",
        "On 15/06/2025 the person is 15: admission needs at least 15 years and one day.",
    )
    admission = lifecycle.start_admission(
        world.B1, applicant(date_of_birth=datetime.date(2010, 6, 14), citizen_id=""), actor=world.manager_C1
    )
    assert admission.stage == Admission.Stage.CANDIDATE


def test_admission_refuses_31(world):
    refused(
        lambda: lifecycle.start_admission(
            world.B1, applicant(date_of_birth=datetime.date(1994, 6, 15), citizen_id=""), actor=world.manager_C1
        ),
        "date_of_birth",
        "On 15/06/2025 the person is 31: admission is only up to 30.",
    )
    lifecycle.start_admission(
        world.B1, applicant(date_of_birth=datetime.date(1994, 6, 16), citizen_id=""), actor=world.manager_C1
    )


def test_the_age_is_checked_again_on_the_day_of_the_vote(world):
    """The branch meeting is the day of consideration: 30 when the file opened in January, 31 at a meeting
    after the birthday."""
    with freeze_time("2025-01-05"):
        admission = lifecycle.start_admission(
            world.B1, applicant(date_of_birth=datetime.date(1994, 1, 10), citizen_id=""), actor=world.manager_C1
        )
        lifecycle.record_course(admission, actor=world.manager_C1, completed_on=datetime.date(2024, 12, 1))
        lifecycle.record_introduction(admission, actor=world.manager_C1, collective="Chi hội Thanh niên thôn 1")
    refused(
        lambda: lifecycle.record_branch_vote(
            admission, actor=world.manager_C1, vote_on=datetime.date(2025, 1, 10), present=5, votes_for=5
        ),
        "vote_on",
        "On 10/01/2025 the person is 31: admission is only up to 30.",
    )
    lifecycle.record_branch_vote(
        admission, actor=world.manager_C1, vote_on=datetime.date(2025, 1, 9), present=5, votes_for=5
    )


def test_the_age_limit_is_configurable(world, settings):
    settings.DOANSO_RULES = {**settings.DOANSO_RULES, "admission_max_age": 35}
    lifecycle.start_admission(
        world.B1, applicant(date_of_birth=datetime.date(1992, 1, 1), citizen_id=""), actor=world.manager_C1
    )


def test_admission_is_voted_by_a_branch(world):
    refused(
        lambda: lifecycle.start_admission(world.C1, applicant(), actor=world.manager_C1),
        "unit",
        "Admissions are voted by a branch (chi đoàn): Đoàn xã Hòa Vang is not one.",
    )


def test_admission_refuses_a_citizen_id_already_in_the_registry(world):
    MemberFactory(unit=world.B3, citizen_id="048208001234", date_of_birth=datetime.date(2008, 3, 2))
    refused(
        lambda: lifecycle.start_admission(world.B1, applicant(), actor=world.manager_C1),
        "citizen_id",
        "A member with this citizen ID is already in the registry.",
    )


def test_admission_checks_the_citizen_id_against_the_birth_date(world):
    refused(
        lambda: lifecycle.start_admission(world.B1, applicant(citizen_id="048207001234"), actor=world.manager_C1),
        "citizen_id",
        "Digits 5–6 (07) must be the year of birth (2008).",
    )


def test_admission_outside_the_cadres_units_is_refused(world):
    before = state()
    with pytest.raises(PermissionDenied):
        lifecycle.start_admission(world.B1, applicant(), actor=world.manager_C2)
    assert state() == before


def test_steps_come_in_order(world):
    admission = lifecycle.start_admission(world.B1, applicant(), actor=world.manager_C1)
    refused(
        lambda: lifecycle.record_introduction(admission, actor=world.manager_C1, collective="Chi đội 9A"),
        "stage",
        "This step comes after “Completed the union course”; the file is at “Candidate”.",
    )


def introduced_at_course(world):
    admission = lifecycle.start_admission(world.B1, applicant(), actor=world.manager_C1)
    return lifecycle.record_course(admission, actor=world.manager_C1, completed_on=datetime.date(2025, 3, 1))


def test_introducer_known_3_months(world):
    admission = introduced_at_course(world)
    introducer = MemberFactory(unit=world.B1)
    # On 15/06/2025, three months back is 15/03/2025: a day later is not long enough.
    refused(
        lambda: lifecycle.record_introduction(
            admission, actor=world.manager_C1, introducer=introducer, known_since=datetime.date(2025, 3, 16)
        ),
        "known_since",
        "The introducer must have known the applicant for at least 3 months on 15/06/2025: "
        "since 15/03/2025 at the latest.",
    )
    lifecycle.record_introduction(
        admission, actor=world.manager_C1, introducer=introducer, known_since=datetime.date(2025, 3, 15)
    )
    admission.refresh_from_db()
    assert (admission.stage, admission.introducer, admission.introducer_known_since) == (
        Admission.Stage.INTRODUCED,
        introducer,
        datetime.date(2025, 3, 15),
    )


def test_introducer_months_are_configurable(world, settings):
    settings.DOANSO_RULES = {**settings.DOANSO_RULES, "introducer_known_months": 6}
    admission = introduced_at_course(world)
    introducer = MemberFactory(unit=world.B1)
    refused(
        lambda: lifecycle.record_introduction(
            admission, actor=world.manager_C1, introducer=introducer, known_since=datetime.date(2025, 1, 1)
        ),
        "known_since",
        "The introducer must have known the applicant for at least 6 months on 15/06/2025: "
        "since 15/12/2024 at the latest.",
    )


def test_introducer_must_be_an_active_member(world):
    admission = introduced_at_course(world)
    former = MemberFactory(unit=world.B1, status=MemberStatus.GRADUATED)
    refused(
        lambda: lifecycle.record_introduction(
            admission, actor=world.manager_C1, introducer=former, known_since=datetime.date(2020, 1, 1)
        ),
        "introducer",
        f"{former.full_name} is not an active union member and cannot introduce an applicant.",
    )


def test_collective_introduction_needs_no_member(world):
    admission = introduced_at_course(world)
    lifecycle.record_introduction(admission, actor=world.manager_C1, collective="  Chi đội   9A ")
    admission.refresh_from_db()
    assert (admission.stage, admission.introducer, admission.collective_introducer) == (
        Admission.Stage.INTRODUCED,
        None,
        "Chi đội 9A",
    )
    assert AuditRecord.objects.get(action="members.admission.introduce").after["collective_introducer"] == "Chi đội 9A"


def test_introduction_needs_a_member_or_a_collective_not_both(world):
    admission = introduced_at_course(world)
    introducer = MemberFactory(unit=world.B1)
    refused(
        lambda: lifecycle.record_introduction(admission, actor=world.manager_C1),
        "introducer",
        "Choose the introducing member, or name the collective (chi đội, chi hội) introducing.",
    )
    refused(
        lambda: lifecycle.record_introduction(
            admission,
            actor=world.manager_C1,
            introducer=introducer,
            known_since=datetime.date(2020, 1, 1),
            collective="Chi đội 9A",
        ),
        "collective",
        "An applicant is introduced by one member or by a collective, not both.",
    )


def introduced(world) -> Admission:
    admission = introduced_at_course(world)
    return lifecycle.record_introduction(admission, actor=world.manager_C1, collective="Chi đội 9A")


def test_branch_vote_needs_more_than_half(world):
    half = lifecycle.record_branch_vote(
        introduced(world), actor=world.manager_C1, vote_on=TODAY, present=10, votes_for=5
    )
    assert (half.stage, half.votes_present, half.votes_for) == (Admission.Stage.REJECTED, 10, 5)
    more = lifecycle.record_branch_vote(
        introduced_second(world), actor=world.manager_C1, vote_on=TODAY, present=10, votes_for=6
    )
    assert more.stage == Admission.Stage.VOTED


def introduced_second(world) -> Admission:
    admission = lifecycle.start_admission(
        world.B1, applicant(given_name="Lan", sex="female", citizen_id="048308001234"), actor=world.manager_C1
    )
    lifecycle.record_course(admission, actor=world.manager_C1, completed_on=datetime.date(2025, 3, 1))
    return lifecycle.record_introduction(admission, actor=world.manager_C1, collective="Chi đội 9A")


def test_vote_counts_must_add_up(world):
    admission = introduced(world)
    refused(
        lambda: lifecycle.record_branch_vote(
            admission, actor=world.manager_C1, vote_on=TODAY, present=10, votes_for=11
        ),
        "votes_for",
        "There cannot be more votes for (11) than members present (10).",
    )
    refused(
        lambda: lifecycle.record_branch_vote(admission, actor=world.manager_C1, vote_on=TODAY, present=0, votes_for=0),
        "votes_present",
        "At least one member must be present.",
    )
    refused(
        lambda: lifecycle.record_branch_vote(
            admission, actor=world.manager_C1, vote_on=datetime.date(2025, 2, 1), present=9, votes_for=9
        ),
        "vote_on",
        "The date cannot be before the union course (01/03/2025).",
    )


def test_the_directly_superior_union_confirms(world, make_user):
    admission = voted(world)
    branch_secretary = make_user("unit_manager", world.B1)
    for outsider in (branch_secretary, world.manager_C2):
        before = state()
        with pytest.raises(PermissionDenied):
            lifecycle.approve_admission(admission, actor=outsider)
        assert state() == before
    lifecycle.approve_admission(admission, actor=world.manager_P)
    admission.refresh_from_db()
    # A cadre of the province may sign, but the decision is the commune's: the union directly above the branch.
    assert admission.approved_by == world.C1


def test_confirmation_refuses_a_citizen_id_registered_meanwhile(world):
    admission = voted(world)
    MemberFactory(unit=world.B3, citizen_id="048208001234", date_of_birth=datetime.date(2008, 3, 2))
    refused(
        lambda: lifecycle.approve_admission(admission, actor=world.manager_C1),
        "citizen_id",
        "A member with this citizen ID is already in the registry.",
    )


def test_confirmation_cannot_precede_the_vote(world):
    admission = voted(world)
    refused(
        lambda: lifecycle.approve_admission(admission, actor=world.manager_C1, approved_on=datetime.date(2025, 5, 1)),
        "approved_on",
        "The date cannot be before the branch vote (01/06/2025).",
    )


def test_a_rejected_file_stays_closed(world):
    admission = introduced(world)
    refused(
        lambda: lifecycle.reject_admission(admission, actor=world.manager_C1, reason=" "),
        "reason",
        "Give the reason.",
    )
    lifecycle.reject_admission(admission, actor=world.manager_C1, reason="Xin rút hồ sơ")
    assert AuditRecord.objects.get(action="members.admission.reject").after == {
        "stage": "rejected",
        "reason": "Xin rút hồ sơ",
    }
    refused(
        lambda: lifecycle.record_branch_vote(admission, actor=world.manager_C1, vote_on=TODAY, present=3, votes_for=3),
        "stage",
        "This admission is closed: Not admitted.",
    )
    refused(
        lambda: lifecycle.reject_admission(admission, actor=world.manager_C1, reason="again"),
        "stage",
        "This admission is closed: Not admitted.",
    )
    assert Member.objects.filter(family_name="Nguyễn", given_name="Minh").count() == 0


def test_the_superior_union_confirms_before_the_applicant_turns_31(world):
    """The joining date is the confirmation's: the record it creates must pass the registry's own age rule."""
    with freeze_time("2025-05-01"):
        admission = lifecycle.start_admission(
            world.B1, applicant(date_of_birth=datetime.date(1994, 6, 10), citizen_id=""), actor=world.manager_C1
        )
        lifecycle.record_course(admission, actor=world.manager_C1, completed_on=datetime.date(2025, 4, 1))
        lifecycle.record_introduction(admission, actor=world.manager_C1, collective="Chi hội thôn 1")
    lifecycle.record_branch_vote(
        admission, actor=world.manager_C1, vote_on=datetime.date(2025, 6, 1), present=5, votes_for=4
    )
    refused(
        lambda: lifecycle.approve_admission(admission, actor=world.manager_C1, approved_on=datetime.date(2025, 6, 12)),
        "approved_on",
        "On 12/06/2025 the person is 31: admission is only up to 30.",
    )
    member = lifecycle.approve_admission(admission, actor=world.manager_C1, approved_on=datetime.date(2025, 6, 5))
    assert member.joined_on == datetime.date(2025, 6, 5)
