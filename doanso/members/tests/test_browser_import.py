"""An import with column mapping in a real Chromium: a spreadsheet as cadres have them (a title block above the
header), the guessed mapping corrected by hand, the dry run, then the import."""

import pytest
from playwright.sync_api import expect

from doanso.members.models import Member

from .import_files import HEADER, people, write_xlsx

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_import_with_column_mapping(browse, world, tmp_path):
    rows = people(3)
    rows[1][HEADER.index("Ngày sinh")] = "31/02/2003"  # a date that does not exist: rejected at its cell
    path = write_xlsx(tmp_path / "danh-sach.xlsx", [HEADER, *rows], title=[["DANH SÁCH ĐOÀN VIÊN CHI ĐOÀN"], []])
    page = browse(world.manager_C1, "/doan-vien/nhap/")
    page.set_input_files("input[name=file]", str(path))
    page.locator("input[name=unit]").fill("Đoàn xã Hòa Vang — C1")
    page.locator("main form button[type=submit]").first.click()

    # The mapping screen guessed every column from its Vietnamese header; the phone column is left out by hand.
    phone = page.get_by_label("Số điện thoại", exact=True)
    expect(phone).to_have_value("phone")
    expect(page.get_by_label("Ngày sinh", exact=True)).to_have_value("date_of_birth")
    phone.select_option("")
    page.locator("main form[method=post] button[type=submit]").click()

    # The dry run lists the bad row with its row number (the header sits in row 3 under the title).
    problems = page.locator("main table").last
    expect(problems).to_contain_text("31/02/2003")
    expect(problems.locator("tbody tr").first.locator("td").first).to_have_text("5")  # spreadsheet row 5
    assert Member.objects.count() == 0
    page.locator("button[name=only_valid]").click()
    expect(page.locator("main")).to_contain_text("2")
    imported = Member.objects.filter(unit=world.B1).order_by("sort_name")
    assert [m.given_name for m in imported] == ["Bình", "Dũng"]
    assert all(m.phone == "" for m in imported)  # the column was left out of the mapping
