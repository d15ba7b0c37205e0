"""The editors' pages: create, edit, upload, review, adopt and log — what the form shows and what is stored."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from .. import services
from ..models import Activity, Photo, Site, SiteStatus
from .support import commune, jpeg, make_marker, make_site

pytestmark = pytest.mark.django_db


def test_create_edit_submit_review_publish_through_the_pages(client, login, world):
    division = commune()
    login(client, world.staff_C1)
    response = client.post(
        reverse("sites:site_create"),
        {
            "kind": "relic",
            "rank": "provincial",
            "name": "Nhà lưu niệm",
            "summary": "Tóm tắt",
            "division": f"{division} — {division.code}",
            "latitude": "16,05",  # a decimal comma, as typed on a Vietnamese keyboard
            "longitude": "108.2",
            "unit": "Đoàn xã Hòa Vang — C1",
        },
    )
    site = Site.objects.get()
    assert response.status_code == 302 and response.url == reverse("sites:site_detail", args=[site.pk])
    assert (site.rank, site.division, str(site.latitude)) == ("provincial", division, "16.050000")
    page = client.get(reverse("sites:site_edit", args=[site.pk])).content.decode()
    assert 'value="Nhà lưu niệm"' in page and "Đoàn xã Hòa Vang — C1" in page
    client.post(reverse("sites:site_submit", args=[site.pk]))
    site.refresh_from_db()
    assert site.status == SiteStatus.SUBMITTED
    login(client, world.manager_C1)
    client.post(reverse("sites:site_review", args=[site.pk]), {"decision": "publish", "note": ""})
    site.refresh_from_db()
    assert (site.status, site.reviewer) == (SiteStatus.PUBLISHED, world.manager_C1)
    detail = client.get(reverse("sites:site_detail", args=[site.pk])).content.decode()
    assert reverse("sites:board", args=[site.pk, "a4"]) in detail


def test_swapped_coordinates_are_shown_at_the_field_and_nothing_is_saved(client, login, world):
    login(client, world.manager_C1)
    response = client.post(
        reverse("sites:site_create"),
        {"kind": "memorial", "name": "Tượng đài", "latitude": "108.2", "longitude": "16.05", "unit": "C1"},
    )
    assert response.status_code == 200
    assert "seem swapped" in response.context["form"].errors["latitude"][0]
    assert Site.objects.count() == 0


def test_a_fake_photo_comes_back_with_the_message_and_nothing_is_saved(client, login, world):
    site = make_site(world, publish=False)
    login(client, world.manager_C1)
    fake = SimpleUploadedFile("anh.jpg", b"<?php echo 1; ?>", content_type="image/jpeg")
    response = client.post(reverse("sites:photo_add", args=[site.pk]), {"image": fake, "alt": "Ảnh"})
    assert response.status_code == 400
    assert "is not an image that can be read" in response.content.decode()
    assert Photo.objects.count() == 0
    response = client.post(reverse("sites:photo_add", args=[site.pk]), {"image": jpeg(), "alt": "Cổng"})
    assert response.status_code == 302 and Photo.objects.count() == 1


def test_a_unit_adopts_and_logs_an_activity_with_photos(client, login, world, today):
    site = make_marker(world, 678)
    login(client, world.manager_C1)
    response = client.post(
        reverse("sites:adopt", args=[site.pk]),
        {"unit": "B1", "since": (today - datetime.timedelta(days=3)).strftime("%d/%m/%Y"), "note": ""},
    )
    adoption = site.adoptions.get()
    assert response.url == reverse("sites:adoption_detail", args=[adoption.pk])
    response = client.post(
        reverse("sites:activity_add", args=[adoption.pk]),
        {
            "date": today.strftime("%d/%m/%Y"),
            "kind": "patrol",
            "participants": "12",
            "description": "Tuần tra",
            "photos": [jpeg(name="a.jpg"), jpeg(name="b.jpg", colour=(0, 0, 200))],
        },
    )
    assert response.status_code == 302
    activity = Activity.objects.get()
    assert (activity.participants, activity.photos.count(), activity.created_by) == (12, 2, world.manager_C1)
    # A unit outside the user's scope cannot be named as the adopter.
    other = make_site(world, name="Khác")
    response = client.post(reverse("sites:adopt", args=[other.pk]), {"unit": "B3", "since": today.strftime("%d/%m/%Y")})
    assert response.status_code == 400 and not other.adoptions.exists()


def test_editor_list_searches_without_diacritics_and_markers_list_in_number_order(
    client, login, world, django_assert_max_num_queries
):
    for number in (702, 677, 690):
        make_marker(world, number, publish=False)
    make_site(world, name="Đài tưởng niệm", publish=False)
    services.create_site(actor=world.admin, unit=world.C2, kind="other", name="Ở xã khác")
    login(client, world.manager_C1)
    page = client.get(reverse("sites:site_list"), {"q": "dai tuong niem"}).content.decode()
    assert "Đài tưởng niệm" in page and "Cột mốc" not in page
    assert "Ở xã khác" not in client.get(reverse("sites:site_list")).content.decode()
    with django_assert_max_num_queries(12):
        markers = client.get(reverse("sites:marker_list")).content.decode()
    assert markers.index(">677<") < markers.index(">690<") < markers.index(">702<")
