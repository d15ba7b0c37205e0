"""PDF documents (WeasyPrint) from templates: member cards, transfer letters, certificates, QR boards.

Fonts: WeasyPrint uses the system's fonts through fontconfig; scripts/setup installs Noto (fonts-noto-core),
which carries every Vietnamese diacritic. Templates name "Noto Sans" first.
"""

from django.http import HttpResponse
from django.template.loader import render_to_string


def render_pdf(template: str, context: dict, request=None) -> bytes:
    from weasyprint import HTML

    html = render_to_string(template, context, request=request)
    base_url = request.build_absolute_uri("/") if request is not None else "http://localhost/"
    return HTML(string=html, base_url=base_url).write_pdf()


def pdf_response(content: bytes, filename: str, *, inline: bool = True) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response
