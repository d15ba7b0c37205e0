"""QR codes and boards: a standard decoder (zxing-cpp) reads the code back from the printed board at its print size,
and the code is the site's short URL, which no edit changes."""

import base64
import io
import re
import subprocess

import pytest
import zxingcpp
from django.urls import reverse
from PIL import Image

from .. import services
from .support import make_marker, make_site

pytestmark = pytest.mark.django_db


def decode(image: Image.Image) -> str:
    results = zxingcpp.read_barcodes(image)
    assert [r.format for r in results] == [zxingcpp.BarcodeFormat.QRCode]
    return results[0].text


def page_size_mm(pdf) -> tuple[float, float]:
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.M)
    width, height = map(float, re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", info, re.M).groups())
    return round(width * 25.4 / 72), round(height * 25.4 / 72)


@pytest.mark.parametrize(("fmt", "size_mm"), [("a4", (210, 297)), ("a5", (148, 210))])
def test_pdf_board_decodes_at_print_size_to_the_short_url(client, login, world, tmp_path, fmt, size_mm):
    site = make_marker(world, 678)
    login(client, world.manager_C1)
    response = client.get(reverse("sites:board", args=[site.pk, fmt]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="bang-qr-cot-moc-678-{site.code}.{fmt}.pdf"'
    pdf = tmp_path / "board.pdf"
    pdf.write_bytes(response.content)
    assert page_size_mm(pdf) == size_mm
    # 150 dpi: what an ordinary office printer gives; the phone camera sees no more than that.
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(pdf), str(tmp_path / "board")], check=True)
    image = Image.open(tmp_path / "board-1.png")
    assert decode(image) == f"http://testserver/q/{site.code}"
    text = " ".join(
        subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout.split()
    )
    assert "ĐOÀN TNCS HỒ CHÍ MINH" in text and "Cột mốc 678" in text and "Đoàn xã Hòa Vang" in text
    assert f"testserver/q/{site.code}" in text


def test_large_svg_board_is_2_2_by_1_2_m_and_decodes(client, login, world, tmp_path):
    from weasyprint import HTML

    site = make_site(world)
    login(client, world.manager_C1)
    response = client.get(reverse("sites:board", args=[site.pk, "svg"]))
    assert response["Content-Type"] == "image/svg+xml"
    svg = response.content.decode()
    assert '<svg xmlns="http://www.w3.org/2000/svg" width="2200mm" height="1200mm"' in svg
    assert "Địa đạo Kỳ Anh" in svg  # text stays text: the sign maker can set it in their own font
    # Rendered at its real size (2.2 × 1.2 m) and rasterised at 25 dpi, the resolution of a photo of the board
    # taken from a few metres away.
    html = (
        "<style>@page{size:2200mm 1200mm;margin:0}body{margin:0}img{width:2200mm;height:1200mm;display:block}</style>"
        f'<img src="data:image/svg+xml;base64,{base64.b64encode(svg.encode()).decode()}">'
    )
    pdf = tmp_path / "large.pdf"
    HTML(string=html).write_pdf(pdf)
    assert page_size_mm(pdf) == (2200, 1200)
    subprocess.run(["pdftoppm", "-r", "25", "-png", str(pdf), str(tmp_path / "large")], check=True)
    assert decode(Image.open(tmp_path / "large-1.png")) == f"http://testserver/q/{site.code}"


def test_qr_images_and_the_code_survives_edits(client, world, settings):
    settings.DOANSO_PUBLIC_BASE_URL = "https://doanso.danang.vn"
    site = make_site(world)
    png = client.get(reverse("sites:qr_image", args=[site.code, "png"]))
    assert png["Content-Type"] == "image/png"
    first = decode(Image.open(io.BytesIO(png.content)))
    assert first == f"https://doanso.danang.vn/q/{site.code}"
    services.update_site(site, actor=world.manager_P, name="Tên mới", summary="Nội dung mới")
    again = decode(Image.open(io.BytesIO(client.get(reverse("sites:qr_image", args=[site.code, "png"])).content)))
    assert again == first
    svg = client.get(reverse("sites:qr_image", args=[site.code, "svg"]))
    assert svg["Content-Type"] == "image/svg+xml" and svg.content.startswith(b"<?xml")


def test_boards_only_for_published_sites(client, login, world):
    site = make_site(world, publish=False)
    login(client, world.manager_C1)
    assert client.get(reverse("sites:board", args=[site.pk, "a4"])).status_code == 404
    assert client.get(reverse("sites:board", args=[site.pk, "a3"])).status_code == 404
