"""Public pages: the site page (cached, counted when reached by QR), list and search, GeoJSON, the map page."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from .. import scans, services
from ..models import ScanCount
from .support import LAT, LON, jpeg, make_marker, make_site

pytestmark = pytest.mark.django_db


def test_site_page_reads_without_javascript_and_images_are_lazy(client, world):
    site = make_site(world, video_url="https://youtu.be/abc", name_en="Kỳ Anh tunnels")
    services.update_site(site, actor=world.manager_P, history="<h2>1965</h2><p>Địa đạo dài 2 km.</p>")
    services.add_photo(site, jpeg(), actor=world.manager_P, alt="Cửa hầm")
    services.add_photo(site, jpeg(colour=(0, 90, 0)), actor=world.manager_P, alt="Lối đi")
    response = client.get(reverse("sites:public_site", args=[site.code]), {"hl": "vi"})
    html = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=300"
    assert "<h1>Địa đạo Kỳ Anh</h1>" in html
    assert "<h2>1965</h2><p>Địa đạo dài 2 km.</p>" in html
    assert html.count('loading="lazy"') == 2
    assert 'alt="Cửa hầm"' in html and 'alt="Lối đi"' in html
    assert 'href="https://youtu.be/abc"' in html
    assert f"https://www.google.com/maps/dir/?api=1&amp;destination={LAT},{LON}" in html
    assert f"http://testserver/q/{site.code}" in html  # share link = the QR's short URL
    assert f'href="geo:{LAT},{LON}"' in html  # a decimal point, never the Vietnamese decimal comma
    assert "csrfmiddlewaretoken" not in html and "htmx" not in html and "pico" not in html
    english = client.get(reverse("sites:public_site", args=[site.code]), {"hl": "en"}).content.decode()
    assert "<h1>Kỳ Anh tunnels</h1>" in english and "Directions" in english


def test_drafts_are_not_public(client, world):
    site = make_site(world, publish=False)
    assert client.get(reverse("sites:public_site", args=[site.code])).status_code == 404
    assert client.get(reverse("qr:scan", args=[site.code])).status_code == 404
    assert client.get(reverse("sites:qr_image", args=[site.code, "png"])).status_code == 404


def test_cached_page_needs_no_query_and_an_edit_shows_at_once(client, world, django_capture_on_commit_callbacks):
    site = make_site(world)
    url = reverse("qr:scan", args=[site.code])
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200 and len(queries) == 0
    with django_capture_on_commit_callbacks(execute=True):
        services.update_site(site, actor=world.manager_P, name="Địa đạo Kỳ Anh — Tam Kỳ")
    assert "Địa đạo Kỳ Anh — Tam Kỳ" in client.get(url).content.decode()


def test_scans_are_counted_per_site_and_day_without_personal_data(client, world, today):
    site = make_site(world)
    other = make_site(world, name="Nhà lưu niệm")
    for _ in range(3):
        client.get(reverse("qr:scan", args=[site.code]), REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="Zalo")
    client.get(reverse("qr:scan", args=[other.code.lower()]))
    client.get(reverse("sites:public_site", args=[site.code]))  # a visit from the list is not a scan
    assert scans.flush() == 4
    rows = sorted(ScanCount.objects.values_list("site_id", "day", "count"))
    assert rows == sorted([(site.pk, today, 3), (other.pk, today, 1)])
    assert {f.name for f in ScanCount._meta.get_fields()} == {"id", "site", "day", "count"}
    client.get(reverse("qr:scan", args=[site.code]))
    scans.flush()
    assert ScanCount.objects.get(site=site).count == 4


def test_list_search_ignores_diacritics_and_filters(client, world):
    make_site(world, name="Địa đạo Kỳ Anh")
    make_site(world, name="Tượng đài Mẹ Thứ", kind="memorial")
    make_marker(world, 679)
    make_site(world, publish=False, name="Địa điểm nháp")
    page = client.get(reverse("sites:public_list"), {"q": "dia dao ky anh"}).content.decode()
    assert "Địa đạo Kỳ Anh" in page and "Tượng đài" not in page
    page = client.get(reverse("sites:public_list"), {"kind": "memorial"}).content.decode()
    assert "Tượng đài Mẹ Thứ" in page and "Kỳ Anh" not in page
    page = client.get(reverse("sites:public_list"), {"q": "679"}).content.decode()
    assert "Cột mốc 679" in page
    assert "nháp" not in client.get(reverse("sites:public_list")).content.decode()


def test_list_query_count_does_not_grow(client, world, django_assert_max_num_queries):
    for i in range(3):
        make_site(world, name=f"Di tích {i}")
    with django_assert_max_num_queries(4):
        client.get(reverse("sites:public_list"))
    for i in range(3, 12):
        make_marker(world, 700 + i)
    with django_assert_max_num_queries(4):
        client.get(reverse("sites:public_list"))


def test_geojson_lists_published_sites_with_coordinates(client, world):
    site = make_site(world)
    marker = make_marker(world, 690)
    make_site(world, publish=False, name="Nháp")
    make_site(world, name="Không toạ độ", latitude=None, longitude=None)
    response = client.get(reverse("sites:geojson"))
    assert response["Content-Type"] == "application/geo+json; charset=utf-8"
    data = json.loads(response.content)
    assert data["type"] == "FeatureCollection"
    by_code = {f["properties"]["code"]: f for f in data["features"]}
    assert set(by_code) == {site.code, marker.code}
    assert by_code[site.code]["geometry"] == {"type": "Point", "coordinates": [108.334567, 15.876543]}
    assert by_code[marker.code]["properties"]["marker"] == "690"
    assert by_code[site.code]["properties"]["url"] == f"/dia-diem/{site.code}/"
    only_markers = json.loads(client.get(reverse("sites:geojson"), {"kind": "border_marker"}).content)
    assert [f["properties"]["code"] for f in only_markers["features"]] == [marker.code]


def test_geojson_made_up_filters_share_the_unfiltered_cache_entry(client, world):
    from django.core.cache import cache

    make_site(world)
    cache.clear()
    for kind in ("x1", "x2", "<script>", "border_marker"):
        assert client.get(reverse("sites:geojson"), {"kind": kind, "commune": "abc"}).status_code == 200
    # Two entries at most: everything (for the made-up filters) and the markers; nothing per made-up value.
    keys = [k for k in cache._cache if "sites:geojson" in k]  # the tests' local-memory cache
    assert len(keys) == 2


def test_map_page_lists_sites_and_allows_only_the_tile_server_for_images(client, world, settings):
    settings.DOANSO_SITES = {**settings.DOANSO_SITES, "tile_url": "https://tiles.example.vn/{z}/{x}/{y}.png"}
    make_site(world)
    response = client.get(reverse("sites:map"))
    html = response.content.decode()
    assert "Địa đạo Kỳ Anh" in html  # the list is the page's content without JavaScript
    assert 'data-tiles="https://tiles.example.vn/{z}/{x}/{y}.png"' in html
    assert "img-src 'self' data: https://tiles.example.vn" in response["Content-Security-Policy"]
    other = client.get(reverse("sites:public_list"))
    assert "tiles.example.vn" not in other["Content-Security-Policy"]


def test_a_chosen_language_follows_the_visitor_through_list_map_and_pages(client, world):
    site = make_site(world, name_en="Kỳ Anh tunnels")
    listing = client.get(reverse("sites:public_list"), {"q": "ky anh", "hl": "en"}).content.decode()
    assert "Red addresses, relics and border markers" in listing
    assert f'href="{reverse("sites:public_site", args=[site.code])}?hl=en"' in listing
    assert f'href="{reverse("sites:map")}?hl=en"' in listing
    assert '<input type="hidden" name="hl" value="en">' in listing  # the filters keep it
    # The switch keeps the search.
    assert 'href="?q=ky+anh&amp;hl=vi" lang="vi" hreflang="vi">Tiếng Việt</a>' in listing
    vietnamese = client.get(reverse("sites:public_list"), {"q": "ky anh", "hl": "vi"}).content.decode()
    assert "<h1>Địa chỉ đỏ, di tích và cột mốc biên giới</h1>" in vietnamese
    assert 'hreflang="en">English</a>' in vietnamese
    on_map = client.get(reverse("sites:map"), {"hl": "en"}).content.decode()
    assert "Map of sites" in on_map and f"{reverse('sites:public_list')}?hl=en" in on_map
    page = client.get(reverse("sites:public_site", args=[site.code]), {"hl": "en"}).content.decode()
    assert f'href="{reverse("sites:map")}?hl=en"' in page
    # An unknown language is ignored, not echoed into the links.
    odd = client.get(reverse("sites:public_list"), {"hl": "<x>"}).content.decode()
    assert "&lt;x&gt;" not in odd and "hl=<x>" not in odd
