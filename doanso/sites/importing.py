"""Importing and exporting sites and border markers: CSV/XLSX/XLS/ODS, KML and GeoJSON.

Spreadsheets are read with the member import's reader (``members.importing.read_sheet`` and ``detect_header``),
so the same files open the same way: encodings, title blocks above the header, merged cells, damaged or
password-protected files refused with a message. KML placemarks and GeoJSON features become the same rows
(their name, their point, their properties / ExtendedData under the same column names).

Every row is checked before anything is written — kind and rank, coordinates inside Vietnam (and swapped ones
named), the commune (the 2025 commune by name or code, or an old address converted), marker numbers unique in
the file and in the database — and every problem is reported at its row and column. The import then runs as a
task like a member import: a check only (dry run) with the error report, or the import, all or nothing unless
the person asks for the valid rows only.
"""

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.tasks import task
from django.utils import translation
from django.utils.translation import gettext as _

from doanso.core.tasks import Progress, tracked
from doanso.core.text import fold, nfc
from doanso.members.importing import (
    DivisionResolver,
    ImportFileError,
    RowError,
    detect_header,
    header_key,
    read_file,
    read_sheet,
    shown,
)
from doanso.org.models import AdministrativeDivision, DivisionLevel

from .models import BorderMarker, MarkerForm, MarkerRole, RelicRank, Site, SiteKind

# Our columns: the key, the header of our export, and other spellings found in files (compared folded).
COLUMNS = [
    ("name", "Tên địa điểm", ["ten", "ten di tich", "ten dia chi do", "name", "site"]),
    ("name_en", "Tên tiếng Anh", ["name en", "english name", "ten tieng anh"]),
    ("kind", "Loại", ["loai dia diem", "phan loai", "kind", "type"]),
    ("rank", "Xếp hạng", ["cap di tich", "cap xep hang", "rank"]),
    ("marker", "Số mốc", ["so hieu moc", "cot moc", "moc so", "marker", "marker number", "number"]),
    ("role", "Loại mốc", ["mốc chính/phụ", "marker type", "role"]),
    ("form", "Hình thức mốc", ["hinh thuc", "form"]),
    ("border_section", "Đoạn biên giới", ["tuyen bien gioi", "border section"]),
    ("lao_province", "Tỉnh của Lào", ["tinh lao", "tinh tiep giap", "lao province"]),
    ("commune", "Xã/phường", ["xa", "phuong", "xa phuong", "xa / phuong", "commune", "ward"]),
    ("street_address", "Địa chỉ", ["dia chi", "thon", "address"]),
    ("legacy_address", "Địa chỉ trước 2025", ["dia chi cu", "legacy address", "old address"]),
    ("latitude", "Vĩ độ", ["vi do", "lat", "latitude", "y"]),
    ("longitude", "Kinh độ", ["kinh do", "lon", "lng", "long", "longitude", "x"]),
    ("summary", "Tóm tắt", ["gioi thieu", "mo ta", "description", "summary"]),
    ("history", "Lịch sử", ["lich su", "history"]),
    ("visiting_hours", "Giờ mở cửa", ["gio tham quan", "visiting hours"]),
    ("video_url", "Video", ["link video", "video url", "video"]),
]
HEADERS = {key: header for key, header, _aliases in COLUMNS}
_ALIASES = {}
for _key, _header, _aliases in COLUMNS:
    for _alias in [_header, *_aliases]:
        _ALIASES[header_key(_alias)] = _key


def _labels(enum) -> dict[str, str]:
    """The choices' labels in both languages, folded, and their values: an export in either language reads back."""
    table = {v: v for v in enum.values}
    for language in ("vi", "en"):
        with translation.override(language):
            table.update({fold(str(label)): value for value, label in enum.choices})
    return table


_KINDS = {
    "dia chi do": SiteKind.RED_ADDRESS,
    "di tich": SiteKind.RELIC,
    "di tich lich su": SiteKind.RELIC,
    "cong trinh thanh nien": SiteKind.YOUTH_WORK,
    "tuong dai": SiteKind.MEMORIAL,
    "dai tuong niem": SiteKind.MEMORIAL,
    "nha tuong niem": SiteKind.MEMORIAL,
    "cot moc": SiteKind.BORDER_MARKER,
    "moc": SiteKind.BORDER_MARKER,
    "coc dau": SiteKind.BORDER_MARKER,
    "khac": SiteKind.OTHER,
}
_RANKS = {
    "quoc gia dac biet": RelicRank.SPECIAL_NATIONAL,
    "cap quoc gia dac biet": RelicRank.SPECIAL_NATIONAL,
    "quoc gia": RelicRank.NATIONAL,
    "cap quoc gia": RelicRank.NATIONAL,
    "tinh": RelicRank.PROVINCIAL,
    "cap tinh": RelicRank.PROVINCIAL,
    "thanh pho": RelicRank.PROVINCIAL,
    "cap thanh pho": RelicRank.PROVINCIAL,
}
_ROLES = {
    "chinh": MarkerRole.MAIN,
    "moc chinh": MarkerRole.MAIN,
    "main": MarkerRole.MAIN,
    "phu": MarkerRole.AUXILIARY,
    "moc phu": MarkerRole.AUXILIARY,
    "coc dau": MarkerRole.AUXILIARY,
    "auxiliary": MarkerRole.AUXILIARY,
}
_FORMS = {
    "don": MarkerForm.SINGLE,
    "single": MarkerForm.SINGLE,
    "doi": MarkerForm.DOUBLE,
    "double": MarkerForm.DOUBLE,
    "ba": MarkerForm.TRIPLE,
    "triple": MarkerForm.TRIPLE,
}
_TABLES: dict[str, dict] = {}


def _table(name: str) -> dict[str, str]:
    if name not in _TABLES:
        enum, extra = {
            "kind": (SiteKind, _KINDS),
            "rank": (RelicRank, _RANKS),
            "role": (MarkerRole, _ROLES),
            "form": (MarkerForm, _FORMS),
        }[name]
        _TABLES[name] = {**_labels(enum), **extra}
    return _TABLES[name]


_MARKER_NUMBER = re.compile(r"^(?:moc\s*)?(\d{1,5})(?:\s*[/.(-]\s*(\d{1,3})\)?)?$")

DRY_RUN, ALL_OR_NOTHING, ONLY_VALID = "check", "all", "valid"
KIND_PREFIX = "sites."


@dataclass
class Row:
    number: int  # as the person sees it: spreadsheet row, placemark or feature number
    raw: dict  # column key → raw text
    headers: dict  # column key → the header (or property name) it came from, for the error report
    values: dict = field(default_factory=dict)
    marker: dict | None = None


@dataclass
class Plan:
    rows: list[Row]
    errors: list[RowError]
    file_rows: int

    @property
    def rejected(self) -> int:
        return len({e.row for e in self.errors})

    @property
    def valid(self) -> list[Row]:
        bad = {e.row for e in self.errors}
        return [r for r in self.rows if r.number not in bad]


# --- Reading --------------------------------------------------------------------------------------------------


def _column_key(name: str) -> str | None:
    return _ALIASES.get(header_key(name))


def _rows_from_table(headers: list[str], rows) -> list[Row]:
    keys = [_column_key(h) for h in headers]
    if "name" not in keys:
        raise ImportFileError(
            _("No column with the name of the site (“Tên địa điểm”). The columns are: {columns}.").format(
                columns=", ".join(h for h in headers if h)
            )
        )
    out = []
    for number, cells in rows:
        raw, names = {}, {}
        for index, key in enumerate(keys):
            if key is None or index >= len(cells):
                continue
            text = shown(cells[index])
            if text:
                raw[key], names[key] = text, headers[index]
        if raw:
            out.append(Row(number, raw, names))
    return out


def read_spreadsheet(data: bytes, filename: str) -> list[Row]:
    sheet = read_sheet(data, filename)
    header = detect_header(sheet)
    return _rows_from_table(header.columns, sheet.rows[header.data_from :])


def _kml_tag(element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def read_kml(data: bytes) -> list[Row]:
    # KML needs no DTD; refusing one keeps entity tricks (billion laughs, external entities) out of the parser.
    if b"<!DOCTYPE" in data[:4096].upper() or b"<!ENTITY" in data.upper():
        raise ImportFileError(_("The KML file contains a DOCTYPE or entities, which KML does not use."))
    try:
        root = ET.fromstring(data)  # noqa: S314 - no DOCTYPE or entity reaches the parser (checked above)
    except ET.ParseError as exc:
        raise ImportFileError(
            _("The KML file is not valid XML (line {line}): it cannot be read.").format(line=exc.position[0])
        ) from None
    rows = []
    placemarks = [el for el in root.iter() if _kml_tag(el) == "Placemark"]
    if not placemarks:
        raise ImportFileError(_("The KML file has no placemark."))
    for number, placemark in enumerate(placemarks, start=1):
        raw, names = {}, {}
        geometry = None
        for child in placemark.iter():
            tag = _kml_tag(child)
            if tag == "name" and child.text and "name" not in raw:
                raw["name"], names["name"] = nfc(child.text), "name"
            elif tag == "description" and child.text:
                raw["summary"], names["summary"] = nfc(re.sub(r"<[^>]+>", " ", child.text)), "description"
            elif tag == "Data":
                key = _column_key(child.get("name", ""))
                value = next((v.text for v in child if _kml_tag(v) == "value"), None)
                if key and value:
                    raw[key], names[key] = nfc(value), child.get("name", "")
            elif tag == "SimpleData":
                key = _column_key(child.get("name", ""))
                if key and child.text:
                    raw[key], names[key] = nfc(child.text), child.get("name", "")
            elif tag in ("Point", "LineString", "Polygon", "MultiGeometry", "LinearRing") and geometry is None:
                geometry = child
        row = Row(number, raw, names)
        _kml_point(row, geometry)
        rows.append(row)
    return rows


def _kml_point(row: Row, geometry) -> None:
    row.headers["latitude"] = row.headers["longitude"] = "Point"
    if geometry is None:
        row.raw["_geometry"] = _("The placemark has no point (coordinates).")
        return
    if _kml_tag(geometry) != "Point":
        row.raw["_geometry"] = _("The placemark is a {shape}, not a point.").format(shape=_kml_tag(geometry))
        return
    text = next((c.text for c in geometry.iter() if _kml_tag(c) == "coordinates"), None) or ""
    parts = text.strip().split(",")
    if len(parts) < 2 or not parts[0].strip() or not parts[1].strip():
        row.raw["_geometry"] = _("The point's coordinates “{text}” are not “longitude,latitude”.").format(
            text=text.strip()
        )
        return
    # KML writes longitude first.
    row.raw["longitude"], row.raw["latitude"] = parts[0].strip(), parts[1].strip()


def read_geojson(data: bytes) -> list[Row]:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ImportFileError(_("The GeoJSON file is not valid JSON: it cannot be read.")) from None
    if isinstance(doc, dict) and doc.get("type") == "Feature":
        doc = {"type": "FeatureCollection", "features": [doc]}
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise ImportFileError(_("The GeoJSON file is not a FeatureCollection."))
    rows = []
    for number, feature in enumerate(doc["features"], start=1):
        props = feature.get("properties") if isinstance(feature, dict) else None
        raw, names = {}, {}
        for name, value in (props or {}).items():
            key = _column_key(str(name))
            if key and value not in (None, ""):
                raw[key], names[key] = nfc(str(value)), str(name)
        row = Row(number, raw, names)
        row.headers["latitude"] = row.headers["longitude"] = "geometry"
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if not isinstance(geometry, dict) or geometry.get("type") != "Point":
            kind = geometry.get("type") if isinstance(geometry, dict) else None
            row.raw["_geometry"] = (
                _("The feature is a {shape}, not a point.").format(shape=kind)
                if kind
                else _("The feature has no point.")
            )
        elif not (
            isinstance(coords, list) and len(coords) >= 2 and all(isinstance(c, int | float) for c in coords[:2])
        ):
            row.raw["_geometry"] = _("The point's coordinates are not [longitude, latitude].")
        else:
            row.raw["longitude"], row.raw["latitude"] = str(coords[0]), str(coords[1])
        rows.append(row)
    return rows


def read_rows(data: bytes, filename: str) -> list[Row]:
    name = filename.lower()
    if name.endswith(".kml"):
        return read_kml(data)
    if name.endswith((".geojson", ".json")):
        return read_geojson(data)
    if name.endswith(".kmz"):
        raise ImportFileError(_("KMZ is a zipped KML: unzip it and upload the .kml file inside."))
    return read_spreadsheet(data, filename)


# --- Checking -------------------------------------------------------------------------------------------------


class _Communes:
    """Communes by name within the unit's province, by official code, or from an old address."""

    def __init__(self, unit):
        self.resolver = DivisionResolver()
        province = unit.division.province if unit.division and unit.division.province_id else unit.division
        # ASSUMPTION: a file without the province name means the province of the importing unit, or Đà Nẵng.
        self.province = province or AdministrativeDivision.objects.filter(code="48").first()
        self.by_pk = {}

    def find(self, text: str) -> AdministrativeDivision | None:
        code = text.strip()
        if code.isdigit():
            return AdministrativeDivision.objects.filter(code=code.zfill(5), level=DivisionLevel.COMMUNE).first()
        for candidate in (f"{text}, {self.province.name}" if self.province else None, text):
            if candidate is None:
                continue
            pk, _rest = self.resolver.resolve(candidate)
            if pk is not None:
                if pk not in self.by_pk:
                    self.by_pk[pk] = AdministrativeDivision.objects.filter(pk=pk).select_related("province").first()
                division = self.by_pk[pk]
                if division is not None and division.level == DivisionLevel.COMMUNE:
                    return division
        return None


def _error(errors: list, row: Row, key: str, message: str) -> None:
    errors.append(RowError(row.number, row.headers.get(key, HEADERS.get(key, key)), row.raw.get(key, ""), message))


def build_plan(rows: list[Row], unit) -> Plan:
    from . import services

    errors: list[RowError] = []
    communes = _Communes(unit)
    numbers_in_file: dict[tuple, int] = {}
    wanted = set()
    for row in rows:
        raw = row.raw
        values = {"name": raw.get("name", "")}
        for key in ("name_en", "summary", "history", "visiting_hours", "street_address", "legacy_address", "video_url"):
            if raw.get(key):
                values[key] = raw[key]
        kind_text = fold(raw.get("kind", ""))
        if raw.get("marker") and not kind_text:
            kind_text = "cot moc"
        kind = _table("kind").get(kind_text) if kind_text else SiteKind.RED_ADDRESS
        if kind is None:
            _error(
                errors,
                row,
                "kind",
                _("Unknown kind; use one of: {kinds}.").format(
                    kinds=", ".join(str(label) for _v, label in SiteKind.choices)
                ),
            )
        else:
            values["kind"] = kind
        if raw.get("rank"):
            text = fold(raw["rank"])
            rank = _table("rank").get(text) or _table("rank").get(text.replace("di tich ", ""))
            if rank is None:
                _error(errors, row, "rank", _("Unknown rank; use national, special national or provincial."))
            else:
                values["rank"] = rank
        if "_geometry" in raw:
            errors.append(RowError(row.number, row.headers.get("latitude", ""), "", raw["_geometry"]))
        else:
            values["latitude"], values["longitude"] = raw.get("latitude", ""), raw.get("longitude", "")
        if raw.get("commune"):
            division = communes.find(raw["commune"])
            if division is None:
                _error(
                    errors,
                    row,
                    "commune",
                    _("Unknown commune or ward “{name}” (2025 divisions).").format(name=raw["commune"]),
                )
            else:
                values["division"] = division
        if kind == SiteKind.BORDER_MARKER:
            row.marker = _marker(row, errors, numbers_in_file, wanted)
        try:
            values = services.clean_site_data(values)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                for message in messages:
                    key = {"division": "commune"}.get(key, key)
                    _error(errors, row, key if key in HEADERS else "name", message)
        row.values = values
    # Marker numbers already in the database: one query for the whole file.
    if wanted:
        taken = set(BorderMarker.objects.filter(number__in={n for n, _s in wanted}).values_list("number", "sub_number"))
        for row in rows:
            if row.marker and (row.marker["number"], row.marker["sub_number"]) in taken:
                _error(errors, row, "marker", _("Marker {label} already exists.").format(label=row.raw["marker"]))
    errors.sort(key=lambda e: e.row)
    return Plan(rows, errors, len(rows))


def _marker(row: Row, errors, numbers_in_file: dict, wanted: set) -> dict | None:
    text = fold(row.raw.get("marker", ""))
    match = _MARKER_NUMBER.match(text)
    if not match:
        _error(errors, row, "marker", _("Give the marker number (678, or 677/1 for an auxiliary marker)."))
        return None
    number, sub = int(match.group(1)), int(match.group(2) or 0)
    role = _table("role").get(fold(row.raw.get("role", ""))) if row.raw.get("role") else None
    if row.raw.get("role") and role is None:
        _error(errors, row, "role", _("Unknown marker type; use main or auxiliary."))
    form = _table("form").get(fold(row.raw.get("form", ""))) if row.raw.get("form") else MarkerForm.SINGLE
    if form is None:
        _error(errors, row, "form", _("Unknown form; use single, double or triple."))
    key = (number, sub)
    if key in numbers_in_file:
        _error(
            errors,
            row,
            "marker",
            _("Marker {label} is also in row {other} of the file.").format(
                label=row.raw["marker"], other=numbers_in_file[key]
            ),
        )
    numbers_in_file.setdefault(key, row.number)
    wanted.add(key)
    return {
        "number": number,
        "sub_number": sub,
        "role": role or (MarkerRole.AUXILIARY if sub else MarkerRole.MAIN),
        "form": form or MarkerForm.SINGLE,
        "border_section": row.raw.get("border_section", ""),
        "lao_province": row.raw.get("lao_province", ""),
    }


# --- Writing --------------------------------------------------------------------------------------------------


class ImportRefused(Exception):
    pass


def commit_plan(plan: Plan, *, actor, unit, only_valid: bool) -> int:
    """Create the sites of the plan (as drafts, through the service): all or nothing unless ``only_valid``."""
    from . import services

    if plan.errors and not only_valid:
        raise ImportRefused(
            _("Nothing was imported: {count} rows have problems. Correct them, or import only the valid rows.").format(
                count=plan.rejected
            )
        )
    created = 0
    with transaction.atomic():
        for row in plan.valid:
            values = {k: v for k, v in row.values.items() if k in services.SITE_FIELDS}
            try:
                services.create_site(actor=actor, unit=unit, marker=row.marker, **values)
            except ValidationError as exc:
                # Something changed since the check (a marker number taken meanwhile): nothing is kept.
                problems = "; ".join(m for messages in exc.message_dict.values() for m in messages)
                raise ImportRefused(
                    _("Row {row}: {problems}. Nothing was imported; run the import again.").format(
                        row=row.number, problems=problems
                    )
                ) from None
            created += 1
    return created


def _plan(progress: Progress, storage_name: str, filename: str, unit):
    rows = read_rows(read_file(storage_name), filename)
    progress.start(len(rows), _("Checking"))
    return build_plan(rows, unit)


@task
@tracked
def import_sites(
    progress: Progress, *, storage_name: str, filename: str, unit_id: int, actor_id: int, mode: str, language: str = ""
) -> dict:
    from django.contrib.auth import get_user_model

    from doanso.core.models import private_storage
    from doanso.org.models import Unit

    with translation.override(language or settings.LANGUAGE_CODE):
        unit = Unit.objects.get(pk=unit_id)
        actor = get_user_model().objects.get(pk=actor_id)
        try:
            try:
                plan = _plan(progress, storage_name, filename, unit)
            except ImportFileError as exc:
                progress.attach_errors([{"row": "", "column": "", "value": "", "message": str(exc)}])
                progress.run.message = str(exc)[:500]
                return {"rows": 0, "errors": 1, "created": 0}
            progress.attach_errors(e.as_dict() for e in plan.errors)
            summary = {"rows": plan.file_rows, "errors": plan.rejected, "created": 0}
            if mode == DRY_RUN:
                progress.run.message = _(
                    "Checked {rows} rows: {valid} valid, {errors} rejected. Nothing was written."
                ).format(rows=plan.file_rows, valid=len(plan.valid), errors=plan.rejected)
                return summary
            try:
                summary["created"] = commit_plan(plan, actor=actor, unit=unit, only_valid=mode == ONLY_VALID)
            except ImportRefused as exc:
                progress.run.message = str(exc)[:500]
                return summary
            progress.run.message = _("Imported {created} sites as drafts; {errors} rows rejected.").format(
                created=summary["created"], errors=plan.rejected
            )
            return summary
        finally:
            if mode != DRY_RUN:
                private_storage().delete(storage_name)


# --- Export ---------------------------------------------------------------------------------------------------

EXPORT_KEYS = [key for key, _h, _a in COLUMNS]


def export_rows(sites) -> list[list[str]]:
    rows = []
    for s in sites:
        marker = getattr(s, "marker", None) if s.kind == SiteKind.BORDER_MARKER else None
        values = {
            "name": s.name,
            "name_en": s.name_en,
            "kind": str(SiteKind(s.kind).label),
            "rank": str(RelicRank(s.rank).label) if s.rank else "",
            "marker": marker.label if marker else "",
            "role": marker.get_role_display() if marker else "",
            "form": marker.get_form_display() if marker else "",
            "border_section": marker.border_section if marker else "",
            "lao_province": marker.lao_province if marker else "",
            "commune": s.division.code if s.division else "",
            "street_address": s.street_address,
            "legacy_address": s.legacy_address,
            "latitude": str(s.latitude) if s.latitude is not None else "",
            "longitude": str(s.longitude) if s.longitude is not None else "",
            "summary": s.summary,
            "history": s.history,
            "visiting_hours": s.visiting_hours,
            "video_url": s.video_url,
        }
        rows.append([values[k] for k in EXPORT_KEYS])
    return rows


def export_csv(sites) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([HEADERS[k] for k in EXPORT_KEYS])
    writer.writerows(export_rows(sites))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def export_xlsx(sites) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Địa điểm")
    sheet.append([HEADERS[k] for k in EXPORT_KEYS])
    for row in export_rows(sites):
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def export_kml(sites) -> bytes:
    ns = "http://www.opengis.net/kml/2.2"
    ET.register_namespace("", ns)
    kml = ET.Element(f"{{{ns}}}kml")
    document = ET.SubElement(kml, f"{{{ns}}}Document")
    ET.SubElement(document, f"{{{ns}}}name").text = "Đoàn Số"
    for s, row in zip(sites, export_rows(sites), strict=True):
        placemark = ET.SubElement(document, f"{{{ns}}}Placemark")
        ET.SubElement(placemark, f"{{{ns}}}name").text = s.name
        extended = ET.SubElement(placemark, f"{{{ns}}}ExtendedData")
        for key, value in zip(EXPORT_KEYS, row, strict=True):
            if value and key not in ("name", "latitude", "longitude"):
                data = ET.SubElement(extended, f"{{{ns}}}Data", name=HEADERS[key])
                ET.SubElement(data, f"{{{ns}}}value").text = value
        if s.latitude is not None:
            point = ET.SubElement(placemark, f"{{{ns}}}Point")
            ET.SubElement(point, f"{{{ns}}}coordinates").text = f"{s.longitude},{s.latitude}"
    return ET.tostring(kml, encoding="utf-8", xml_declaration=True)


def export_geojson(sites) -> bytes:
    features = []
    for s, row in zip(sites, export_rows(sites), strict=True):
        props = {
            HEADERS[k]: v for k, v in zip(EXPORT_KEYS, row, strict=True) if v and k not in ("latitude", "longitude")
        }
        geometry = (
            {"type": "Point", "coordinates": [float(s.longitude), float(s.latitude)]}
            if s.latitude is not None
            else None
        )
        features.append({"type": "Feature", "geometry": geometry, "properties": props})
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, indent=1).encode()


def export_queryset(sites):
    return (
        Site.objects.filter(pk__in=sites.values("pk")).select_related("division", "marker").order_by("kind", "sort_key")
    )
