"""The public pages in a real Chromium: a site page on a phone without JavaScript and its weight on the wire, the
map with clustering, filters and tiles that cannot load."""

import pytest
from playwright.sync_api import expect

from .. import services
from .support import make_marker, make_site

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

PAGE_BUDGET = 100 * 1024


@pytest.fixture
def published(world):
    site = make_site(world, video_url="https://www.youtube.com/watch?v=abc", name_en="Kỳ Anh tunnels")
    services.update_site(
        site, actor=world.manager_P, history="<h2>Năm 1965</h2><p>" + "Địa đạo được đào bằng tay. " * 40 + "</p>"
    )
    return site


def test_site_page_reads_without_javascript_on_a_phone(browser, live_server, published):
    context = browser.new_context(viewport={"width": 360, "height": 740}, java_script_enabled=False, locale="vi-VN")
    page = context.new_page()
    page.goto(f"{live_server.url}/q/{published.code}")
    expect(page.locator("h1")).to_have_text("Địa đạo Kỳ Anh")
    expect(page.locator(".history h2").nth(1)).to_have_text("Năm 1965")
    expect(page.locator("a[href^='https://www.google.com/maps/dir/']")).to_be_visible()
    expect(page.locator("a[href='https://www.youtube.com/watch?v=abc']")).to_be_visible()
    # Nothing wider than the phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.click("text=English")
    expect(page.locator("h1")).to_have_text("Kỳ Anh tunnels")
    context.close()


def test_site_page_without_photos_weighs_at_most_100_kb_on_the_wire(browser, live_server, published):
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    sizes: dict[str, int] = {}
    urls: dict[str, str] = {}
    cdp.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))
    cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
    page.goto(f"{live_server.url}/q/{published.code}", wait_until="networkidle")
    loaded = {urls[r]: n for r, n in sizes.items() if r in urls}
    total = sum(loaded.values())
    assert f"{live_server.url}/q/{published.code}" in loaded
    assert any(u.endswith("sites/public.css") for u in loaded)
    print(f"public site page without photos: {total} bytes transferred ({len(loaded)} requests)")
    assert 0 < total <= PAGE_BUDGET, loaded
    context.close()


def test_map_clusters_filters_and_survives_tiles_that_cannot_load(page, live_server, world, settings):
    # Port 9 (discard) refuses connections: every tile fails, as offline in the mountains.
    settings.DOANSO_SITES = {**settings.DOANSO_SITES, "tile_url": "http://127.0.0.1:9/{z}/{x}/{y}.png"}
    make_site(world)
    make_site(world, name="Tượng đài", kind="memorial", latitude="16.05", longitude="108.2")
    markers = {
        number: make_marker(world, number, latitude=f"{15.4 + number / 1000:.6f}", longitude="107.400000")
        for number in range(676, 700)
    }
    focus = markers[690]
    make_site(world, publish=False, name="Nháp")
    page.set_default_timeout(15000)
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{live_server.url}/dia-diem/ban-do/")
    box = page.locator("#map")
    expect(box).to_have_attribute("data-ready", "1")
    expect(box).to_have_attribute("data-count", "26")
    # 24 markers close together make clusters; the note says why the background is empty.
    expect(page.locator(".marker-cluster").first).to_be_visible()
    expect(page.locator("#map-note")).to_be_visible()
    expect(page.locator("#site-list li")).to_have_count(26)
    # "On the map" from a site page: the map opens the cluster holding the marker and shows its popup.
    page.goto(f"{live_server.url}/dia-diem/ban-do/?site={focus.code}")
    expect(page.locator(".leaflet-popup-content")).to_contain_text("Cột mốc 690")
    expect(page.locator(".leaflet-popup-content a")).to_have_attribute("href", f"/dia-diem/{focus.code}/")
    # Filter by kind: the page reloads with only the memorial, on the map and in the list.
    page.select_option("select[name=kind]", "memorial")
    page.click("form.filters button")
    expect(box).to_have_attribute("data-count", "1")
    expect(page.locator("#site-list li")).to_have_count(1)
    expect(page.locator("#site-list")).to_contain_text("Tượng đài")
