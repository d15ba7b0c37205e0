"""Sites through the services: validation of every bad input (nothing saved), the editorial flow, media, markers,
adoption — each write audited."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from doanso.core.models import AuditRecord

from .. import services
from ..content import clean_rich_text
from ..models import Activity, Adoption, BorderMarker, ConditionReport, Media, Photo, Site, SiteStatus
from .support import jpeg, make_marker, make_site

pytestmark = pytest.mark.django_db


def site_data(**extra):
    return {
        "kind": "relic",
        "rank": "national",
        "name": "Di tích Hòn Tàu",
        "latitude": "15.7",
        "longitude": "108.1",
        **extra,
    }


def test_create_site_normalises_folds_and_audits(world):
    site = services.create_site(actor=world.manager_C1, unit=world.C1, **site_data(name="Di  tích   Hòn Tàu"))
    assert (site.name, site.status, site.kind_label) == ("Di tích Hòn Tàu", SiteStatus.DRAFT, "National relic")
    assert site.search_name.startswith("di tich hon tau")
    assert (site.latitude, site.longitude) == (Decimal("15.700000"), Decimal("108.100000"))
    assert len(site.code) == 6
    record = AuditRecord.objects.get(action="sites.site.create")
    assert (record.actor, record.unit, record.object_id) == (world.manager_C1, world.C1, str(site.pk))


@pytest.mark.parametrize(
    ("lat", "lon", "field", "fragment"),
    [
        ("108.2", "16.05", "latitude", "seem swapped"),
        ("48.85", "2.35", "latitude", "is not in Vietnam"),  # Paris
        ("16.0", "112.0", None, None),  # Hoàng Sa: inside
        ("10.0", "114.0", None, None),  # Trường Sa: inside
        ("16.5", "", "longitude", "together with the latitude"),
        ("mười sáu", "108", "latitude", "not a number"),
        ("NaN", "108", "latitude", "not a number"),
    ],
)
def test_coordinates_outside_vietnam_or_swapped_are_refused_and_nothing_is_saved(world, lat, lon, field, fragment):
    if field is None:
        site = services.create_site(actor=world.admin, unit=world.C1, **site_data(latitude=lat, longitude=lon))
        assert site.has_location
        return
    with pytest.raises(ValidationError) as exc:
        services.create_site(actor=world.admin, unit=world.C1, **site_data(latitude=lat, longitude=lon))
    assert fragment in " ".join(exc.value.message_dict[field])
    assert Site.objects.count() == 0
    assert not AuditRecord.objects.filter(action__startswith="sites.").exists()


def test_swapped_coordinates_message_offers_the_right_pair(world):
    with pytest.raises(ValidationError) as exc:
        services.create_site(actor=world.admin, unit=world.C1, **site_data(latitude="108.2", longitude="16.05"))
    assert "16.050000, 108.200000" in exc.value.message_dict["latitude"][0]


def test_script_in_rich_text_is_refused_and_allowed_markup_is_kept(world):
    for bad in (
        "<p>Lịch sử</p><script>alert(1)</script>",
        '<p onclick="x()">Bấm</p>',
        '<a href="javascript:alert(1)">x</a>',
        '<iframe src="https://example.com"></iframe>',
    ):
        with pytest.raises(ValidationError) as exc:
            services.create_site(actor=world.admin, unit=world.C1, **site_data(history=bad))
        assert "script" in exc.value.message_dict["history"][0]
    assert Site.objects.count() == 0
    html = '<h2>Năm 1965</h2><p>Trận <strong>Núi Thành</strong> <span style="color:red">đầu</span></p><a href="https://vi.wikipedia.org">Nguồn</a>'
    assert clean_rich_text(html) == (
        "<h2>Năm 1965</h2><p>Trận <strong>Núi Thành</strong> đầu</p>"
        '<a href="https://vi.wikipedia.org" rel="noopener noreferrer nofollow">Nguồn</a>'
    )


def test_plain_text_history_becomes_paragraphs(world):
    assert (
        clean_rich_text("Dòng một\nDòng hai\n\nĐoạn hai & ba") == "<p>Dòng một<br>Dòng hai</p><p>Đoạn hai &amp; ba</p>"
    )


def test_rank_only_for_relics_and_video_links_only_from_platforms(world):
    with pytest.raises(ValidationError) as exc:
        services.create_site(actor=world.admin, unit=world.C1, **site_data(kind="youth_work"))
    assert "rank" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.create_site(actor=world.admin, unit=world.C1, **site_data(video_url="http://evil.example/x.mp4"))
    assert "video_url" in exc.value.message_dict
    site = services.create_site(
        actor=world.admin, unit=world.C1, **site_data(video_url="https://www.youtube.com/watch?v=abc")
    )
    assert site.video_url == "https://www.youtube.com/watch?v=abc"


def test_legacy_address_finds_the_2025_commune(world):
    site = services.create_site(
        actor=world.admin,
        unit=world.C1,
        **site_data(division=None, legacy_address="Xã Tà Bhinh, Huyện Nam Giang, Tỉnh Quảng Nam"),
    )
    assert (site.division.code, site.division.name) == ("20710", "Xã Bến Giằng")
    assert site.legacy_address == "Xã Tà Bhinh, Huyện Nam Giang, Tỉnh Quảng Nam"


def test_outside_scope_cannot_create_or_edit(world):
    with pytest.raises(PermissionDenied):
        services.create_site(actor=world.manager_C2, unit=world.C1, **site_data())
    site = services.create_site(actor=world.manager_C1, unit=world.C1, **site_data())
    with pytest.raises(PermissionDenied):
        services.update_site(site, actor=world.manager_C2, name="Khác")
    site.refresh_from_db()
    assert site.name == "Di tích Hòn Tàu"


def test_editorial_flow_draft_submitted_published_with_another_reviewer(world):
    site = services.create_site(actor=world.staff_C1, unit=world.C1, **site_data(summary="Tóm tắt"))
    services.submit_site(site, actor=world.staff_C1)
    site.refresh_from_db()
    assert (site.status, site.submitted_by) == (SiteStatus.SUBMITTED, world.staff_C1)
    # Staff may not publish; the submitter may not review their own submission.
    with pytest.raises(PermissionDenied):
        services.publish_site(site, actor=world.staff_C1)
    with pytest.raises(ValidationError):
        services.return_site(site, actor=world.manager_C1, note="")
    # While submitted, the editor without the right to publish cannot change the text.
    with pytest.raises(ValidationError):
        services.update_site(site, actor=world.staff_C1, name="Đổi tên")
    services.return_site(site, actor=world.manager_C1, note="Thêm ảnh và nguồn tư liệu")
    site.refresh_from_db()
    assert (site.status, site.review_note, site.reviewer) == (
        SiteStatus.DRAFT,
        "Thêm ảnh và nguồn tư liệu",
        world.manager_C1,
    )
    services.submit_site(site, actor=world.staff_C1)
    services.publish_site(site, actor=world.manager_C1, note="Đạt")
    site.refresh_from_db()
    assert site.status == SiteStatus.PUBLISHED and site.reviewer == world.manager_C1 and site.published_at
    actions = list(
        AuditRecord.objects.filter(object_type="sites.site", object_id=str(site.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "sites.site.create",
        "sites.site.submit",
        "sites.site.return",
        "sites.site.submit",
        "sites.site.publish",
    ]


def test_self_review_is_refused(world):
    site = services.create_site(actor=world.manager_C1, unit=world.C1, **site_data(summary="x"))
    services.submit_site(site, actor=world.manager_C1)
    with pytest.raises(ValidationError, match="other than the person"):
        services.publish_site(site, actor=world.manager_C1)
    site.refresh_from_db()
    assert site.status == SiteStatus.SUBMITTED


def test_editing_a_published_site_keeps_its_code(world):
    site = make_site(world)
    code = site.code
    services.update_site(site, actor=world.manager_C1, name="Địa đạo Kỳ Anh (Tam Kỳ)", summary="Mới")
    site.refresh_from_db()
    assert (site.code, site.name, site.status) == (code, "Địa đạo Kỳ Anh (Tam Kỳ)", SiteStatus.PUBLISHED)


def test_photo_is_resized_with_thumbnail_and_alt(world):
    site = make_site(world, publish=False)
    photo = services.add_photo(site, jpeg((4000, 3000)), actor=world.admin, alt="Cổng vào")
    with Image.open(photo.image.path) as large, Image.open(photo.thumbnail.path) as thumb:
        assert large.size == (1600, 1200) and (photo.width, photo.height) == (1600, 1200)
        assert thumb.size == (480, 360)
        assert large.format == "JPEG"
    assert AuditRecord.objects.filter(action="sites.photo.add").count() == 1


def test_photo_without_alt_text_is_refused(world):
    site = make_site(world, publish=False)
    with pytest.raises(ValidationError) as exc:
        services.add_photo(site, jpeg(), actor=world.admin, alt="  ")
    assert "alt" in exc.value.message_dict
    assert Photo.objects.count() == 0


def test_a_50_mb_photo_and_a_fake_image_are_refused_with_nothing_saved(world, tmp_path):
    site = make_site(world, publish=False)
    big = SimpleUploadedFile("to.jpg", b"\xff\xd8\xff" + b"0" * (50 * 1024 * 1024), content_type="image/jpeg")
    with pytest.raises(ValidationError) as exc:
        services.add_photo(site, big, actor=world.admin, alt="Ảnh lớn")
    assert "50.0 MB; at most 20 MB" in exc.value.message_dict["image"][0]
    fake = SimpleUploadedFile("anh.jpg", b"MZ\x90\x00 this is an exe", content_type="image/jpeg")
    with pytest.raises(ValidationError) as exc:
        services.add_photo(site, fake, actor=world.admin, alt="Ảnh giả")
    assert "is not an image" in exc.value.message_dict["image"][0]
    truncated = jpeg().read()[:500]
    with pytest.raises(ValidationError):
        services.add_photo(site, SimpleUploadedFile("cut.jpg", truncated), actor=world.admin, alt="Ảnh hỏng")
    assert Photo.objects.count() == 0
    media_root = tmp_path / "media" / "sites"
    assert not media_root.exists() or not any(p.is_file() for p in media_root.rglob("*"))


def test_media_files_are_checked_by_content(world):
    site = make_site(world, publish=False)
    mp3 = SimpleUploadedFile("thuyet-minh.mp3", b"ID3\x04\x00" + b"\x00" * 100)
    media = services.add_media(site, mp3, actor=world.admin, kind="audio", title="Thuyết minh")
    assert (media.content_type, media.size) == ("audio/mpeg", 105)
    video = SimpleUploadedFile("phim.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 50)
    assert services.add_media(site, video, actor=world.admin, kind="video", title="Phim").content_type == "video/mp4"
    with pytest.raises(ValidationError) as exc:
        services.add_media(site, SimpleUploadedFile("x.pdf", b"<html>"), actor=world.admin, kind="document", title="X")
    assert exc.value.message_dict["file"] == ["The file “x.pdf” is not in an accepted format for this kind (PDF)."]
    assert Media.objects.count() == 2
    # A real PDF named like a web page is stored as what it is.
    disguised = SimpleUploadedFile("x.html", b"%PDF-1.7\n" + b"\x00" * 50)
    stored = services.add_media(site, disguised, actor=world.admin, kind="document", title="Tài liệu")
    assert stored.file.name.endswith(".pdf") and media.file.name.endswith(".mp3")


def test_markers_unique_numbers_and_auxiliary_index(world):
    make_marker(world, 678, publish=False)
    with pytest.raises(ValidationError) as exc:
        make_marker(world, 678, publish=False)
    assert exc.value.message_dict["number"] == ["Marker 678 already exists."]
    aux = services.create_site(
        actor=world.admin,
        unit=world.C1,
        marker={"number": 678, "sub_number": 1},
        name="Cọc dấu 678/1",
        latitude="15.52",
        longitude="107.36",
    )
    assert (aux.marker.label, aux.marker.role) == ("678/1", "auxiliary")
    assert list(BorderMarker.objects.values_list("number", "sub_number")) == [(678, 0), (678, 1)]
    assert "678/1" in aux.search_name
    # Beyond the database's integer columns: a message at the field, nothing saved.
    for marker, field in (({"number": 3_000_000_000}, "number"), ({"number": 679, "sub_number": 40_000}, "sub_number")):
        with pytest.raises(ValidationError) as exc:
            services.create_site(
                actor=world.admin, unit=world.C1, marker=marker, name="Cột mốc", latitude="15.52", longitude="107.36"
            )
        assert field in exc.value.message_dict
    assert BorderMarker.objects.count() == 2


def test_condition_report_with_photos_by_the_adopting_unit(world, today):
    site = make_marker(world, 700)
    adoption = services.adopt_site(
        site, actor=world.manager_C1, unit=world.B1, since=today - datetime.timedelta(days=30)
    )
    report = services.report_condition(
        site.marker, actor=world.manager_C1, date=today, condition="worn", note="Sơn bị bong", photos=[jpeg()]
    )
    assert (report.unit, report.photos.count()) == (adoption.unit, 1)
    with pytest.raises(ValidationError):
        services.report_condition(
            site.marker, actor=world.manager_C1, date=today + datetime.timedelta(days=2), condition="good"
        )
    with pytest.raises(PermissionDenied):
        services.report_condition(site.marker, actor=world.manager_C2, date=today, condition="good")
    # One bad photo refuses the whole report.
    with pytest.raises(ValidationError):
        services.report_condition(
            site.marker,
            actor=world.manager_C1,
            date=today,
            condition="good",
            photos=[jpeg(), SimpleUploadedFile("x.jpg", b"not an image")],
        )
    assert ConditionReport.objects.count() == 1


def test_adoption_one_current_unit_and_activity_log(world, today):
    site = make_site(world)
    since = today - datetime.timedelta(days=10)
    adoption = services.adopt_site(site, actor=world.manager_C1, unit=world.B1, since=since)
    with pytest.raises(ValidationError) as exc:
        services.adopt_site(site, actor=world.manager_C2, unit=world.B3, since=since)
    assert "already adopts" in exc.value.message_dict["unit"][0]
    activity = services.log_activity(
        adoption,
        actor=world.manager_C1,
        date=today,
        kind="clean_up",
        description="Dọn vệ sinh",
        participants=25,
        photos=[jpeg(), jpeg(colour=(10, 100, 10))],
    )
    assert activity.photos.count() == 2
    with pytest.raises(ValidationError):
        services.log_activity(adoption, actor=world.manager_C1, date=since - datetime.timedelta(days=1), kind="patrol")
    with pytest.raises(PermissionDenied):
        services.log_activity(adoption, actor=world.manager_C2, date=today, kind="patrol")
    services.end_adoption(adoption, actor=world.manager_C1, until=today)
    assert Adoption.objects.current().count() == 0
    assert Activity.objects.count() == 1
    services.adopt_site(site, actor=world.manager_C2, unit=world.B3, since=today)
    assert list(Adoption.objects.current().values_list("unit__code", flat=True)) == ["B3"]


def test_io_image_png_with_alpha_is_flattened(world):
    site = make_site(world, publish=False)
    buffer = io.BytesIO()
    Image.new("RGBA", (800, 600), (0, 0, 255, 128)).save(buffer, format="PNG")
    photo = services.add_photo(site, SimpleUploadedFile("a.png", buffer.getvalue()), actor=world.admin, alt="PNG")
    with Image.open(photo.image.path) as large:
        assert (large.format, large.mode, large.size) == ("JPEG", "RGB", (800, 600))


def test_unit_page_and_site_page_show_the_adoption_log(client, login, world, today):
    from django.urls import reverse

    site = make_site(world)
    adoption = services.adopt_site(
        site, actor=world.manager_C1, unit=world.B1, since=today - datetime.timedelta(days=5)
    )
    services.log_activity(
        adoption,
        actor=world.manager_C1,
        date=today,
        kind="flag_ceremony",
        participants=40,
        photos=[jpeg()],
        description="Chào cờ tại địa đạo",
    )
    login(client, world.manager_C1)
    unit_page = client.get(reverse("org:unit_detail", args=[world.B1.pk])).content.decode()
    assert reverse("sites:adoption_detail", args=[adoption.pk]) in unit_page
    assert "Địa đạo Kỳ Anh" in unit_page and "40" in unit_page
    public = client.get(reverse("sites:public_site", args=[site.code])).content.decode()
    assert "Chi đoàn thôn 1" in public and "Chào cờ tại địa đạo" in public
    assert public.count('loading="lazy"') == 1
