"""The unit tree and its forms, driven through a real Chromium: what a cadre sees and what ends up stored."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from doanso.core.models import AuditRecord
from doanso.org.models import Unit, UnitVersion

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def today() -> str:
    return timezone.localdate().strftime("%d/%m/%Y")


def slow_network(page: Page, latency_ms: int = 600):
    """Make every request of ``page`` take a while, as on a weak mobile connection."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": latency_ms, "downloadThroughput": -1, "uploadThroughput": -1},
    )


def pick_unit(page: Page, field: str, typed: str, option: str):
    """Type part of a name without accents, wait for the picker's suggestion, then choose it."""
    box = page.locator(f"input[name={field}]")
    box.fill(typed)
    expect(page.locator(f'#unit-options option[value="{option}"]')).to_have_count(1)
    box.fill(option)  # what choosing an entry of the datalist puts in the box


def test_tree_expands_collapses_and_finds_a_unit_without_accents(browse, live_server, world):
    page = browse(world.manager_P, "/don-vi/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Đơn vị")
    tree = page.locator("#unit-tree")
    # The root's children are on the page; the communes' own children are not loaded yet.
    expect(tree.get_by_role("link", name="Đoàn xã Hòa Vang")).to_be_visible()
    expect(tree.get_by_role("link", name="Chi đoàn thôn 1")).to_have_count(0)

    toggle = page.get_by_role("button", name="Hiện các đơn vị trực thuộc Đoàn xã Hòa Vang")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_have_text("+")
    with page.expect_response(re.compile(rf"/don-vi/{world.C1.pk}/cay/$")):
        toggle.click()
    children = page.locator(f"#children-{world.C1.pk}")
    expect(children.get_by_role("link")).to_have_text(["Chi đoàn thôn 1", "Chi đoàn thôn 2"])
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(toggle).to_have_text("−")

    toggle.click()  # collapse: hidden again, without asking the server a second time
    expect(children).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(children.get_by_role("link")).to_have_text(["Chi đoàn thôn 1", "Chi đoàn thôn 2"])
    expect(children.locator("li")).to_have_count(2)  # not loaded twice

    page.get_by_label("Tìm đơn vị (không cần gõ dấu)").press_sequentially("hoa vang")
    results = page.locator("#unit-search-results")
    expect(results.get_by_role("heading")).to_have_text("Đơn vị khớp với “hoa vang”")
    expect(results.get_by_role("listitem")).to_have_count(1)
    expect(results.get_by_role("link")).to_have_text("Đoàn xã Hòa Vang")
    expect(page).to_have_url(re.compile(r"/don-vi/\?q=hoa(\+|%20)vang$"))

    results.get_by_role("link", name="Đoàn xã Hòa Vang").click()
    expect(page).to_have_url(f"{live_server.url}/don-vi/{world.C1.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Đoàn xã Hòa Vang")
    page.get_by_role("link", name="Chi đoàn thôn 1").click()
    crumbs = page.get_by_role("navigation", name="Đường dẫn").get_by_role("listitem")
    expect(crumbs).to_have_text(["Đơn vị", "Thành đoàn Thử nghiệm", "Đoàn xã Hòa Vang", "Chi đoàn thôn 1"])
    expect(crumbs.last).to_have_attribute("aria-current", "page")


def test_move_through_the_form_with_preview(browse, live_server, world):
    page = browse(world.manager_P, f"/don-vi/{world.B1.pk}/")
    page.get_by_role("button", name="Điều chuyển").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Điều chuyển Chi đoàn thôn 1")
    pick_unit(page, "new_parent", "hai chau", "Đoàn phường Hải Châu — C2")
    expect(page.get_by_label("Ngày hiệu lực")).to_have_value(today())
    page.get_by_label("Quyết định hoặc ghi chú").fill("QĐ 12/QĐ-TĐ")
    page.get_by_role("button", name="Xem trước").click()

    preview = page.locator("section.preview")
    expect(preview.get_by_role("heading")).to_have_text("Những gì sẽ thay đổi")
    expect(preview).to_contain_text("Chi đoàn thôn 1 chuyển từ Đoàn xã Hòa Vang sang Đoàn phường Hải Châu.")
    assert Unit.objects.get(pk=world.B1.pk).parent_id == world.C1.pk  # a preview writes nothing

    # On a slow connection a second click on "confirm", while the first is still on its way, sends nothing more:
    # one move, no error page.
    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    slow_network(page)
    page.get_by_role("button", name="Xác nhận điều chuyển").evaluate(
        "button => { button.click(); setTimeout(() => button.click(), 250); }"
    )
    expect(page).to_have_url(re.compile(rf"/don-vi/{world.B1.pk}/$"))
    expect(page.locator(".messages")).to_have_text("Chi đoàn thôn 1 nay trực thuộc Đoàn phường Hải Châu.")
    expect(page.locator(".errorlist")).to_have_count(0)
    crumbs = page.get_by_role("navigation", name="Đường dẫn").get_by_role("listitem")
    expect(crumbs).to_have_text(["Đơn vị", "Thành đoàn Thử nghiệm", "Đoàn phường Hải Châu", "Chi đoàn thôn 1"])

    assert len(posts) == 1
    b1 = Unit.objects.get(pk=world.B1.pk)
    assert b1.parent_id == world.C2.pk
    assert b1.path == f"{world.C2.path}{b1.pk}/"
    moves = UnitVersion.objects.filter(unit=b1, change=UnitVersion.Change.MOVED)
    assert [(v.valid_from, v.note, v.related_unit_id) for v in moves] == [
        (timezone.localdate(), "QĐ 12/QĐ-TĐ", world.C2.pk)
    ]
    assert AuditRecord.objects.filter(action="org.unit.move").count() == 1

    page.goto(f"{live_server.url}/don-vi/{world.C2.pk}/")
    expect(page.locator("table").last.get_by_role("link")).to_have_text(["Chi đoàn thôn 1", "Chi đoàn tổ 5"])


def test_move_by_typing_name_and_code(browse, world):
    page = browse(world.manager_P, f"/don-vi/{world.C2.pk}/chuyen/")
    page.get_by_label("Đơn vị cấp trên mới").fill("Đoàn xã Hòa Vang — c1")  # the code in any case
    page.get_by_role("button", name="Xem trước").click()
    expect(page.locator("section.preview")).to_contain_text("1 đơn vị cấp dưới sẽ chuyển theo.")
    page.get_by_role("button", name="Xác nhận điều chuyển").click()
    expect(page.locator(".messages")).to_have_text("Đoàn phường Hải Châu nay trực thuộc Đoàn xã Hòa Vang.")
    assert Unit.objects.get(pk=world.C2.pk).parent_id == world.C1.pk
    assert Unit.objects.get(pk=world.B3.pk).path.startswith(Unit.objects.get(pk=world.C2.pk).path)


def test_merge_through_the_form_with_preview(browse, live_server, world):
    page = browse(world.manager_P, f"/don-vi/{world.B2.pk}/")
    page.get_by_role("button", name="Sáp nhập", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sáp nhập Chi đoàn thôn 2")
    expect(page.get_by_label("đơn vị đã có")).to_be_checked()
    pick_unit(page, "into", "thon 1", "Chi đoàn thôn 1 — B1")
    page.get_by_role("button", name="Xem trước").click()

    preview = page.locator("section.preview")
    expect(preview).to_contain_text("Sáp nhập vào Chi đoàn thôn 1.")
    expect(preview.locator("strong")).to_have_text(["Chi đoàn thôn 2"])
    assert Unit.objects.get(pk=world.B2.pk).active_to is None

    page.get_by_role("button", name="Xác nhận sáp nhập").click()
    expect(page).to_have_url(re.compile(rf"/don-vi/{world.B1.pk}/$"))
    expect(page.locator(".messages")).to_have_text("Đã sáp nhập các đơn vị vào Chi đoàn thôn 1.")

    b2 = Unit.objects.get(pk=world.B2.pk)
    assert (b2.active_to, b2.successor_id, b2.parent_id) == (timezone.localdate(), world.B1.pk, world.B1.pk)
    assert list(Unit.objects.filter(parent=world.C1, active_to__isnull=True)) == [world.B1]

    page.goto(f"{live_server.url}/don-vi/{world.B2.pk}/")
    expect(page.locator(".badge-ended")).to_have_text(f"Ngừng hoạt động ngày {today()}")
    expect(page.get_by_text("Đã sáp nhập vào")).to_have_text("Đã sáp nhập vào Chi đoàn thôn 1.")
    expect(page.get_by_role("button", name="Điều chuyển")).to_have_count(0)  # an ended unit offers no changes


def test_phone_width_tree_fits_and_menu_opens(page, browse, world):
    page.set_viewport_size({"width": 360, "height": 740})
    browse(world.manager_P, "/don-vi/")
    page.get_by_role("button", name="Hiện các đơn vị trực thuộc Đoàn xã Hòa Vang").click()
    expect(page.get_by_role("link", name="Chi đoàn thôn 2")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    nav = page.get_by_role("navigation", name="Điều hướng chính")
    units_link = nav.get_by_role("link", name="Đơn vị", exact=True)
    expect(units_link).to_be_hidden()
    menu_button = nav.locator("summary")
    expect(menu_button).to_have_text("☰ Menu")
    menu_button.click()
    expect(units_link).to_be_visible()
    expect(nav.get_by_role("button", name="Đăng xuất")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.keyboard.press("Escape")  # closes the menu and gives the focus back to its button
    expect(units_link).to_be_hidden()
    expect(menu_button).to_be_focused()
    menu_button.click()
    nav.get_by_role("link", name="Tổng quan").click()
    expect(page).to_have_url(re.compile(r"/tong-quan/$"))
