"""The QR code of a site and its printable board (PDF A4/A5 through WeasyPrint; vector SVG for a 2.2 × 1.2 m
board). The code holds only the short URL ``/q/<code>``: the code never changes, so editing the content never
changes the printed board."""

import segno
from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.urls import reverse

from doanso.core.qr import qr_svg_data_uri

from .models import Site

# Printed sizes in millimetres.
BOARDS = {
    "a4": {"page": "210mm 297mm", "qr_mm": 115, "height": "297mm"},
    "a5": {"page": "148mm 210mm", "qr_mm": 78, "height": "210mm"},
}
LARGE_BOARD_MM = (2200, 1200)
LARGE_QR_MM = 620
SUMMARY_CHARS = 320


def base_url(request) -> str:
    """The address printed in codes: PUBLIC_BASE_URL when set (boards are often made on an internal host),
    else the host of the request."""
    configured = getattr(settings, "DOANSO_PUBLIC_BASE_URL", "")
    if configured:
        return configured.rstrip("/")
    return request.build_absolute_uri("/").rstrip("/")


def public_url(request, site: Site) -> str:
    return base_url(request) + reverse("qr:scan", args=[site.code])


def qr_matrix(data: str):
    return segno.make(data, error="m", micro=False)


def qr_svg(data: str, *, scale: int = 10) -> bytes:
    """A standalone SVG of the code (for designers who lay out their own board)."""
    import io

    buffer = io.BytesIO()
    qr_matrix(data).save(buffer, kind="svg", scale=scale, border=4, xmldecl=True, title=data)
    return buffer.getvalue()


def qr_path(data: str, module: float, x0: float, y0: float) -> tuple[str, float]:
    """An SVG path drawing the dark modules (one sub-path per run of dark modules in a row) and the side of the
    code with its quiet zone, in the caller's units."""
    code = qr_matrix(data)
    border = 4
    parts = []
    for y, row in enumerate(code.matrix):
        x = 0
        width = len(row)
        while x < width:
            if row[x] & 1:
                start = x
                while x < width and row[x] & 1:
                    x += 1
                px = x0 + (start + border) * module
                py = y0 + (y + border) * module
                parts.append(f"M{px:.3f} {py:.3f}h{(x - start) * module:.3f}v{module:.3f}h{-(x - start) * module:.3f}z")
            else:
                x += 1
    side = (code.symbol_size(scale=1, border=border)[0]) * module
    return "".join(parts), side


def emblem_svg() -> str:
    """The emblem shown on boards (the ``board_emblem`` static file; replace it with the official emblem)."""
    path = finders.find(settings.DOANSO_SITES.get("board_emblem", "sites/emblem.svg"))
    if not path:
        return ""
    with open(path, encoding="utf-8") as file:
        text = file.read()
    return text[text.index("<svg") :]


def short_text(site: Site) -> str:
    text = " ".join((site.summary or "").split())
    if len(text) > SUMMARY_CHARS:
        text = text[: SUMMARY_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return text


def board_context(request, site: Site) -> dict:
    url = public_url(request, site)
    marker = getattr(site, "marker", None) if hasattr(site, "marker") else None
    return {
        "site": site,
        "marker": marker,
        "url": url,
        "short_url": url.split("://", 1)[-1],
        "summary": short_text(site),
        "emblem": emblem_svg(),
        "union_name": settings.DOANSO_SITES.get("board_heading", "ĐOÀN TNCS HỒ CHÍ MINH"),
    }


def board_pdf(request, site: Site, size: str) -> bytes:
    from doanso.core.pdf import render_pdf

    spec = BOARDS[size]
    context = board_context(request, site)
    context.update(
        {
            "page": spec["page"],
            "height": spec["height"],
            "qr_mm": spec["qr_mm"],
            "size": size,
            "qr": qr_svg_data_uri(context["url"]),
        }
    )
    return render_pdf("sites/board_pdf.html", context, request=request)


def board_svg(request, site: Site) -> bytes:
    """The large board (2.2 × 1.2 m) as one vector SVG in millimetres: text as text, the code as a path."""
    from django.utils.translation import gettext as _

    context = board_context(request, site)
    width, height = LARGE_BOARD_MM
    margin = 80
    qr_x = width - margin - LARGE_QR_MM
    qr_y = (height - LARGE_QR_MM) / 2 - 40
    module_count = qr_matrix(context["url"]).symbol_size(scale=1, border=4)[0]
    path, side = qr_path(context["url"], LARGE_QR_MM / module_count, qr_x, qr_y)
    red, ink = "#c8102e", "#1b1b1b"
    kind = site.kind_label.upper()
    if context["marker"] is not None:
        kind += f" · {_('No.')} {context['marker'].label}"
    texts = [
        {"x": margin + 200, "y": margin + 75, "size": 62, "bold": True, "fill": red, "text": context["union_name"]},
        {"x": margin + 200, "y": margin + 150, "size": 50, "fill": ink, "text": site.unit.name},
        {"x": margin, "y": margin + 300, "size": 48, "fill": "#a50e24", "text": kind},
    ]
    y = margin + 430
    for line in _wrap(site.name, 24)[:3]:
        texts.append({"x": margin, "y": y, "size": 110, "bold": True, "fill": ink, "text": line})
        y += 130
    y += 30
    for line in _wrap(context["summary"], 50)[:6]:
        texts.append({"x": margin, "y": y, "size": 44, "fill": ink, "text": line})
        y += 62
    # Under the code, centred on it and wrapped to its width.
    centre, y = qr_x + side / 2, qr_y + side + 55
    for line in [*_wrap(_("Scan to see photos, video and the audio guide"), 28), context["short_url"]]:
        texts.append(
            {
                "x": f"{centre:.1f}",
                "y": f"{y:.1f}",
                "size": 38,
                "bold": True,
                "fill": ink,
                "text": line,
                "anchor": "middle",
            }
        )
        y += 52
    context.update(
        {
            "width": width,
            "height": height,
            "frame_w": width - 40,
            "frame_h": height - 40,
            "margin": margin,
            "qr_path": path,
            "qr_x": f"{qr_x:.3f}",
            "qr_y": f"{qr_y:.3f}",
            "qr_side": f"{side:.3f}",
            "texts": texts,
        }
    )
    return render_to_string("sites/board.svg", context).encode()


def _wrap(text: str, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    if line:
        lines.append(line)
    return lines
