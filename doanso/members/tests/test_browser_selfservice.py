"""A data-update campaign in a real Chromium: a member confirms their data on a phone (a double click counts
once) and the cadre's completion page shows the rate change."""

import datetime

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from doanso.accounts.tests.factories import UserFactory
from doanso.members.models import DataConfirmation
from doanso.members.services.selfservice import launch_campaign

from .factories import MemberFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


@pytest.fixture
def browse(page: Page, live_server):
    """``browse(user, path)`` opens a page of the live server as ``user`` (session made without the login form,
    which accounts tests)."""
    page.set_default_timeout(10000)

    def open_as(user, path: str) -> Page:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
        page.goto(live_server.url + path)
        return page

    return open_as


def test_member_confirms_and_the_cadre_sees_the_rate_change(browse, world):
    member = MemberFactory(unit=world.B1, family_name="Lê", middle_name="Thị", given_name="Hoa", user=UserFactory())
    MemberFactory(unit=world.B1)
    today = timezone.localdate()
    campaign = launch_campaign(
        actor=world.manager_C1,
        unit=world.C1,
        title="Rà soát dữ liệu quý I",
        starts_on=today,
        deadline=today + datetime.timedelta(days=7),
    )
    detail = reverse("members:campaign_detail", args=[campaign.pk]) + f"?unit={world.C1.pk}"

    page = browse(world.manager_C1, detail)
    expect(page.locator("#campaign-rate")).to_have_text("0,0 %")
    expect(page.locator("#completion tbody tr").first.locator("td")).to_have_text(
        ["Chi đoàn thôn 1", "0,0 %", "2", "0", "2"]
    )

    # The member, on a phone.
    page.set_viewport_size({"width": 360, "height": 740})
    browse(member.user, reverse("members:my_home"))
    expect(page.get_by_role("heading", name="Rà soát dữ liệu quý I")).to_be_visible()
    confirm = page.locator(f'form[action="{reverse("members:confirm_data", args=[campaign.pk])}"] button')
    confirm.dblclick()
    expect(page.locator(".message-success")).to_be_visible()
    expect(confirm).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert DataConfirmation.objects.filter(campaign=campaign).count() == 1

    page.set_viewport_size({"width": 1280, "height": 800})
    browse(world.manager_C1, detail)
    expect(page.locator("#campaign-rate")).to_have_text("50,0 %")
    expect(page.locator("#completion tbody tr").first.locator("td")).to_have_text(
        ["Chi đoàn thôn 1", "50,0 %", "2", "1", "1"]
    )
    # The one left is on the list of who has not confirmed yet.
    page.locator("#completion tbody tr").first.get_by_role("link", name="1", exact=True).click()
    expect(page.locator("table tbody tr")).to_have_count(1)
    expect(page.locator("table tbody tr td").first).not_to_have_text("Lê Thị Hoa")
