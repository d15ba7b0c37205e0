"""Data-update campaigns: launching, members confirming (once), and completion by unit with drill-down."""

import datetime
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation
from freezegun import freeze_time

from doanso.accounts.tests.factories import RoleAssignmentFactory, UserFactory
from doanso.core.models import AuditRecord
from doanso.members.models import DataCampaign, DataConfirmation, MemberEvent, MemberStatus
from doanso.members.services.selfservice import (
    completion_by_child,
    completion_for_units,
    confirm_data,
    launch_campaign,
    not_confirmed,
    sort_rows,
)
from doanso.org.models import UnitKind

from .factories import MemberFactory

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 3, 2)


@pytest.fixture(autouse=True)
def frozen():
    # Load the URLs (and the API's schemas) before time stands still: pydantic cannot build a schema for
    # freezegun's fake date class.
    reverse("core:home")
    with freeze_time("2026-03-02 09:00:00+07:00"), translation.override("en"):
        yield


@pytest.fixture
def client():
    return Client(headers={"accept-language": "en"})


def launch(world, unit=None, actor=None, **kwargs):
    data = {"title": "Rà soát dữ liệu đoàn viên 2026", "starts_on": TODAY, "deadline": TODAY + datetime.timedelta(10)}
    return launch_campaign(actor=actor or world.manager_P, unit=unit or world.P, **{**data, **kwargs})


def member_with_account(unit, **kwargs):
    return MemberFactory(unit=unit, user=UserFactory(), **kwargs)


@pytest.fixture
def registry(world):
    """B1: 3 members, B2: 2, one member filed at C1 itself, B3 (under C2): 2; plus people who do not count."""
    r = {
        "b1": [member_with_account(world.B1) for _ in range(3)],
        "b2": [member_with_account(world.B2) for _ in range(2)],
        "c1": [member_with_account(world.C1)],
        "b3": [member_with_account(world.B3) for _ in range(2)],
    }
    MemberFactory(unit=world.B1, status=MemberStatus.STRUCK_OFF)
    MemberFactory(unit=world.B2, status=MemberStatus.GRADUATED)
    return r


# --- Launching ---------------------------------------------------------------------------------------------------


def test_launch_campaign_records_it(world):
    campaign = launch(world, instructions="Kiểm tra số điện thoại và địa chỉ.")
    assert (campaign.unit, campaign.starts_on, campaign.deadline, campaign.created_by) == (
        world.P,
        TODAY,
        datetime.date(2026, 3, 12),
        world.manager_P,
    )
    audit = AuditRecord.objects.get(action="members.campaign.launch")
    assert (audit.object_id, audit.unit, audit.after) == (
        str(campaign.pk),
        world.P,
        {"title": "Rà soát dữ liệu đoàn viên 2026", "starts_on": "2026-03-02", "deadline": "2026-03-12"},
    )


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"deadline": TODAY - datetime.timedelta(1)}, {"deadline": ["The deadline cannot be before the start."]}),
        (
            {"starts_on": TODAY - datetime.timedelta(5), "deadline": TODAY - datetime.timedelta(1)},
            {
                "starts_on": ["The start cannot be in the past."],
                "deadline": ["The deadline cannot be in the past."],
            },
        ),
        ({"title": "  "}, {"title": ["Give the campaign a title."]}),
    ],
)
def test_launch_campaign_refuses_bad_dates_and_writes_nothing(world, kwargs, error):
    audits = AuditRecord.objects.count()
    with pytest.raises(ValidationError) as exc:
        launch(world, **kwargs)
    assert exc.value.message_dict == error
    assert (DataCampaign.objects.count(), AuditRecord.objects.count()) == (0, audits)


def test_launch_campaign_only_in_the_actors_scope(world):
    for actor in (world.manager_C2, world.nobody):
        with pytest.raises(PermissionDenied):
            launch(world, unit=world.C1, actor=actor)
    assert DataCampaign.objects.count() == 0


def test_launch_page_previews_then_launches(client, login, world, registry):
    login(client, world.manager_C1)
    data = {"unit": "C1", "title": "Cập nhật quý I", "instructions": "", "starts_on": "02/03/2026"}
    response = client.post(reverse("members:campaign_create"), {**data, "deadline": "31/03/2026"})
    html = response.content.decode()
    assert "6 current members of Đoàn xã Hòa Vang and the units below it are asked to confirm their data." in html
    assert "From 02/03/2026 to 31/03/2026." in html
    assert DataCampaign.objects.count() == 0
    response = client.post(reverse("members:campaign_create"), {**data, "deadline": "01/03/2026", "confirm": "1"})
    assert "The deadline cannot be before the start." in response.content.decode()
    # A unit outside the manager's subtree reads as unknown.
    response = client.post(reverse("members:campaign_create"), {**data, "unit": "C2", "deadline": "31/03/2026"})
    assert "No unit with the code “C2” in your units." in response.content.decode()
    response = client.post(reverse("members:campaign_create"), {**data, "deadline": "31/03/2026", "confirm": "1"})
    campaign = DataCampaign.objects.get()
    assert response.url == reverse("members:campaign_detail", args=[campaign.pk])
    assert (campaign.unit, campaign.title, campaign.deadline) == (
        world.C1,
        "Cập nhật quý I",
        datetime.date(2026, 3, 31),
    )


# --- Confirming --------------------------------------------------------------------------------------------------


def test_confirm_data_is_idempotent(world, registry):
    campaign = launch(world)
    member = registry["b1"][0]
    confirmation, created = confirm_data(campaign, member, actor=member.user)
    assert created is True
    again, created = confirm_data(campaign, member, actor=member.user)
    assert (again.pk, created) == (confirmation.pk, False)
    assert DataConfirmation.objects.filter(campaign=campaign, member=member).count() == 1
    event = MemberEvent.objects.get(member=member)
    assert (event.kind, event.note, event.data) == (
        MemberEvent.Kind.CONFIRMED,
        "Rà soát dữ liệu đoàn viên 2026",
        {"campaign": campaign.pk},
    )
    assert AuditRecord.objects.filter(action="members.campaign.confirm").count() == 1


def test_confirm_data_only_during_the_campaign_and_in_its_subtree(world, registry):
    campaign = launch(world, unit=world.C1, actor=world.manager_C1, starts_on=TODAY + datetime.timedelta(1))
    member = registry["b1"][0]
    with pytest.raises(ValidationError) as exc:
        confirm_data(campaign, member, actor=member.user)
    assert exc.value.messages == ["The campaign runs from 03/03/2026 to 12/03/2026."]
    with freeze_time("2026-03-13 08:00:00+07:00"), pytest.raises(ValidationError):
        confirm_data(campaign, member, actor=member.user)
    with freeze_time("2026-03-12 23:30:00+07:00"):  # the deadline day counts, in Vietnamese time
        assert confirm_data(campaign, member, actor=member.user)[1] is True

    outsider = registry["b3"][0]
    with freeze_time("2026-03-05"), pytest.raises(ValidationError) as exc:
        confirm_data(campaign, outsider, actor=outsider.user)
    assert exc.value.messages == ["This campaign is not for your unit."]
    former = member_with_account(world.B1, status=MemberStatus.RESIGNED)
    with freeze_time("2026-03-05"), pytest.raises(ValidationError):
        confirm_data(campaign, former, actor=former.user)
    with freeze_time("2026-03-05"), pytest.raises(PermissionDenied):
        confirm_data(campaign, registry["b1"][1], actor=world.manager_C1)
    assert DataConfirmation.objects.count() == 1


def test_member_confirms_from_their_page_and_a_double_click_counts_once(client, world, registry):
    campaign = launch(world, instructions="Kiểm tra kỹ số điện thoại.")
    member = registry["b2"][0]
    client.force_login(member.user)
    home = client.get(reverse("members:my_home")).content.decode()
    assert "Rà soát dữ liệu đoàn viên 2026" in home and "Kiểm tra kỹ số điện thoại." in home
    url = reverse("members:confirm_data", args=[campaign.pk])
    assert f'action="{url}"' in home
    first = client.post(url, follow=True).content.decode()
    second = client.post(url, follow=True).content.decode()
    assert "Thank you: your data are confirmed." in first
    assert "You had already confirmed your data." in second
    assert "You confirmed your data on" in second and f'action="{url}"' not in second
    assert DataConfirmation.objects.filter(member=member).count() == 1
    # A campaign of another subtree is not there for this member.
    other = launch(world, unit=world.C2, actor=world.manager_C2, title="Phường Hải Châu")
    assert client.post(reverse("members:confirm_data", args=[other.pk])).status_code == 404


# --- Completion by unit ------------------------------------------------------------------------------------------


def confirm(campaign, *members):
    for m in members:
        confirm_data(campaign, m, actor=m.user)


def as_table(rows):
    return [(r.unit.code, r.direct, r.members, r.confirmed, r.rate) for r in rows]


def test_completion_by_child_counts_each_subtree_in_one_grouped_query(world, registry, django_assert_num_queries):
    campaign = launch(world)
    confirm(campaign, *registry["b1"][:2], *registry["c1"])
    # Confirmations of another campaign do not count in this one.
    other = launch(world, title="Đợt khác")
    confirm(other, *registry["b2"])

    with django_assert_num_queries(2):
        top = completion_by_child(campaign, world.P)
    assert sorted(as_table(top)) == [("C1", False, 6, 3, 50.0), ("C2", False, 2, 0, 0.0)]
    with django_assert_num_queries(2):
        c1 = completion_by_child(campaign, world.C1)
    assert sorted(as_table(c1)) == [("B1", False, 3, 2, 66.7), ("B2", False, 2, 0, 0.0), ("C1", True, 1, 1, 100.0)]
    # A branch: no units below, its own members in one row.
    assert as_table(completion_by_child(campaign, world.B1)) == [("B1", True, 3, 2, 66.7)]


def test_completion_follows_a_merge_without_rewriting_members(world, registry):
    from doanso.org import services as org_services

    campaign = launch(world)
    confirm(campaign, registry["b2"][0])
    org_services.merge_units([world.B2], actor=world.admin, into=world.B1, effective=TODAY)
    # B2's files now count in B1's subtree; under B1 the ended B2 shows while files still point at it.
    assert sorted(as_table(completion_by_child(campaign, world.C1))) == [
        ("B1", False, 5, 1, 20.0),
        ("C1", True, 1, 0, 0.0),
    ]
    world.B1.refresh_from_db()
    assert sorted(as_table(completion_by_child(campaign, world.B1))) == [
        ("B1", True, 3, 0, 0.0),
        ("B2", False, 2, 1, 50.0),
    ]


def test_a_unit_without_members_shows_with_no_rate_and_sorts_last(world, registry, make_unit):
    make_unit("B4", "Chi đoàn thôn 4", world.C1, actor=world.admin)
    campaign = launch(world)
    confirm(campaign, *registry["b1"][:2], registry["b2"][0])
    rows = completion_by_child(campaign, world.C1)
    assert [r.unit.code for r in sort_rows(rows, "-rate")] == ["B1", "B2", "C1", "B4"]
    assert [r.unit.code for r in sort_rows(rows, "rate")] == ["C1", "B2", "B1", "B4"]
    assert [r.unit.code for r in sort_rows(rows, "members")] == ["B4", "C1", "B2", "B1"]
    # Ties keep the name order, whichever the direction.
    assert [r.unit.code for r in sort_rows(rows, "-pending")] == ["B1", "B2", "C1", "B4"]
    # By name, Vietnamese order, with the "filed here" row last.
    assert [r.unit.code for r in sort_rows(rows, "name")] == ["B1", "B2", "B4", "C1"]
    assert next(r for r in rows if r.unit.code == "B4").rate is None


def test_completion_for_several_units_of_one_cadre(world, registry):
    campaign = launch(world)
    confirm(campaign, registry["b3"][0])
    assert as_table(completion_for_units(campaign, [world.B1, world.B3])) == [
        ("B1", False, 3, 0, 0.0),
        ("B3", False, 2, 1, 50.0),
    ]


def test_not_confirmed_lists_current_members_of_the_subtree_who_have_not(world, registry):
    campaign = launch(world)
    confirm(campaign, registry["b1"][0])
    expected = {m.pk for m in registry["b1"][1:] + registry["b2"] + registry["c1"]}
    assert set(not_confirmed(campaign, world.C1).values_list("pk", flat=True)) == expected


# --- The campaign pages ------------------------------------------------------------------------------------------


def rows_of(html: str) -> list[list[str]]:
    body = re.search(r'<table id="completion">.*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_campaign_page_drills_down_and_sorts(client, login, world, registry):
    campaign = launch(world)
    confirm(campaign, *registry["b1"][:2], *registry["c1"])
    login(client, world.manager_P)
    url = reverse("members:campaign_detail", args=[campaign.pk])
    html = client.get(url).content.decode()
    assert rows_of(html) == [
        ["Đoàn phường Hải Châu", "0,0 %", "2", "0", "2"],
        ["Đoàn xã Hòa Vang", "50,0 %", "6", "3", "3"],
    ]
    assert '<strong id="campaign-rate">37,5 %</strong>' in html
    assert f'href="?unit={world.C1.pk}&amp;sort=name"' in html

    html = client.get(url, {"unit": world.C1.pk, "sort": "-rate"}).content.decode()
    assert rows_of(html) == [
        ["Đoàn xã Hòa Vang (members filed here)", "100,0 %", "1", "1", "0"],
        ["Chi đoàn thôn 1", "66,7 %", "3", "2", "1"],
        ["Chi đoàn thôn 2", "0,0 %", "2", "0", "2"],
    ]
    assert f'aria-sort="descending"><a href="?unit={world.C1.pk}&amp;sort=rate">Rate ▼</a>' in html
    assert '<strong id="campaign-rate">50,0 %</strong>' in html
    assert "Who has not confirmed yet (3)" in html
    # The breadcrumbs lead back up to the campaign's own level.
    assert f'<li><a href="{url}">Rà soát dữ liệu đoàn viên 2026</a></li>' in html


def test_campaign_page_starts_at_the_cadres_own_unit_and_stays_in_scope(client, login, world, registry):
    campaign = launch(world)
    url = reverse("members:campaign_detail", args=[campaign.pk])
    login(client, world.manager_C1)
    html = client.get(url).content.decode()
    assert [r[0] for r in rows_of(html)] == [
        "Chi đoàn thôn 1",
        "Chi đoàn thôn 2",
        "Đoàn xã Hòa Vang (members filed here)",
    ]
    assert client.get(url, {"unit": world.C2.pk}).status_code == 404
    assert client.get(url, {"unit": world.P.pk}).status_code == 404
    assert client.get(url, {"unit": "x"}).status_code == 404
    # A campaign of the sibling commune does not exist for this cadre.
    sibling = launch(world, unit=world.C2, actor=world.manager_C2)
    assert client.get(reverse("members:campaign_detail", args=[sibling.pk])).status_code == 404
    listing = client.get(reverse("members:campaign_list")).content.decode()
    assert listing.count("Rà soát dữ liệu đoàn viên 2026") == 1

    # A cadre of two branches in different communes sees those two as the rows.
    two = UserFactory()
    RoleAssignmentFactory(user=two, role="unit_staff", unit=world.B1)
    RoleAssignmentFactory(user=two, role="unit_staff", unit=world.B3)
    login(client, two)
    html = client.get(url).content.decode()
    assert rows_of(html) == [["Chi đoàn thôn 1", "0,0 %", "3", "0", "3"], ["Chi đoàn tổ 5", "0,0 %", "2", "0", "2"]]


def test_campaign_page_query_count_does_not_grow_with_the_tree(
    client, login, world, registry, make_unit, django_assert_num_queries
):
    campaign = launch(world)
    confirm(campaign, registry["b1"][0])
    login(client, world.manager_P)
    url = reverse("members:campaign_detail", args=[campaign.pk])
    # Session, user, role assignments, campaign, drill-down unit, units of the breadcrumbs, the grouped counts,
    # the units of the rows.
    with django_assert_num_queries(9):
        assert client.get(url, {"unit": world.C1.pk}).status_code == 200
    for n in range(5):
        branch = make_unit(f"BX{n}", f"Chi đoàn mới {n}", world.C1, actor=world.admin, kind=UnitKind.BRANCH)
        for _ in range(3):
            confirm(campaign, member_with_account(branch))
    with django_assert_num_queries(9):
        html = client.get(url, {"unit": world.C1.pk}).content.decode()
    assert len(rows_of(html)) == 8


def test_not_confirmed_page_is_paginated_and_scoped(client, login, world, registry):
    campaign = launch(world)
    for _ in range(50):
        MemberFactory(unit=world.B2)
    confirm(campaign, *registry["b1"])
    login(client, world.manager_C1)
    url = reverse("members:campaign_not_confirmed", args=[campaign.pk])
    first = client.get(url).content.decode()
    assert "53 members" in first and "Page 1 of 2" in first
    assert len(re.findall(r"<tr><td>", first)) == 50
    second = client.get(url, {"page": 2}).content.decode()
    assert len(re.findall(r"<tr><td>", second)) == 3
    b1 = client.get(url, {"unit": world.B1.pk}).content.decode()
    assert "Every member has confirmed." in b1
    assert client.get(url, {"unit": world.B3.pk}).status_code == 404
