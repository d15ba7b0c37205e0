"""A transfer between two communes in a real Chromium: sent by the manager of C1, received by the manager of C2.

Elements are found by their names and addresses, not their wording: the wording is translated."""

import datetime

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect

from doanso.members.models import MemberEvent, MemberStatus, Transfer

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
        page.context.clear_cookies()
        page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
        page.goto(live_server.url + path)
        return page

    return open_as


def preview_then_confirm(page: Page):
    page.locator("form[data-once] button[type=submit]:not([name=confirm])").click()
    expect(page.locator("section.preview")).to_be_visible()
    page.locator("button[name=confirm]").click()


def test_a_transfer_sent_by_one_commune_and_received_by_another(browse, live_server, world):
    member = MemberFactory(unit=world.B1, joined_on=datetime.date(2020, 3, 26))
    page = browse(world.manager_C1, f"/doan-vien/{member.pk}/")
    page.locator(f'a[href="/doan-vien/{member.pk}/chuyen-sinh-hoat/"]').click()
    expect(page).to_have_url(f"{live_server.url}/doan-vien/{member.pk}/chuyen-sinh-hoat/")

    # The receiving branch is outside the sender's subtree: the picker still suggests it, typed without accents.
    box = page.locator("input[name=to_unit]")
    box.fill("to 5")
    expect(page.locator('#unit-options option[value="Chi đoàn tổ 5 — B3"]')).to_have_count(1)
    box.fill("Chi đoàn tổ 5 — B3")
    page.locator("textarea[name=assessment]").fill("Hoàn thành tốt nhiệm vụ")
    page.locator("form[data-once] button[type=submit]:not([name=confirm])").click()
    expect(page.locator("section.preview li").first).to_contain_text("Chi đoàn tổ 5")
    assert Transfer.objects.count() == 0  # a preview writes nothing
    page.locator("button[name=confirm]").click()
    expect(page).to_have_url(f"{live_server.url}/doan-vien/{member.pk}/")
    expect(page.locator(".messages")).to_be_visible()
    transfer = Transfer.objects.get()
    member.refresh_from_db()
    assert (member.unit_id, member.status) == (world.B1.pk, MemberStatus.TRANSFERRING)

    page = browse(world.manager_C2, "/doan-vien/chuyen-sinh-hoat/")
    row = page.locator(f'tr[data-transfer="{transfer.pk}"]')
    expect(row).to_contain_text(member.full_name)
    row.locator(f'a[href="/doan-vien/chuyen-sinh-hoat/{transfer.pk}/tiep-nhan/"]').click()
    expect(page.locator("input[name=place_in]")).to_have_value("Chi đoàn tổ 5 — B3")
    preview_then_confirm(page)
    expect(page).to_have_url(f"{live_server.url}/doan-vien/{member.pk}/")
    expect(page.locator(".messages")).to_be_visible()
    # The receiving commune now holds the file and sees the whole move on the member's timeline.
    expect(page.locator(".timeline li")).to_have_count(2)

    member.refresh_from_db()
    transfer.refresh_from_db()
    assert (member.unit_id, member.status) == (world.B3.pk, MemberStatus.ACTIVE)
    assert (transfer.status, transfer.received_by_id) == (Transfer.Status.RECEIVED, world.manager_C2.pk)
    assert list(MemberEvent.objects.filter(member=member).order_by("id").values_list("kind", flat=True)) == [
        "transfer_sent",
        "transfer_received",
    ]
