"""The e-member card: the PDF and the page carry a QR code that a standard decoder reads back to the public
verification page of the right member, which shows only the name, the unit and whether the membership is valid."""

import base64
import io
import re
import subprocess
from urllib.parse import urlsplit

import pytest
import zxingcpp
from django.core.files.base import ContentFile
from django.urls import reverse
from PIL import Image

from doanso.accounts.tests.factories import UserFactory
from doanso.members.card_views import card_token, member_for_token, member_links
from doanso.members.models import MemberKind, MemberStatus

from .factories import MemberFactory

pytestmark = pytest.mark.django_db


def jpeg(size=(600, 800), colour=(200, 60, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture
def member(world):
    member = MemberFactory(
        unit=world.B1,
        family_name="Nguyễn",
        middle_name="Thị Ngọc",
        given_name="Ánh",
        card_number="DN0012345",
        phone="+84905123456",
        citizen_id="048303001234",
    )
    member.photo.save("anh.jpg", ContentFile(jpeg()))
    return member


def decode_qr(image: Image.Image) -> str:
    results = zxingcpp.read_barcodes(image)
    assert [r.format for r in results] == [zxingcpp.BarcodeFormat.QRCode]
    return results[0].text


def verify_path(url: str) -> str:
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("http", "testserver")
    return parts.path


def test_pdf_card_is_credit_card_sized_and_its_qr_opens_the_members_verification(
    client, login, world, member, tmp_path
):
    login(client, world.manager_C1)
    # In English, so that the labels read the same before and after the Vietnamese catalogue has them.
    response = client.get(reverse("members:card_pdf", args=[member.pk]), headers={"accept-language": "en"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="the-doan-vien-nguyen-thi-ngoc-anh.pdf"'
    pdf = tmp_path / "card.pdf"
    pdf.write_bytes(response.content)

    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.M)
    width, height = map(float, re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", info, re.M).groups())
    # ID-1, the bank-card size: 85.6 × 54 mm (1 pt = 25.4 / 72 mm).
    assert (round(width * 25.4 / 72, 1), round(height * 25.4 / 72, 1)) == (85.6, 54.0)

    subprocess.run(["pdftoppm", "-r", "300", "-png", str(pdf), str(tmp_path / "card")], check=True)
    image = Image.open(tmp_path / "card-1.png")
    # pdftoppm rounds each side up to whole pixels: 1011.02 → 1012, 637.8 → 638.
    assert image.size == (1012, 638)
    url = decode_qr(image)
    path = verify_path(url)
    token = path.removeprefix("/doan-vien/xac-minh/").removesuffix("/")
    assert path == reverse("members:card_verify", args=[token])
    assert member_for_token(token) == member

    # The text is real text with its diacritics (the fonts carry Vietnamese), not missing-glyph boxes.
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    assert " ".join(text.split()) == (
        "Đoàn TNCS Hồ Chí Minh THẺ ĐOÀN VIÊN ĐIỆN TỬ NGUYỄN THỊ NGỌC ÁNH UNIT Chi đoàn thôn 1 CARD NUMBER DN0012345 "
        "Đoàn Số Scan to verify"
    )
    # The photo's red fills the photo frame on the left (embedded, so no URL had to be fetched).
    assert image.convert("RGB").getpixel((150, 330)) == pytest.approx((200, 60, 40), abs=12)


def test_card_page_qr_decodes_to_the_verification_url_and_the_photo_is_embedded(client, login, world, member):
    login(client, world.manager_C1)
    response = client.get(reverse("members:card", args=[member.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    qr_uris = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert len(qr_uris) == 1
    url = decode_qr(Image.open(io.BytesIO(base64.b64decode(qr_uris[0]))))
    assert url == "http://testserver" + reverse("members:card_verify", args=[card_token(member)])
    # The photo comes from private storage inside the page, resized; its storage path is nowhere.
    photos = re.findall(r'src="data:image/jpeg;base64,([^"]+)"', html)
    assert len(photos) == 1
    assert Image.open(io.BytesIO(base64.b64decode(photos[0]))).size == (300, 400)
    assert "members/photos" not in html
    assert "THẺ ĐOÀN VIÊN ĐIỆN TỬ" in html and "NGUYỄN THỊ NGỌC ÁNH" in html and "DN0012345" in html


def test_verification_page_shows_only_name_unit_and_validity_and_is_cacheable(
    client, world, member, django_assert_num_queries
):
    url = reverse("members:card_verify", args=[card_token(member)])
    # In English, so that the assertions hold before and after the Vietnamese catalogue has these strings.
    with django_assert_num_queries(1):  # the member with their unit; a scan needs no session
        response = client.get(url, headers={"accept-language": "en"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=300"
    assert len(response.content) < 2000  # a light page for a slow connection (the CSS is cached)
    html = response.content.decode()
    assert "Nguyễn Thị Ngọc Ánh" in html and "Chi đoàn thôn 1" in html
    assert "✓ Valid membership" in html
    for private in ("DN0012345", "0905", "048303001234", "17/05/2003", "data:image", "csrfmiddlewaretoken"):
        assert private not in html
    assert "Set-Cookie" not in response.headers

    member.status = MemberStatus.STRUCK_OFF
    member.save(update_fields=["status"])
    html = client.get(url, headers={"accept-language": "en"}).content.decode()
    assert "✗ Membership not valid" in html
    assert "Valid membership" not in html


def test_forged_or_altered_tokens_are_not_recognised(client, world, member, settings):
    other = MemberFactory(unit=world.B3)
    key, mac = card_token(member).split("-", 1)
    other_key = card_token(other).split("-", 1)[0]
    for forged in (f"{other_key}-{mac}", f"{key}-{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}", key, str(member.pk)):
        assert member_for_token(forged) is None
        response = client.get(reverse("members:card_verify", args=[forged]))
        assert response.status_code == 404
        assert "Nguyễn Thị Ngọc Ánh" not in response.content.decode()
    # Printed cards survive a key rotation while the old key stays among the fallbacks.
    token = card_token(member)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    assert member_for_token(token) == member
    settings.SECRET_KEY_FALLBACKS = []
    assert member_for_token(token) is None


def test_the_member_sees_their_own_card_and_nobody_elses(client, world, member):
    member.user = UserFactory()
    member.save(update_fields=["user"])
    other = MemberFactory(unit=world.B1, user=UserFactory())
    client.force_login(member.user)
    assert client.get(reverse("members:card", args=[member.pk])).status_code == 200
    assert client.get(reverse("members:card_pdf", args=[member.pk])).status_code == 200
    assert client.get(reverse("members:card", args=[other.pk])).status_code == 404
    assert client.get(reverse("members:card_pdf", args=[other.pk])).status_code == 404


def test_cadres_see_cards_of_their_subtree_only_and_only_union_members_have_one(client, login, world, member):
    login(client, world.staff_C1)
    assert client.get(reverse("members:card", args=[member.pk])).status_code == 200
    login(client, world.manager_C2)
    assert client.get(reverse("members:card", args=[member.pk])).status_code == 404
    pioneer = MemberFactory(unit=world.B1, kind=MemberKind.PIONEER)
    login(client, world.manager_C1)
    assert client.get(reverse("members:card", args=[pioneer.pk])).status_code == 404


def test_a_card_without_photo_shows_initials_and_a_broken_photo_does_not_break_it(client, login, world, member):
    member.photo.storage.delete(member.photo.name)  # the file went missing from storage
    login(client, world.manager_C1)
    html = client.get(reverse("members:card", args=[member.pk])).content.decode()
    assert "data:image/jpeg" not in html
    assert ">NÁ</text>" in html
    assert client.get(reverse("members:card_pdf", args=[member.pk])).status_code == 200


def test_member_links_offer_what_the_user_may_use(world, member):
    card = ("Member card", f"/doan-vien/{member.pk}/the/")
    pdf = ("Member card (PDF)", f"/doan-vien/{member.pk}/the/pdf/")
    invite = ("Invite to self-service", f"/doan-vien/{member.pk}/moi-tai-khoan/")
    from django.utils import translation

    with translation.override("en"):
        assert member_links(world.manager_C1, member) == [card, pdf, invite]
        # Staff who manage members may invite them to their own account (an account without a role).
        assert member_links(world.staff_C1, member) == [card, pdf, invite]
        assert member_links(world.manager_C2, member) == []
        member.user = UserFactory()
        member.save(update_fields=["user"])
        assert member_links(member.user, member) == [card, pdf]
        assert member_links(world.manager_C1, member) == [card, pdf]
