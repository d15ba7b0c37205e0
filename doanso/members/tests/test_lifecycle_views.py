"""The lifecycle pages: two steps (a preview that writes nothing, then the confirmation), errors at their field,
the buttons each user gets, and list pages whose query count does not grow with their rows."""

import datetime

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from doanso.members.lifecycle_views import member_actions, unit_actions
from doanso.members.models import Admission, AnnualRating, Member, MemberStatus, Position, Transfer
from doanso.members.services import lifecycle

from .factories import MemberFactory
from .lifecycle_support import TODAY, english, frozen, state  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen", "english")]


@pytest.fixture
def as_user(client, login):
    """A client logged in as ``user``, reading the pages in English (their source language)."""

    def make(user):
        login(client, user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return make


@pytest.fixture
def member(world):
    return MemberFactory(unit=world.B1, joined_on=datetime.date(2020, 3, 26), given_name="Hạnh")


def text(response) -> str:
    return " ".join(response.content.decode().split())


def test_admission_through_its_pages(world, as_user):
    client = as_user(world.manager_C1)
    url = reverse("members:admission_start", args=[world.C1.pk])
    data = {
        "branch": world.B1.pk,
        "family_name": "Trần",
        "middle_name": "Thị",
        "given_name": "Mai",
        "date_of_birth": "02/03/2008",
        "sex": "female",
        "ethnicity": "Kinh",
        "citizen_id": "",
        "phone": "",
    }
    preview = client.post(url, data)
    assert "Trần Thị Mai, born 02/03/2008, becomes a candidate of Chi đoàn thôn 1." in text(preview)
    assert Admission.objects.count() == 0
    response = client.post(url, {**data, "confirm": "1"})
    admission = Admission.objects.get()
    assert response.url == reverse("members:admission_detail", args=[admission.pk])

    detail = reverse("members:admission_detail", args=[admission.pk])
    steps = [
        {"step": "course", "completed_on": "01/03/2025"},
        {"step": "introduction", "collective": "Chi đội 9A", "on": "15/06/2025", "introducer": "", "known_since": ""},
        {"step": "vote", "vote_on": "10/06/2025", "votes_present": "9", "votes_for": "7"},
    ]
    for step in steps:
        assert client.post(detail, step).status_code == 200  # the preview
        assert client.post(detail, {**step, "confirm": "1"}).status_code == 302
    admission.refresh_from_db()
    assert admission.stage == Admission.Stage.VOTED
    page = text(client.get(detail))
    assert '<th scope="row">Introduced by</th><td>Chi đội 9A</td>' in page
    assert "10/06/2025 — 7 for, of 9 present" in page

    response = client.post(detail, {"step": "approve", "approved_on": "15/06/2025", "confirm": "1"})
    member = Member.objects.get()
    assert response.url == reverse("members:member_detail", args=[member.pk])
    assert (member.full_name, member.unit, member.joined_on) == ("Trần Thị Mai", world.B1, TODAY)


def test_the_branch_cannot_confirm_its_own_admission(world, as_user, make_user):
    admission = lifecycle.start_admission(
        world.B1,
        lifecycle.ApplicantData(
            family_name="Lê", given_name="Na", date_of_birth=datetime.date(2008, 1, 1), sex="female"
        ),
        actor=world.manager_C1,
    )
    lifecycle.record_course(admission, actor=world.manager_C1, completed_on=TODAY)
    lifecycle.record_introduction(admission, actor=world.manager_C1, collective="Chi đội 9A")
    lifecycle.record_branch_vote(admission, actor=world.manager_C1, vote_on=TODAY, present=5, votes_for=5)
    client = as_user(make_user("unit_manager", world.B1))
    detail = reverse("members:admission_detail", args=[admission.pk])
    page = text(client.get(detail))
    assert "Waiting for confirmation by Đoàn xã Hòa Vang." in page
    assert 'name="approved_on"' not in page
    before = state()
    assert client.post(detail, {"step": "approve", "approved_on": "15/06/2025", "confirm": "1"}).status_code == 404
    assert state() == before


def test_a_vote_error_shows_at_its_field(world, as_user):
    admission = lifecycle.start_admission(
        world.B1,
        lifecycle.ApplicantData(
            family_name="Lê", given_name="Na", date_of_birth=datetime.date(2008, 1, 1), sex="female"
        ),
        actor=world.manager_C1,
    )
    lifecycle.record_course(admission, actor=world.manager_C1, completed_on=TODAY)
    lifecycle.record_introduction(admission, actor=world.manager_C1, collective="Chi đội 9A")
    response = as_user(world.manager_C1).post(
        reverse("members:admission_detail", args=[admission.pk]),
        {"step": "vote", "vote_on": "15/06/2025", "votes_present": "4", "votes_for": "5", "confirm": "1"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "votes_for": ["There cannot be more votes for (5) than members present (4)."]
    }


def test_transfer_through_its_pages(world, as_user, member):
    sender = as_user(world.manager_C1)
    url = reverse("members:transfer_send", args=[member.pk])
    data = {"where": "within", "to_unit": "Chi đoàn tổ 5 — B3", "sent_on": "15/06/2025", "assessment": ""}
    assert f"{member.full_name} is sent from Chi đoàn thôn 1 to Chi đoàn tổ 5 on 15/06/2025." in text(
        sender.post(url, data)
    )
    assert Transfer.objects.count() == 0
    assert sender.post(url, {**data, "confirm": "1"}).url == reverse("members:member_detail", args=[member.pk])
    transfer = Transfer.objects.get()

    receiver = as_user(world.manager_C2)
    inbox = text(receiver.get(reverse("members:transfer_inbox")))
    assert f'data-transfer="{transfer.pk}"' in inbox and "Nothing waiting." in inbox
    receive = reverse("members:transfer_receive", args=[transfer.pk])
    assert receiver.post(receive, {"place_in": "", "received_on": "15/06/2025", "confirm": "1"}).status_code == 302
    member.refresh_from_db()
    assert (member.unit, member.status) == (world.B3, MemberStatus.ACTIVE)


def test_the_out_of_province_choice_ignores_a_unit_typed_before(world, as_user, member):
    response = as_user(world.manager_C1).post(
        reverse("members:transfer_send", args=[member.pk]),
        {
            "where": "outside",
            "to_unit": "Chi đoàn tổ 5 — B3",
            "destination": "Tỉnh đoàn Quảng Ngãi",
            "sent_on": "15/06/2025",
            "assessment": "Tốt",
            "confirm": "1",
        },
    )
    assert response.status_code == 302
    transfer = Transfer.objects.get()
    assert (transfer.to_unit, transfer.destination, len(transfer.verification_code)) == (
        None,
        "Tỉnh đoàn Quảng Ngãi",
        12,
    )


def test_the_province_picker_suggests_units_outside_the_cadres_subtree(world, as_user):
    response = as_user(world.manager_C1).get(reverse("members:transfer_unit_suggest"), {"q": "to 5"})
    assert text(response) == '<option value="Chi đoàn tổ 5 — B3">'


def test_rating_table_saves_a_branch_in_one_post(world, as_user):
    a, b = MemberFactory(unit=world.B1), MemberFactory(unit=world.B1)
    client = as_user(world.manager_C1)
    url = reverse("members:rating_bulk", args=[world.B1.pk]) + "?year=2024"
    data = {f"level_{a.pk}": "excellent", f"participation_{a.pk}": "80", f"level_{b.pk}": "good"}
    response = client.post(url, {**data, "confirm": "1"})
    assert response.status_code == 200
    assert response.context["form"].errors == {
        f"participation_{a.pk}": [f"{a.full_name}: the top level needs at least 90% participation (80% given)."]
    }
    assert AnnualRating.objects.count() == 0
    data[f"participation_{a.pk}"] = "95"
    assert "2 new ratings for 2024." in text(client.post(url, data))
    response = client.post(url, {**data, "confirm": "1"})
    assert response.url == url
    assert sorted(AnnualRating.objects.values_list("member_id", "year", "level")) == [
        (a.pk, 2024, "excellent"),
        (b.pk, 2024, "good"),
    ]
    # The table shows what was saved, ready for a correction.
    assert client.get(url).context["form"].initial[f"level_{a.pk}"] == "excellent"


def test_graduation_through_its_pages(world, as_user):
    old = MemberFactory(unit=world.B1, date_of_birth=datetime.date(1993, 1, 1))
    MemberFactory(unit=world.B1, date_of_birth=datetime.date(2000, 1, 1))
    client = as_user(world.manager_C1)
    listing = client.get(reverse("members:graduation_list", args=[world.C1.pk]) + "?year=2025")
    assert [row.member for row in listing.context["listing"].due] == [old]
    assert f'value="{old.pk}" id="graduate-{old.pk}" checked' in text(listing)
    url = reverse("members:graduate", args=[world.C1.pk]) + "?year=2025"
    preview = client.post(url, {"members": [old.pk], "ceremony_on": "26/03/2025"})
    assert "1 member graduates at the ceremony of 26/03/2025:" in text(preview)
    assert client.post(url, {"members": [old.pk], "ceremony_on": "26/03/2025", "confirm": "1"}).status_code == 302
    old.refresh_from_db()
    assert old.status == MemberStatus.GRADUATED


def test_end_of_membership_error_lands_at_its_field(world, as_user, member):
    response = as_user(world.manager_C1).post(
        reverse("members:end_membership", args=[member.pk]),
        {"kind": "strike_off", "on": "15/06/2025", "months_missed": "1", "reason": "Bỏ sinh hoạt", "confirm": "1"},
    )
    assert response.context["form"].errors == {
        "months_missed": ["A member is struck off after 3 months in a year without attending or paying dues; 1 given."]
    }
    member.refresh_from_db()
    assert member.status == MemberStatus.ACTIVE


def test_discipline_page_offers_the_units_in_the_members_line(world, as_user, member):
    form = as_user(world.manager_C1).get(reverse("members:discipline_add", args=[member.pk])).context["form"]
    assert list(form.fields["decided_by"].queryset) == [world.B1, world.C1]


# --- the buttons ----------------------------------------------------------------------------------------------


def labels(actions) -> list[str]:
    return [label for label, _url in actions]


def test_member_actions_follow_the_status_and_the_users_rights(world, member):
    assert labels(member_actions(world.manager_C1, member)) == [
        "Transfer",
        "Temporary attachment",
        "Discipline",
        "Add a position",
        "End of membership",
    ]
    assert member_actions(world.manager_C2, member) == []
    assert member_actions(world.nobody, member) == []

    transfer = lifecycle.send_transfer(member, actor=world.manager_C1, to_unit=world.B3)
    member.refresh_from_db()
    assert labels(member_actions(world.manager_C1, member)) == ["Cancel the transfer", "End of membership"]
    assert member_actions(world.manager_C2, member) == [
        ("Receive the transfer", reverse("members:transfer_receive", args=[transfer.pk])),
        ("Cancel the transfer", reverse("members:transfer_cancel", args=[transfer.pk])),
    ]
    lifecycle.cancel_transfer(transfer, actor=world.manager_C1)
    lifecycle.attach_temporarily(member, world.B3, actor=world.manager_C1)
    Position.objects.create(member=member, title="Bí thư", unit=world.B1, start=TODAY)
    member.refresh_from_db()
    assert labels(member_actions(world.manager_C1, member))[-2:] == [
        "End the attachment to Chi đoàn tổ 5",
        "End the position: Bí thư",
    ]


def test_an_out_of_province_transfer_offers_its_letter(world, member):
    transfer = lifecycle.send_transfer(member, actor=world.manager_C1, destination="Tỉnh đoàn Huế", assessment="Tốt")
    member.refresh_from_db()
    assert labels(member_actions(world.manager_C1, member)) == [
        "Transfer letter (PDF)",
        "Received by the other province",
        "Cancel the transfer",
        "End of membership",
    ]
    assert member_actions(world.manager_C1, member)[0][1] == reverse("members:transfer_letter", args=[transfer.pk])


def test_ended_members_have_no_lifecycle_buttons(world, member):
    lifecycle.record_death(member, actor=world.manager_C1)
    member.refresh_from_db()
    assert member_actions(world.manager_C1, member) == []


def test_unit_actions(world):
    assert labels(unit_actions(world.manager_C1, world.B1)) == [
        "Admissions",
        "Transfers to receive",
        "Annual rating",
        "Graduation",
    ]
    assert unit_actions(world.manager_C2, world.B1) == []


# --- query counts ---------------------------------------------------------------------------------------------


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def add_rows(world, n):
    for _i in range(n):
        m = MemberFactory(unit=world.B1, date_of_birth=datetime.date(1992, 1, 1))
        lifecycle.send_transfer(m, actor=world.admin, destination="Tỉnh đoàn Huế", assessment="Tốt")
        lifecycle.send_transfer(MemberFactory(unit=world.B3), actor=world.admin, to_unit=world.B1)
        lifecycle.start_admission(
            world.B1,
            lifecycle.ApplicantData(
                family_name="Lê", given_name="Na", date_of_birth=datetime.date(2008, 1, 1), sex="female"
            ),
            actor=world.admin,
        )
        MemberFactory(unit=world.B1)


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("members:admission_list", "C1"),
        ("members:transfer_inbox", None),
        ("members:rating_bulk", "B1"),
        ("members:graduation_list", "C1"),
    ],
)
def test_list_pages_do_not_query_per_row(world, as_user, name, kwargs):
    client = as_user(world.manager_C1)
    url = reverse(name, args=[getattr(world, kwargs).pk] if kwargs else [])
    add_rows(world, 1)
    few = count_queries(client, url)
    add_rows(world, 4)
    assert count_queries(client, url) == few
