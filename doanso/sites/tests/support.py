"""Helpers for the sites tests: sites, markers and adoptions made through the services, images in memory."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from doanso.org.models import AdministrativeDivision

from .. import services

# A commune of Đà Nẵng (code 48) and one of its coordinates inside Vietnam.
LAT, LON = "15.876543", "108.334567"


def commune(name_part: str = "") -> AdministrativeDivision:
    qs = AdministrativeDivision.objects.filter(level="commune", province__code="48").order_by("code")
    if name_part:
        qs = qs.filter(search_name__contains=name_part)
    return qs.first()


def jpeg(size=(2400, 1600), colour=(200, 60, 40), name="anh.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="JPEG", quality=90)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def make_site(world, *, unit=None, publish=True, name="Địa đạo Kỳ Anh", **fields):
    data = {
        "kind": "red_address",
        "name": name,
        "summary": "Khu địa đạo thời kháng chiến chống Mỹ.",
        "history": "Đoạn một.\n\nĐoạn hai.",
        "latitude": LAT,
        "longitude": LON,
        "division": commune(),
        **fields,
    }
    site = services.create_site(actor=world.admin, unit=unit or world.C1, **data)
    if publish:
        publish_site(world, site)
    return site


def publish_site(world, site):
    services.submit_site(site, actor=world.admin)
    return services.publish_site(site, actor=world.manager_P)


def make_marker(world, number=678, *, unit=None, publish=True, **fields):
    site = services.create_site(
        actor=world.admin,
        unit=unit or world.C1,
        marker={"number": number, "border_section": "Quảng Nam – Sê Kông", "lao_province": "Sê Kông"},
        name=f"Cột mốc {number}",
        summary="Cột mốc biên giới Việt Nam – Lào.",
        latitude=fields.pop("latitude", "15.520000"),
        longitude=fields.pop("longitude", "107.350000"),
        **fields,
    )
    if publish:
        publish_site(world, site)
    return site


def once(world, name, make):
    """An object of the matrix world made on first use (routes that need it create it lazily)."""
    if not hasattr(world, name):
        setattr(world, name, make())
    return getattr(world, name)
