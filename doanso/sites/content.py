"""Checking what editors send: rich text, coordinates, photos, media files and video links.

Every check raises ``ValidationError`` with a Vietnamese-translatable message that names what is wrong, so the
form shows it at the field and nothing is saved.
"""

import io
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

import nh3
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.html import escape
from django.utils.translation import gettext as _

# --- Rich text ------------------------------------------------------------------------------------------------

ALLOWED_TAGS = {"p", "br", "strong", "b", "em", "i", "u", "h2", "h3", "h4", "ul", "ol", "li", "blockquote", "a"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
# Content that can run code: refused with a message rather than silently dropped, so that the editor knows that
# what they pasted (often from a web page with embedded players or trackers) is not what the page will show.
_ACTIVE = re.compile(
    r"<\s*(script|iframe|object|embed|style|form|input|svg|math|link|meta|base)\b|\son[a-z]+\s*=|"
    r"(?:java|vb)script\s*:|data\s*:\s*text/html",
    re.IGNORECASE,
)
_BLOCK = re.compile(r"<\s*(p|ul|ol|h[2-4]|blockquote)\b", re.IGNORECASE)


def clean_rich_text(value: str, field: str = "history") -> str:
    """Sanitised HTML for the public page. Plain text (no tags) becomes paragraphs at blank lines."""
    value = (value or "").strip()
    if not value:
        return ""
    if _ACTIVE.search(value):
        raise ValidationError(
            {
                field: _(
                    "The text contains script or embedded code (script, iframe, event handlers, javascript: "
                    "links), which the public page does not allow. Remove it and save again."
                )
            }
        )
    if "<" not in value:
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", value) if p.strip()]
        value = "".join("<p>" + escape(p).replace("\n", "<br>") + "</p>" for p in paragraphs)
        return value
    cleaned = nh3.clean(
        value,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer nofollow",
    )
    if not _BLOCK.search(cleaned):
        cleaned = f"<p>{cleaned}</p>"
    return cleaned


# --- Coordinates ----------------------------------------------------------------------------------------------

# ASSUMPTION (docs/decisions/0005-site-coordinates.md): "in Vietnam" is checked against the extent of the
# mainland and near-shore islands plus the Hoàng Sa and Trường Sa archipelagos, not against the border line,
# whose official geometry the platform does not carry. A point in Laos or Cambodia close to the border passes;
# one in the sea east of the coast, in China north of 23.4° or anywhere else in the world does not.
VIETNAM_BOXES = (
    # (south, north, west, east)
    (Decimal("8.30"), Decimal("23.40"), Decimal("102.14"), Decimal("109.50")),  # mainland, Phú Quốc, Côn Đảo
    (Decimal("15.60"), Decimal("17.20"), Decimal("111.00"), Decimal("112.80")),  # Hoàng Sa
    (Decimal("6.50"), Decimal("12.00"), Decimal("111.50"), Decimal("117.90")),  # Trường Sa
)


def in_vietnam(lat: Decimal, lon: Decimal) -> bool:
    return any(s <= lat <= n and w <= lon <= e for s, n, w, e in VIETNAM_BOXES)


def to_decimal(value, field: str) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        text = str(value).strip().replace(",", ".")
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        raise ValidationError(
            {field: _("“{value}” is not a number in decimal degrees (e.g. 15.880123).").format(value=value)}
        ) from None
    if not number.is_finite():
        raise ValidationError({field: _("“{value}” is not a number in decimal degrees.").format(value=value)})
    return number.quantize(Decimal("0.000001"))


def check_coordinates(lat, lon) -> tuple[Decimal | None, Decimal | None]:
    """Both or neither, each a number, the pair inside Vietnam; a swapped pair is recognised and named."""
    lat = to_decimal(lat, "latitude")
    lon = to_decimal(lon, "longitude")
    if lat is None and lon is None:
        return None, None
    if lat is None:
        raise ValidationError({"latitude": _("Give the latitude together with the longitude.")})
    if lon is None:
        raise ValidationError({"longitude": _("Give the longitude together with the latitude.")})
    if in_vietnam(lat, lon):
        return lat, lon
    if in_vietnam(lon, lat):
        raise ValidationError(
            {
                "latitude": _(
                    "Latitude and longitude seem swapped: in Vietnam the latitude is between 8 and 23.5 and the "
                    "longitude between 102 and 118. Did you mean {lat}, {lon}?"
                ).format(lat=lon, lon=lat)
            }
        )
    raise ValidationError(
        {
            "latitude": _(
                "The point {lat}, {lon} is not in Vietnam. Check the coordinates (decimal degrees, latitude first)."
            ).format(lat=lat, lon=lon)
        }
    )


# --- Photos ---------------------------------------------------------------------------------------------------

LARGE = 1600  # longest side of the stored photo: sharp on any phone and on a laptop
THUMB = 480  # longest side of the thumbnail used in lists and the gallery
MAX_PIXELS = 60_000_000  # beyond this (or a "decompression bomb") the file is refused


@dataclass
class ProcessedImage:
    large: bytes
    thumbnail: bytes
    width: int
    height: int


def _limit(kind: str) -> int:
    megabytes: Any = settings.DOANSO_SITES[f"max_{kind}_mb"]
    return int(megabytes) * 1024 * 1024


def _too_big(upload, kind: str, field: str) -> None:
    limit = _limit(kind)
    if upload.size > limit:
        raise ValidationError(
            {
                field: _("The file “{name}” is {size} MB; at most {limit} MB is accepted.").format(
                    name=upload.name, size=round(upload.size / 1024 / 1024, 1), limit=limit // 1024 // 1024
                )
            }
        )


def process_photo(upload, field: str = "image") -> ProcessedImage:
    """The photo resized (exif rotation applied, metadata such as GPS of the camera dropped) and its thumbnail,
    both JPEG. Anything that is not a readable JPEG, PNG, WebP or GIF image is refused."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    _too_big(upload, "photo", field)
    not_image = ValidationError(
        {field: _("The file “{name}” is not an image that can be read (JPEG, PNG, WebP).").format(name=upload.name)}
    )
    upload.seek(0)
    data = upload.read()
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in {"JPEG", "PNG", "WEBP", "GIF", "MPO"}:
                raise not_image
            if probe.width * probe.height > MAX_PIXELS:
                raise ValidationError(
                    {field: _("The image is too large ({w} × {h} pixels).").format(w=probe.width, h=probe.height)}
                )
            probe.verify()
        with Image.open(io.BytesIO(data)) as original:
            original.load()
            image = ImageOps.exif_transpose(original)
            image = image.convert("RGB")
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise not_image from None

    def encoded(size: int, quality: int) -> tuple[bytes, int, int]:
        copy = image.copy()
        copy.thumbnail((size, size), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        copy.save(buffer, format="JPEG", quality=quality, optimize=True, progressive=True)
        return buffer.getvalue(), copy.width, copy.height

    large, width, height = encoded(LARGE, 82)
    thumb, _w, _h = encoded(THUMB, 76)
    return ProcessedImage(large, thumb, width, height)


# --- Other media ----------------------------------------------------------------------------------------------

# (magic bytes at offset, offset) per accepted format: the extension alone proves nothing.
_SIGNATURES = {
    "video": [(b"ftyp", 4), (b"\x1aE\xdf\xa3", 0)],  # MP4/MOV, WebM
    "audio": [(b"ID3", 0), (b"\xff\xfb", 0), (b"\xff\xf3", 0), (b"\xff\xf2", 0), (b"ftyp", 4), (b"OggS", 0)],
    "document": [(b"%PDF-", 0)],
}
_WAV = (b"RIFF", b"WAVE")
_TYPES = {"video": "video/mp4", "audio": "audio/mpeg", "document": "application/pdf"}
# The stored file's extension follows the detected format, never the uploaded name ("x.html" starting with %PDF-
# must not be served as a web page).
EXTENSIONS = {
    "video/mp4": "mp4",
    "video/webm": "webm",
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
    "audio/ogg": "ogg",
    "audio/wav": "wav",
    "application/pdf": "pdf",
}
_ACCEPTED = {
    "video": "MP4, MOV, WebM",
    "audio": "MP3, M4A, OGG, WAV",
    "document": "PDF",
}


def check_media_file(upload, kind: str, field: str = "file") -> str:
    """Refuse a file of the wrong format or size; return its content type."""
    _too_big(upload, kind, field)
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    ok = any(head[offset : offset + len(magic)] == magic for magic, offset in _SIGNATURES[kind])
    if kind == "audio" and head[:4] == _WAV[0] and head[8:12] == _WAV[1]:
        ok = True
    if not ok:
        raise ValidationError(
            {
                field: _("The file “{name}” is not in an accepted format for this kind ({formats}).").format(
                    name=upload.name, formats=_ACCEPTED[kind]
                )
            }
        )
    if kind == "video" and head[:4] == b"\x1aE\xdf\xa3":
        return "video/webm"
    if kind == "audio" and head[4:8] == b"ftyp":
        return "audio/mp4"
    if kind == "audio" and head[:4] == b"OggS":
        return "audio/ogg"
    if kind == "audio" and head[:4] == b"RIFF":
        return "audio/wav"
    return _TYPES[kind]


VIDEO_HOSTS = ("youtube.com", "youtu.be", "facebook.com", "fb.watch", "tiktok.com", "vimeo.com")


def check_video_url(url: str) -> str:
    url = (url or "").strip()
    if not url:
        return ""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or not any(host == h or host.endswith("." + h) for h in VIDEO_HOSTS):
        raise ValidationError(
            {
                "video_url": _(
                    "Give an https link to the video on YouTube, Facebook, TikTok or Vimeo, or upload the video file."
                )
            }
        )
    return url
