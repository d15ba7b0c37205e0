"""The transfer letter for outside the province (PDF) and the public page its QR code opens."""

import datetime
import shutil
import subprocess

import pytest
from django.urls import reverse
from PIL import Image

from doanso.members.services import lifecycle

from .factories import MemberFactory
from .lifecycle_support import english, frozen  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


@pytest.fixture
def letter(world):
    member = MemberFactory(
        unit=world.B1,
        family_name="Nguyễn",
        middle_name="Thị",
        given_name="Hạnh",
        date_of_birth=datetime.date(2001, 9, 2),
        joined_on=datetime.date(2016, 3, 26),
        card_number="048012345",
        citizen_id="048301001234",
        sex="female",
    )
    return lifecycle.send_transfer(
        member,
        actor=world.manager_C1,
        destination="Tỉnh đoàn Quảng Ngãi",
        sent_on=datetime.date(2025, 6, 10),
        dues_paid_until=datetime.date(2025, 6, 30),
        assessment="Hoàn thành xuất sắc nhiệm vụ; nhiệt tình trong các hoạt động tình nguyện.",
    )


def pdf_pages(content: bytes, tmp_path, dpi: int = 150) -> list[Image.Image]:
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "poppler-utils is installed by scripts/setup"
    source = tmp_path / "letter.pdf"
    source.write_bytes(content)
    subprocess.run([pdftoppm, "-r", str(dpi), "-png", str(source), str(tmp_path / "page")], check=True)
    return [Image.open(path) for path in sorted(tmp_path.glob("page*.png"))]


def pdf_text(content: bytes, tmp_path) -> str:
    source = tmp_path / "letter-text.pdf"
    source.write_bytes(content)
    return subprocess.run(["pdftotext", "-layout", str(source), "-"], capture_output=True, text=True, check=True).stdout


def test_the_letter_is_one_a4_page_whose_qr_opens_its_check(client, login, world, letter, tmp_path):
    response = login(client, world.manager_C1).get(reverse("members:transfer_letter", args=[letter.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="giay-gioi-thieu-nguyen-thi-hanh.pdf"'

    pages = pdf_pages(response.content, tmp_path)
    assert len(pages) == 1
    # A4 at 150 dpi: 210 × 297 mm.
    assert pages[0].size == (1241, 1754)
    import zxingcpp

    codes = zxingcpp.read_barcodes(pages[0])
    assert [code.text for code in codes] == [
        f"http://testserver/doan-vien/xac-minh-giay-gioi-thieu/{letter.verification_code}/"
    ]

    text = " ".join(pdf_text(response.content, tmp_path).split())
    code = letter.verification_code
    for expected in (
        "GIẤY GIỚI THIỆU SINH HOẠT ĐOÀN",
        "Kính gửi: Tỉnh đoàn Quảng Ngãi",
        "Họ và tên: Nguyễn Thị Hạnh",
        "Ngày sinh: 02/09/2001",
        "Ngày vào Đoàn: 26/03/2016",
        "Số thẻ đoàn viên: 048012345",
        "Đang sinh hoạt tại: Chi đoàn thôn 1",
        "Đã đóng đoàn phí đến hết: tháng 06/2025",
        "Hoàn thành xuất sắc nhiệm vụ",
        f"{code[:4]}-{code[4:8]}-{code[8:]}",
        "ngày 10 tháng 06 năm 2025",
    ):
        assert expected in text, expected
    # The letter names the person, not their citizen ID.
    assert "048301001234" not in text


@pytest.fixture(autouse=True)
def english_pages(client):
    """The public pages follow the visitor's browser language; these tests read them in English."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.mark.usefixtures("english")
def test_the_check_shows_only_what_the_letter_is_for(client, letter):
    response = client.get(reverse("members:transfer_verify", args=[letter.verification_code]))
    assert response.status_code == 200
    assert sorted(response["Cache-Control"].split(", ")) == ["max-age=300", "public"]
    page = response.content.decode()
    for shown in ("Nguyễn Thị Hạnh", "Chi đoàn thôn 1", "Tỉnh đoàn Quảng Ngãi", "10/06/2025", "Valid: genuine"):
        assert shown in page, shown
    for hidden in ("02/09/2001", "048012345", "048301001234", "Hoàn thành xuất sắc"):
        assert hidden not in page, hidden


def test_the_check_accepts_the_code_as_typed_from_paper(client, letter):
    code = letter.verification_code
    response = client.get(
        reverse("members:transfer_verify_lookup"), {"code": f" {code[:4].lower()}-{code[4:8]} {code[8:]}"}
    )
    assert response.status_code == 302
    assert response.url == reverse("members:transfer_verify", args=[code])


@pytest.mark.usefixtures("english")
def test_a_cancelled_letter_is_not_valid(client, world, letter):
    lifecycle.cancel_transfer(letter, actor=world.manager_C1)
    response = client.get(reverse("members:transfer_verify", args=[letter.verification_code]))
    assert "Not valid: this transfer was cancelled." in response.content.decode()


@pytest.mark.usefixtures("english")
def test_an_unknown_code_is_a_404_that_says_so(client, letter):
    response = client.get(reverse("members:transfer_verify", args=["ABCDEFGHJKMN"]))
    assert response.status_code == 404
    assert "No letter has this code." in response.content.decode()


def test_a_transfer_inside_the_province_has_no_letter(client, login, world):
    transfer = lifecycle.send_transfer(MemberFactory(unit=world.B1), actor=world.manager_C1, to_unit=world.B3)
    response = login(client, world.manager_C1).get(reverse("members:transfer_letter", args=[transfer.pk]))
    assert response.status_code == 404
