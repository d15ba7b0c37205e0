"""Finding a member in a real Chromium: typing a name without accents updates the list as one types."""

import datetime

import pytest
from playwright.sync_api import expect

from .factories import MemberFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_search_as_you_type_without_accents(browse, world):
    MemberFactory(
        unit=world.B1,
        family_name="Nguyễn",
        middle_name="Thị",
        given_name="Ánh Tuyết",
        citizen_id="048303001234",
        date_of_birth=datetime.date(2003, 5, 1),
        sex="female",
    )
    MemberFactory(unit=world.B2, family_name="Trần", middle_name="Văn", given_name="Bình")
    MemberFactory(unit=world.B3, family_name="Nguyễn", middle_name="Thị", given_name="Tuyết")  # another commune
    page = browse(world.manager_C1, "/doan-vien/")
    rows = page.locator("#member-rows tbody tr")
    expect(rows).to_have_count(2)
    page.locator("#id_q").fill("anh tuyet")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Nguyễn Thị Ánh Tuyết")
    expect(rows.first).to_contain_text("048*******34")  # masked in lists
    assert "q=anh%20tuyet" in page.url  # the address can be bookmarked or shared
    # The member of the sibling commune never appears for this cadre.
    page.locator("#id_q").fill("tuyet")
    expect(rows).to_have_count(1)
    page.get_by_role("link", name="Nguyễn Thị Ánh Tuyết").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nguyễn Thị Ánh Tuyết")
