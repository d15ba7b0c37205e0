"""QR codes (segno): one place that decides size, error correction and output formats."""

import io

import segno


def qr_png(data: str, *, scale: int = 8, border: int = 4) -> bytes:
    """A PNG of the QR code; level M survives a scratched print, and the quiet zone of 4 modules is the
    standard's, which decoders rely on."""
    buffer = io.BytesIO()
    segno.make(data, error="m", micro=False).save(buffer, kind="png", scale=scale, border=border)
    return buffer.getvalue()


def qr_svg_data_uri(data: str, *, scale: int = 4, border: int = 4) -> str:
    return segno.make(data, error="m", micro=False).svg_data_uri(scale=scale, border=border)


def qr_png_data_uri(data: str, *, scale: int = 8) -> str:
    import base64

    return "data:image/png;base64," + base64.b64encode(qr_png(data, scale=scale)).decode()
