"""Demo sites and border markers (called at the end of ``org.demo.DemoBuilder.build``).

What is real and what is sample (Dữ liệu mẫu) — every demo site carries ``is_sample=True`` and its public page
says so:

* Real: the names of the public places (Khu di tích Hòn Tàu, Tượng đài Mẹ Việt Nam Anh hùng, Thành Điện Hải,
  Địa đạo Kỳ Anh), the 2025 communes they are attached to, and that the former Quảng Nam – Sê Kông border has 60
  markers numbered 676 to 735 (DOMAIN.md).
* Sample: every coordinate (markers are spread along a straight line, not surveyed positions), the commune of
  each marker, marker types and forms, the summaries (which say they are sample text), the photos (plain
  coloured images), the adoption of marker 678 and its activities, and the youth work. No relic rank is set: the
  demo does not claim any.
"""

import datetime
import io
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from doanso.accounts.models import User
from doanso.org.models import AdministrativeDivision, Unit

from . import services

SAMPLE = "Dữ liệu mẫu"
SAMPLE_SUMMARY = f"{SAMPLE}: nội dung minh hoạ để thử nền tảng, chưa được biên tập và kiểm chứng."
SAMPLE_HISTORY = (
    f"<p><strong>{SAMPLE}.</strong> Phần lịch sử của địa điểm do biên tập viên của đơn vị quản lý viết từ hồ sơ di "
    "tích và tư liệu đã được kiểm chứng; nội dung này chỉ để minh hoạ cách trang hiển thị.</p>"
)
# (name, kind, commune code, sample latitude, sample longitude, managing unit code)
SITES = [
    ("Khu di tích Hòn Tàu", "relic", "20641", "15.6500", "108.1100"),
    ("Tượng đài Mẹ Việt Nam Anh hùng", "memorial", "20341", "15.5450", "108.4700"),
    ("Thành Điện Hải", "relic", "20242", "16.0750", "108.2200"),
    ("Địa đạo Kỳ Anh", "red_address", "20341", "15.5700", "108.5400"),
    ("Công trình thanh niên mẫu: đường điện thắp sáng đường quê", "youth_work", "20707", "15.7800", "107.6300"),
]
MARKERS = range(676, 736)  # 60 markers on the former Quảng Nam – Sê Kông border
# Sample line along which the demo spreads the markers (north to south); not the surveyed border.
LINE_START = (Decimal("16.0500"), Decimal("107.3700"))
LINE_END = (Decimal("15.4000"), Decimal("107.4300"))
NORTH_COMMUNE, SOUTH_COMMUNE = "20455", "20707"  # Xã Tây Giang, Xã Nam Giang (sample split)


def photo(colour, label: str) -> SimpleUploadedFile:
    image = Image.new("RGB", (1200, 800), colour)
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 40, 1160, 760), outline=(255, 255, 255), width=6)
    draw.text((80, 80), f"{SAMPLE} - {label}", fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return SimpleUploadedFile("anh-mau.jpg", buffer.getvalue(), content_type="image/jpeg")


def build_sites(admin, today: datetime.date) -> int:
    """The sample sites and markers, written through the services by the demo's editors (a staff member writes
    and submits, the provincial manager reviews and publishes). Returns how many sites were made."""
    editor = User.objects.get(username="thanhdoan.canbo")
    reviewer = User.objects.get(username="thanhdoan.quanly")
    province = Unit.objects.get(code="TD-DN")
    divisions = {d.code: d for d in AdministrativeDivision.objects.filter(code__in=_codes())}

    def publish(site):
        services.submit_site(site, actor=editor)
        services.publish_site(site, actor=reviewer, note=SAMPLE)

    made = 0
    for index, (name, kind, commune, lat, lon) in enumerate(SITES):
        site = services.create_site(
            actor=editor,
            unit=province,
            sample=True,
            kind=kind,
            name=name,
            summary=SAMPLE_SUMMARY,
            history=SAMPLE_HISTORY,
            division=divisions.get(commune),
            latitude=lat,
            longitude=lon,
        )
        services.add_photo(site, photo((160, 40 + 30 * index, 40), name), actor=editor, alt=f"{SAMPLE}: {name}")
        publish(site)
        made += 1

    steps = len(MARKERS) - 1
    markers = {}
    for i, number in enumerate(MARKERS):
        # Evenly along the sample line, with a small zigzag so that clusters open into separate points.
        lat = LINE_START[0] + (LINE_END[0] - LINE_START[0]) * i / steps
        lon = LINE_START[1] + (LINE_END[1] - LINE_START[1]) * i / steps + Decimal("0.006") * (i % 3 - 1)
        commune = NORTH_COMMUNE if number < 703 else SOUTH_COMMUNE
        site = services.create_site(
            actor=editor,
            unit=province,
            sample=True,
            marker={"number": number, "border_section": "Quảng Nam (cũ) – Sê Kông", "lao_province": "Sê Kông"},
            name=f"Cột mốc {number}",
            summary=f"{SAMPLE}: toạ độ và xã của cột mốc là minh hoạ, không phải vị trí đo đạc.",
            division=divisions.get(commune),
            latitude=f"{lat:.6f}",
            longitude=f"{lon:.6f}",
        )
        publish(site)
        markers[number] = site
        made += 1

    # Marker 678 adopted by the Tây Giang commune union (the adoption and its log are sample data).
    adopter = Unit.objects.filter(code=f"X-{NORTH_COMMUNE}").first()
    if adopter is not None:
        adoption = services.adopt_site(
            markers[678], actor=admin, unit=adopter, since=today - datetime.timedelta(days=120), note=SAMPLE
        )
        for days, kind, people, text in [
            (90, "patrol", 12, "Tuần tra cùng đồn biên phòng"),
            (45, "clean_up", 20, "Phát quang, dọn vệ sinh quanh cột mốc"),
            (10, "flag_ceremony", 35, "Lễ chào cờ tại cột mốc"),
        ]:
            services.log_activity(
                adoption,
                actor=admin,
                date=today - datetime.timedelta(days=days),
                kind=kind,
                participants=people,
                description=f"{text} ({SAMPLE.lower()}).",
                photos=[photo((40, 90, 160), text)],
            )
        services.report_condition(
            markers[678].marker,
            actor=admin,
            date=today - datetime.timedelta(days=10),
            condition="good",
            note=f"{SAMPLE}: mốc nguyên vẹn, sơn còn rõ.",
        )
    return made


def _codes() -> set[str]:
    return {c for _n, _k, c, _la, _lo in SITES} | {NORTH_COMMUNE, SOUTH_COMMUNE}
