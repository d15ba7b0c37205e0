"""Importing members from spreadsheets: reading the file, the column mapping, checking every value, the plan.

The flow (pages, the background task and ``manage.py import_members`` all follow it):

1. :func:`read_sheet` opens XLSX, XLSM, XLS, ODS (python-calamine) or CSV (encoding sniffed: UTF-8 with or without
   byte-order mark, UTF-16, Windows-1258) and refuses, with a precise message, what is not a readable spreadsheet:
   an empty, damaged or password-protected file, a PDF or a Word document. Merged cells are filled with their
   value (a unit name merged over the rows of its members counts for each of them).
2. :func:`detect_header` finds the header row below a title block (government templates start with a title and
   a "STT" column), joins a second header row ("Ngày sinh" over "Nam" / "Nữ" becomes "Ngày sinh / Nam") and skips
   the row of column numbers "(1) (2) (3)…" that such templates carry.
3. The mapping says which column feeds which field of the member record: guessed from the headers
   (:func:`guess_mapping`, Vietnamese and English spellings, diacritics ignored), taken from a saved
   :class:`~doanso.members.models.ImportMapping`, or one of :data:`BUILTIN_MAPPINGS`.
4. :func:`build_plan` checks every cell and every row (dates, citizen IDs against the date of birth and sex,
   the admission age, units inside the target unit, duplicates in the file and in the registry) and decides
   for each valid row: create, update or unchanged. Every problem is a :class:`RowError` with the row number
   as the spreadsheet shows it, the column header, the raw value and a message.
5. ``services.imports.import_member_sheet`` writes in one transaction: everything or, only when the person asks
   for it explicitly, the valid rows. On PostgreSQL it writes each chunk of new members while the next chunk is
   checked (decision 0008); ``commit_member_import`` writes a plan checked beforehand.

Rules that decide what a row means (each deliberate; see the tests named after them):

- **Identity.** A row is the member with the same citizen ID (anywhere in the registry: the ID is unique); a
  row without one is the member of the target unit's subtree with the same name and date of birth, if exactly
  one. Two rows of one file that are the same person (same citizen ID, same card number, or same name and date
  of birth without an ID) are all rejected: the file does not say which one is right.
- **Updates never erase.** An empty cell keeps what the registry has; an import adds and corrects data.
  Identical data is "unchanged" and writes nothing, so importing the same file twice changes nothing.
- **Duplicates** (a row that is an existing member with different data) are updated or rejected, as the person
  chooses. An import never moves a member to another unit: that is a transfer, with its own record.
- **Units** are given by code or by name (diacritics, case and punctuation ignored), only among the active
  units of the target unit's subtree, so a file cannot write outside the importing person's scope. A row
  without a unit goes to the target unit.
- **Old addresses** ("Xã Hòa Liên, Huyện Hòa Vang, Thành phố Đà Nẵng") are converted to the 2025 commune with
  ``org.divisions.convert_legacy_address``; what cannot be converted surely is kept as text and only the part
  that is sure (usually the province) is linked.

The built-in layouts:

- :data:`OUR_LAYOUT` is the layout of this platform's own export, so an export can be corrected in Excel and
  imported back. Its "Quê quán" and "Nơi ở hiện nay" cells are "<address>, <commune>, <province>" as
  ``str(AdministrativeDivision)`` writes them, "Địa chỉ" is the street address of the residence.
- :data:`NATIONAL_LAYOUT` is the member list exported by the central union's national member database
  (quanlydoanvien.doanthanhnien.vn). ASSUMPTION: its exact headers are not published; the layout below is
  what that software's list screens show and what exported files seen in circulation use — a title block,
  then "STT, Họ và tên, Ngày sinh, Giới tính, Dân tộc, Tôn giáo, Số CCCD/CMND, Số điện thoại, Email, Quê quán,
  Nơi thường trú, Nơi ở hiện nay, Trình độ văn hóa, Trình độ chuyên môn, Lý luận chính trị, Ngày vào Đoàn,
  Nơi vào Đoàn, Số thẻ đoàn viên, Ngày vào Đảng, Chi đoàn, Ghi chú". "Nơi ở hiện nay" (street, commune,
  province in one cell) is our residence; "Nơi thường trú" (the registered permanent address) is not imported,
  the record having one residence; "Chi đoàn" is matched by name. Any header that differs is guessed or
  mapped by hand on the mapping screen, and the person can save the corrected mapping under its own name.
"""

from __future__ import annotations

import calendar
import contextlib
import csv
import datetime
import functools
import gc
import html
import io
import json
import logging
import re
import sys
import threading
import unicodedata
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

import python_calamine as calamine
from django.conf import settings
from django.core.validators import validate_email
from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.tasks import task
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from doanso.accounts.phones import normalise_phone
from doanso.core.tasks import Progress, tracked
from doanso.core.text import fold, nfc

from .models import ImportMapping, Member, MemberKind, Occupation, PoliticalTheory, Qualification, Sex
from .reference import RELIGIONS, resolve_ethnicity
from .validators import admission_age_errors, citizen_id_errors, normalise_citizen_id, scientific_digits_lost

logger = logging.getLogger(__name__)

# Beyond this a file is refused before it is checked: the plan of 300,000 rows stays well under 1 GB.
MAX_ROWS = getattr(settings, "DOANSO_IMPORT_MAX_ROWS", 300_000)
# Rows looked at to find the header: title blocks of government templates are 3 to 10 rows high.
HEADER_SCAN_ROWS = 30
# Rejected rows shown on the result page; the downloadable report has all of them.
ERRORS_SHOWN = 200
DUPLICATES_UPDATE = "update"
DUPLICATES_REJECT = "reject"
IGNORE = ""  # the mapping value of a column that is not imported


class ImportFileError(Exception):
    """The file cannot be read as a spreadsheet. ``str(exc)`` is the message for the person (translated)."""


class Bad(Exception):
    """A value that cannot be taken; the argument is the message for the person."""


class Masked(Exception):
    """A cell masked by an export ("048*******34"): the file does not give this value."""


def _check_masked(text: str) -> None:
    # Exports mask with "*" or "•"; two plain tests, as this runs for several cells of every row.
    if "*" in text or "•" in text:
        raise Masked


# --- The fields a column can feed ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    key: str
    label: object  # lazy translation
    aliases: tuple[str, ...]
    # Values repeat (sex, ethnic group, unit, dates…): each distinct value is checked once and remembered.
    cached: bool = False


def _t(key, label, aliases, cached=False) -> Target:
    return Target(key, label, tuple(aliases), cached)


TARGETS: list[Target] = [
    _t(
        "full_name",
        gettext_lazy("Full name"),
        ["ho va ten", "ho ten", "ho va ten doan vien", "ho ten doan vien", "ten doan vien", "full name", "name"],
        cached=True,
    ),
    _t("family_name", gettext_lazy("Family name"), ["ho", "family name", "last name", "surname"], cached=True),
    _t("middle_name", gettext_lazy("Middle name"), ["ten dem", "ten lot", "dem", "middle name"], cached=True),
    _t("given_name", gettext_lazy("Given name"), ["ten", "given name", "first name"], cached=True),
    _t("other_names", gettext_lazy("Other names"), ["ten goi khac", "ten khac", "bi danh", "other names"]),
    _t(
        "date_of_birth",
        gettext_lazy("Date of birth"),
        ["ngay sinh", "ngay thang nam sinh", "ngay, thang, nam sinh", "sinh ngay", "nam sinh", "date of birth", "dob"],
        cached=True,
    ),
    _t(
        "date_of_birth_male",
        gettext_lazy("Date of birth, men's column"),
        ["ngay sinh / nam", "ngay thang nam sinh / nam", "nam sinh / nam", "ngay sinh nam"],
        cached=True,
    ),
    _t(
        "date_of_birth_female",
        gettext_lazy("Date of birth, women's column"),
        ["ngay sinh / nu", "ngay thang nam sinh / nu", "nam sinh / nu", "ngay sinh nu"],
        cached=True,
    ),
    _t("sex", gettext_lazy("Sex"), ["gioi tinh", "gioi", "phai", "nam / nu", "nam, nu", "sex", "gender"], cached=True),
    _t("female_mark", gettext_lazy("Woman (marked with x)"), ["nu", "la nu"], cached=True),
    _t("ethnicity", gettext_lazy("Ethnic group"), ["dan toc", "ethnicity", "ethnic group"], cached=True),
    _t("religion", gettext_lazy("Religion"), ["ton giao", "religion"], cached=True),
    _t(
        "citizen_id",
        gettext_lazy("Citizen ID"),
        [
            "so cccd",
            "cccd",
            "so can cuoc",
            "can cuoc",
            "can cuoc cong dan",
            "so can cuoc cong dan",
            "so cccd / cmnd",
            "cccd / cmnd",
            "so cmnd / cccd",
            "cmnd / cccd",
            "so dinh danh",
            "so dinh danh ca nhan",
            "ma dinh danh",
            "so cmnd",
            "cmnd",
            "citizen id",
        ],
    ),
    _t(
        "phone",
        gettext_lazy("Phone"),
        ["so dien thoai", "dien thoai", "sdt", "so dt", "dt", "di dong", "so di dong", "phone", "mobile"],
    ),
    _t("email", gettext_lazy("E-mail"), ["email", "e-mail", "e mail", "thu dien tu", "dia chi email", "gmail"]),
    _t("hometown", gettext_lazy("Hometown"), ["que quan", "nguyen quan", "que", "hometown"], cached=True),
    _t(
        "residence",
        gettext_lazy("Residence (commune)"),
        [
            "noi o hien nay",
            "cho o hien nay",
            "noi o",
            "noi cu tru",
            "noi thuong tru",
            "thuong tru",
            "ho khau thuong tru",
            "residence",
        ],
        cached=True,
    ),
    _t(
        "residence_address",
        gettext_lazy("Street address"),
        ["dia chi", "dia chi cu the", "dia chi lien he", "so nha", "address", "street address"],
    ),
    _t("occupation", gettext_lazy("Occupation"), ["nghe nghiep", "cong viec", "occupation"], cached=True),
    _t("is_salaried", gettext_lazy("Salaried"), ["co luong", "huong luong", "co huong luong", "salaried"], cached=True),
    _t(
        "schooling",
        gettext_lazy("Schooling"),
        ["trinh do hoc van", "hoc van", "trinh do van hoa", "van hoa", "trinh do giao duc pho thong", "schooling"],
        cached=True,
    ),
    _t(
        "qualification",
        gettext_lazy("Qualification"),
        ["chuyen mon", "trinh do chuyen mon", "trinh do chuyen mon nghiep vu", "qualification"],
        cached=True,
    ),
    _t(
        "political_theory",
        gettext_lazy("Political theory"),
        ["ly luan chinh tri", "trinh do ly luan chinh tri", "llct", "chinh tri", "political theory"],
        cached=True,
    ),
    _t(
        "foreign_language",
        gettext_lazy("Foreign language"),
        ["ngoai ngu", "trinh do ngoai ngu", "foreign language"],
        cached=True,
    ),
    _t("it_skill", gettext_lazy("IT skill"), ["tin hoc", "trinh do tin hoc", "it skill"], cached=True),
    _t(
        "joined_on",
        gettext_lazy("Joined the union on"),
        ["ngay vao doan", "ngay ket nap", "ngay ket nap doan", "vao doan", "joined on", "joined the union on"],
        cached=True,
    ),
    _t(
        "admitted_at",
        gettext_lazy("Admitted at"),
        ["noi ket nap", "noi vao doan", "noi ket nap doan", "admitted at"],
        cached=True,
    ),
    _t(
        "card_number",
        gettext_lazy("Card number"),
        ["so the doan vien", "so the doan", "so the", "ma the", "ma doan vien", "card number"],
    ),
    _t(
        "party_joined_on",
        gettext_lazy("Joined the Party on"),
        ["ngay vao dang", "ngay ket nap dang", "vao dang", "joined the party on"],
        cached=True,
    ),
    _t("unit_code", gettext_lazy("Unit (code)"), ["don vi (ma)", "ma don vi", "ma chi doan", "unit code"], cached=True),
    _t(
        "unit_name",
        gettext_lazy("Unit (name)"),
        ["don vi", "chi doan", "ten chi doan", "ten don vi", "chi doan sinh hoat", "thuoc chi doan", "unit"],
        cached=True,
    ),
    _t("kind", gettext_lazy("Organisation"), ["to chuc", "loai", "organisation"], cached=True),
    _t("notes", gettext_lazy("Notes"), ["ghi chu", "notes", "note"]),
]
TARGETS_BY_KEY = {t.key: t for t in TARGETS}
# Headers of columns that are never imported: the running number of government templates.
IGNORED_HEADERS = {"stt", "tt", "so tt", "so thu tu", "no", "no."}

# The export layout of this platform (the lead's export writes exactly these headers, in this order).
OUR_LAYOUT: list[str] = [
    "Họ và tên",
    "Họ",
    "Tên đệm",
    "Tên",
    "Ngày sinh",
    "Giới tính",
    "Dân tộc",
    "Tôn giáo",
    "Số CCCD",
    "Số điện thoại",
    "Email",
    "Quê quán",
    "Nơi ở hiện nay",
    "Địa chỉ",
    "Nghề nghiệp",
    "Có lương",
    "Trình độ học vấn",
    "Chuyên môn",
    "Lý luận chính trị",
    "Ngoại ngữ",
    "Tin học",
    "Ngày vào Đoàn",
    "Nơi kết nạp",
    "Số thẻ đoàn viên",
    "Ngày vào Đảng",
    "Đơn vị (mã)",
    "Đơn vị",
    "Ghi chú",
]
OUR_MAPPING: dict[str, str] = dict(
    zip(
        OUR_LAYOUT,
        [
            "full_name",
            "family_name",
            "middle_name",
            "given_name",
            "date_of_birth",
            "sex",
            "ethnicity",
            "religion",
            "citizen_id",
            "phone",
            "email",
            "hometown",
            "residence",
            "residence_address",
            "occupation",
            "is_salaried",
            "schooling",
            "qualification",
            "political_theory",
            "foreign_language",
            "it_skill",
            "joined_on",
            "admitted_at",
            "card_number",
            "party_joined_on",
            "unit_code",
            "unit_name",
            "notes",
        ],
        strict=True,
    )
)
# See the module docstring: an assumption about the national system's export.
NATIONAL_MAPPING: dict[str, str] = {
    "STT": IGNORE,
    "Họ và tên": "full_name",
    "Ngày sinh": "date_of_birth",
    "Giới tính": "sex",
    "Dân tộc": "ethnicity",
    "Tôn giáo": "religion",
    "Số CCCD/CMND": "citizen_id",
    "Số điện thoại": "phone",
    "Email": "email",
    "Quê quán": "hometown",
    # One residence in our record: where the member lives now (the commune and the street address in one cell).
    "Nơi thường trú": IGNORE,
    "Nơi ở hiện nay": "residence",
    "Trình độ văn hóa": "schooling",
    "Trình độ chuyên môn": "qualification",
    "Lý luận chính trị": "political_theory",
    "Ngày vào Đoàn": "joined_on",
    "Nơi vào Đoàn": "admitted_at",
    "Số thẻ đoàn viên": "card_number",
    "Ngày vào Đảng": "party_joined_on",
    "Chi đoàn": "unit_name",
    "Ghi chú": "notes",
}
NATIONAL_LAYOUT: list[str] = list(NATIONAL_MAPPING)


def _dmy(value) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def _place(address: str, division) -> str:
    return ", ".join(p for p in (address, str(division) if division else "") if p)


def _national_phone(member) -> str:
    from doanso.accounts.phones import display_phone

    return display_phone(member.phone)


# Values of the national layout are written in Vietnamese whatever the language of the page: the national
# system reads Vietnamese.
_QUALIFICATION_VI = {
    "none": "Không",
    "vocational": "Trung cấp",
    "college": "Cao đẳng",
    "university": "Đại học",
    "master": "Thạc sĩ",
    "doctor": "Tiến sĩ",
}
_THEORY_VI = {"none": "Không", "elementary": "Sơ cấp", "intermediate": "Trung cấp", "advanced": "Cao cấp"}
# The national layout for exports (members.exporting): (header, value of a member), every column of
# NATIONAL_MAPPING except the running number. Importing such an export changes nothing.
NATIONAL_COLUMNS: list[tuple[str, Callable]] = [
    ("Họ và tên", lambda m: m.full_name),
    ("Ngày sinh", lambda m: _dmy(m.date_of_birth)),
    ("Giới tính", lambda m: "Nữ" if m.sex == Sex.FEMALE else "Nam"),
    ("Dân tộc", lambda m: m.ethnicity),
    ("Tôn giáo", lambda m: m.religion),
    ("Số CCCD/CMND", lambda m: m.citizen_id or ""),
    ("Số điện thoại", _national_phone),
    ("Email", lambda m: m.email),
    ("Quê quán", lambda m: _place(m.hometown_address, m.hometown)),
    ("Nơi thường trú", lambda m: _place(m.residence_address, m.residence)),
    ("Nơi ở hiện nay", lambda m: _place(m.residence_address, m.residence)),
    ("Trình độ văn hóa", lambda m: m.schooling),
    ("Trình độ chuyên môn", lambda m: _QUALIFICATION_VI.get(m.qualification, "")),
    ("Lý luận chính trị", lambda m: _THEORY_VI.get(m.political_theory, "")),
    ("Ngày vào Đoàn", lambda m: _dmy(m.joined_on)),
    ("Nơi vào Đoàn", lambda m: m.admitted_at),
    ("Số thẻ đoàn viên", lambda m: m.card_number or ""),
    ("Ngày vào Đảng", lambda m: _dmy(m.party_joined_on)),
    ("Chi đoàn", lambda m: m.unit.name),
    ("Ghi chú", lambda m: m.notes),
]
OUR_MAPPING_NAME = "Đoàn Số (tệp xuất của hệ thống này)"
NATIONAL_MAPPING_NAME = "Hệ thống quản lý đoàn viên Trung ương Đoàn"
BUILTIN_MAPPINGS: dict[str, dict[str, str]] = {OUR_MAPPING_NAME: OUR_MAPPING, NATIONAL_MAPPING_NAME: NATIONAL_MAPPING}


def sync_builtin_mappings() -> None:
    """Make the ImportMapping rows of the built-in layouts match the code (they live in code so that a fix to
    a layout reaches every installation; the rows let them be chosen like saved ones). Writes only when a row
    is missing or differs."""
    existing = {m.name: m for m in ImportMapping.objects.filter(name__in=BUILTIN_MAPPINGS)}
    for name, mapping in BUILTIN_MAPPINGS.items():
        row = existing.get(name)
        if row is None:
            ImportMapping.objects.create(name=name, mapping=mapping, is_builtin=True)
        elif row.mapping != mapping or not row.is_builtin:
            row.mapping, row.is_builtin = mapping, True
            row.save(update_fields=["mapping", "is_builtin"])


def header_key(text: str) -> str:
    """A header as the alias table spells it: folded, punctuation and "(*)" marks dropped, "/" spaced."""
    key = fold(str(text)).replace("\n", " ")
    key = re.sub(r"\(\s*\*\s*\)|\*|:", " ", key)
    key = re.sub(r"\s*/\s*", " / ", key)
    key = re.sub(r"[^a-z0-9/(). &,-]+", " ", key)
    return re.sub(r"\s+", " ", key).strip(" .,-")


_ALIASES: dict[str, str] = {}
for _target in TARGETS:
    for _alias in _target.aliases:
        _ALIASES[header_key(_alias)] = _target.key


@functools.lru_cache(maxsize=4096)
def guess_field(header: str) -> str | None:
    """The field a header most likely means; IGNORE for a running number; None when unknown. Cached: finding the
    header row asks it for every cell of the first rows, and the alias scan below is slow."""
    key = header_key(header)
    if not key:
        return None
    if key in IGNORED_HEADERS:
        return IGNORE
    if key in _ALIASES:
        return _ALIASES[key]
    # "Ngày sinh (dd/mm/yyyy)", "Số CCCD (12 số)": what is in brackets explains the format.
    bare = re.sub(r"\s*\([^)]*\)\s*", " ", key).strip()
    if bare != key and bare in _ALIASES:
        return _ALIASES[bare]
    # "Họ và tên đoàn viên / thanh niên", "Số điện thoại liên hệ": the longest alias the header starts with.
    best = None
    for alias, target in _ALIASES.items():
        matches = len(alias) >= 4 and (bare == alias or bare.startswith(alias + " "))
        if matches and (best is None or len(alias) > len(best[0])):
            best = (alias, target)
    return best[1] if best else None


def guess_mapping(headers: list[str], saved: dict[str, str] | None = None) -> list[str]:
    """One field per column: the saved mapping where it names the header (compared folded), else a guess.
    Saved choices are placed first; a guess never takes a field that a saved choice or an earlier column has."""
    saved_by_key = {header_key(h): f for h, f in (saved or {}).items()}
    result: list[str | None] = [None] * len(headers)
    taken: set[str] = set()
    for i, header in enumerate(headers):
        target = saved_by_key.get(header_key(header))
        if target is not None:
            target = target if target in TARGETS_BY_KEY and target not in taken else IGNORE
            result[i] = target
            if target:
                taken.add(target)
    for i, header in enumerate(headers):
        if result[i] is None:
            target = guess_field(header) or IGNORE
            if target not in TARGETS_BY_KEY or target in taken:
                target = IGNORE
            result[i] = target
            if target:
                taken.add(target)
    return [r or IGNORE for r in result]


def mapping_problems(fields: Iterable[str]) -> list[str]:
    """What a mapping lacks or repeats, as messages; empty when it can be used."""
    chosen = [f for f in fields if f]
    problems = []
    repeated = sorted({f for f in chosen if chosen.count(f) > 1}, key=list(TARGETS_BY_KEY).index)
    for key in repeated:
        problems.append(_("“{field}” is chosen for more than one column.").format(field=TARGETS_BY_KEY[key].label))
    present = set(chosen)
    if "full_name" not in present and not {"family_name", "given_name"} <= present:
        problems.append(_("Choose the column of the full name (or the columns of the family and given names)."))
    if not present & {"date_of_birth", "date_of_birth_male", "date_of_birth_female"}:
        problems.append(_("Choose the column of the date of birth."))
    if not present & {"sex", "female_mark", "date_of_birth_male", "date_of_birth_female"}:
        problems.append(_("Choose the column of the sex."))
    return problems


# --- Reading the file -------------------------------------------------------------------------------------------

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
_NOT_SPREADSHEETS = [
    (b"%PDF", "PDF"),
    (b"\x89PNG", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF8", "GIF"),
    (b"Rar!", "RAR"),
    (b"7z\xbc\xaf", "7-Zip"),
    (b"{\\rtf", "RTF"),
]


@dataclass
class Sheet:
    """One sheet of the file, read: the rows as (row number as the spreadsheet shows it, cells)."""

    name: str
    names: list[str]
    file_type: str
    rows: list[tuple[int, list]]
    # The XLSX itself, kept to find the cells without a value (below) when they were not found while reading.
    source: bytes | None = None
    # (row number, column index) of cells that took their value from a merged cell above them.
    merged_below: set[tuple[int, int]] = field(default_factory=set)

    @functools.cached_property
    def cells_without_value(self) -> dict[tuple[int, int], str]:
        """(row number, column index) → "formula" or "error": cells that calamine reads as empty although the
        file has something there — a formula whose result is not saved (files written by programs that do not
        compute) or an error result (#VALUE!, #N/A…). Decompressing the sheet's XML costs half a second at
        100,000 rows: :func:`read_for_import` does it while calamine parses; otherwise it is done when asked."""
        if self.file_type != "xlsx" or self.source is None:
            return {}
        return _xlsx_cells_without_value(self.source).get(self.name, {})


def _damaged() -> ImportFileError:
    return ImportFileError(
        _("The file is damaged and cannot be read. Open it in Excel or LibreOffice, save it again and upload it.")
    )


def _password() -> ImportFileError:
    return ImportFileError(
        _(
            "The file is protected with a password. Open it, remove the password (File → Info → Protect), save it "
            "and upload it again."
        )
    )


def read_sheet(data: bytes, filename: str = "", sheet: str | None = None) -> Sheet:
    """Read one sheet (``sheet`` by name; otherwise the first visible sheet that has data).

    Raises :class:`ImportFileError` for anything that is not a readable spreadsheet.
    """
    if not data:
        raise ImportFileError(_("The file is empty."))
    for magic, kind in _NOT_SPREADSHEETS:
        if data.startswith(magic):
            raise ImportFileError(
                _(
                    "This is a {kind} file, not a spreadsheet. Upload an Excel (.xlsx, .xls), OpenDocument (.ods) or "
                    "CSV file."
                ).format(kind=kind)
            )
    if data.startswith(OLE_MAGIC):
        # Excel encrypts a password-protected .xlsx into an OLE container with these two streams.
        if "EncryptedPackage".encode("utf-16-le") in data or "EncryptionInfo".encode("utf-16-le") in data:
            raise _password()
        if "Workbook".encode("utf-16-le") not in data and "Book".encode("utf-16-le") not in data:
            raise ImportFileError(
                _(
                    "This is an Office file but not an Excel workbook (perhaps a Word document). Upload the "
                    "spreadsheet itself."
                )
            )
        return _read_calamine(data, "xls", sheet)
    if data.startswith(ZIP_MAGIC) or data.startswith(b"PK"):
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
            names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            raise _damaged() from None
        if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
            result = _read_calamine(data, "xlsx", sheet)
            result.source = data
            return result
        if "content.xml" in names:
            mimetype = archive.read("mimetype").decode("ascii", "replace") if "mimetype" in names else ""
            if mimetype and "spreadsheet" not in mimetype:
                raise ImportFileError(
                    _("This is an OpenDocument text or presentation, not a spreadsheet. Upload the .ods spreadsheet.")
                )
            manifest = "META-INF/manifest.xml"
            if manifest in names and b"encryption-data" in archive.read(manifest):
                raise _password()  # LibreOffice encrypts content.xml and says so in the manifest
            return _read_calamine(data, "ods", sheet)
        if "word/document.xml" in names or "ppt/presentation.xml" in names:
            raise ImportFileError(
                _("This is a Word or PowerPoint file, not a spreadsheet. Upload the Excel (.xlsx) file.")
            )
        raise ImportFileError(_("This is a ZIP archive, not a spreadsheet. Unpack it and upload the spreadsheet."))
    return _read_csv(data, sheet)


def _read_calamine(data: bytes, file_type: str, wanted: str | None) -> Sheet:
    try:
        workbook = calamine.load_workbook(io.BytesIO(data))
        metadata = workbook.sheets_metadata
    except calamine.PasswordError:
        raise _password() from None
    except _CRASHES:
        # calamine raises its own errors, but on some malformed files its Rust code panics, which reaches
        # Python as pyo3's PanicException (a BaseException): a damaged file either way.
        # Logged without the traceback: a damaged upload is the person's problem, told to them, not a bug.
        logger.info("calamine could not open a %s file: %r", file_type, sys.exception())
        if file_type == "xls" and _xls_has_password(data):
            raise _password() from None
        raise _damaged() from None
    worksheets = [m for m in metadata if str(m.typ).endswith("WorkSheet")]
    names = [m.name for m in worksheets]
    if wanted:
        if wanted not in names:
            raise ImportFileError(_("The file has no sheet named “{name}”.").format(name=wanted))
        candidates = [wanted]
    else:
        visible = [m.name for m in worksheets if str(m.visible).endswith("Visible")]
        candidates = visible + [n for n in names if n not in visible]
    if not candidates:
        raise ImportFileError(_("The file has no worksheet."))
    first: Sheet | None = None
    for name in candidates:
        try:
            ws = workbook.get_sheet_by_name(name)
            # calamine gives no merged ranges for ODS: they are read from the file's content.xml.
            spans = _ods_merged_ranges(data, name) if file_type == "ods" else None
            rows, merged_below = _calamine_rows(ws, spans)
        except calamine.PasswordError:
            raise _password() from None
        except ImportFileError:
            raise
        except _CRASHES:
            logger.info("calamine could not read sheet %r: %r", name, sys.exception())
            raise _damaged() from None
        if wanted and not rows:
            raise ImportFileError(_("The sheet “{name}” is empty.").format(name=name))
        if not rows:
            continue
        found = Sheet(name=name, names=names, file_type=file_type, rows=rows, merged_below=merged_below)
        # Unless a sheet is asked for, the first one with member column names: a workbook often opens on its
        # instructions ("Hướng dẫn"), the list on the next sheet. Without any, the first sheet with data.
        if wanted or any(_row_score(cells) >= 2 for _n, cells in rows[:HEADER_SCAN_ROWS]):
            return found
        first = first or found
    if first is not None:
        return first
    if len(names) == 1:
        raise ImportFileError(_("The sheet “{name}” is empty.").format(name=names[0]))
    raise ImportFileError(_("Every sheet of the file is empty."))


def _crash_types() -> tuple[type[BaseException], ...]:
    try:
        from pyo3_runtime import PanicException  # type: ignore[import-not-found]
    except ImportError:  # the module exists once a pyo3 extension is loaded; calamine is one
        return (Exception,)
    return (Exception, PanicException)


_CRASHES = _crash_types()
# The BOF record that opens the workbook globals of a BIFF8 (.xls) stream.
_BIFF8_BOF = b"\x09\x08\x10\x00\x00\x06\x05\x00"


def _xls_has_password(data: bytes) -> bool:
    """An encrypted .xls has a FILEPASS record (0x002F) right after the BOF of its globals; calamine only says
    that it cannot read the file."""
    at = data.find(_BIFF8_BOF)
    return at >= 0 and data[at + 20 : at + 22] == b"\x2f\x00"


def _calamine_rows(ws, spans: list | None = None) -> tuple[list[tuple[int, list]], set[tuple[int, int]]]:
    """Non-empty rows with their spreadsheet row numbers; merged ranges filled with their top-left value. Also
    the (row number, column) of the cells so filled below the top row of their range.

    calamine yields rows from the first row of the sheet, but columns from the first used column: cell
    positions of merged ranges are shifted back by that offset.
    """
    start = ws.start
    merged_below: set[tuple[int, int]] = set()
    if start is None:
        return [], merged_below
    col0 = start[1]
    height = ws.height
    if height > MAX_ROWS + HEADER_SCAN_ROWS:
        raise ImportFileError(
            _("The sheet has {count} rows; at most {max} can be imported at once. Split the file.").format(
                count=height, max=MAX_ROWS
            )
        )
    merged: list = spans or []
    if spans is None:
        try:
            merged = ws.merged_cell_ranges or []
        except Exception:  # not every format carries merged ranges
            merged = []
    by_row: dict[int, list[tuple[int, int, int, int]]] = defaultdict(list)
    for (r0, c0), (r1, c1) in merged:
        if r1 - r0 > MAX_ROWS or c1 - c0 > 500:
            continue
        for r in range(r0, r1 + 1):
            by_row[r].append((r0, c0 - col0, c1 - col0, r))
    rows: list[tuple[int, list]] = []
    top_left: dict[tuple[int, int], object] = {}
    for index, cells in enumerate(ws.iter_rows()):
        if index in by_row:
            cells = list(cells)
            for r0, c0, c1, _r in by_row[index]:
                if c0 < 0:
                    continue
                if len(cells) <= c1:
                    cells.extend([""] * (c1 + 1 - len(cells)))
                if r0 == index:
                    top_left[(r0, c0)] = cells[c0]
                value = top_left.get((r0, c0), "")
                for c in range(c0, c1 + 1):
                    if cells[c] == "" or cells[c] is None:
                        cells[c] = value
                        if index != r0:
                            merged_below.add((index + 1, c))
        for cell in cells:
            if cell != "" and cell is not None:
                rows.append((index + 1, cells))
                break
    return rows, merged_below


_CELL_REF = re.compile(rb'\br="([A-Z]{1,3})([0-9]+)"')

# The tags of an ODS table that place cells: the table, a row (its end), a cell or a covered cell (one merged into
# another), with their attributes.
_ODS_TAG = re.compile(rb"<(/?)table:(table|table-row|table-cell|covered-table-cell)(?=[\s/>])([^>]*?)(/?)>")
_ODS_ATTR = re.compile(
    rb"table:(name|number-rows-repeated|number-columns-repeated|number-rows-spanned|"
    rb'number-columns-spanned)="([^"]*)"'
)


def _ods_merged_ranges(data: bytes, sheet_name: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """The merged ranges of an ODS sheet, ((first row, first column), (last row, last column)) counted from 0 as
    calamine counts those of an XLSX: the cells with table:number-rows-spanned or -columns-spanned. Rows and
    cells repeated by table:number-…-repeated are counted as many times. Nothing when the file has no merge."""
    try:
        content = zipfile.ZipFile(io.BytesIO(data)).read("content.xml")
    except (KeyError, zipfile.BadZipFile, OSError, zlib.error, EOFError):
        return []
    if b"-spanned=" not in content:
        return []
    wanted = html.escape(sheet_name, quote=True).encode()
    ranges = []
    inside, row, col, repeat_rows = False, 0, 0, 1
    for match in _ODS_TAG.finditer(content):
        closing, tag, attributes, empty = match.groups()
        attrs = dict(_ODS_ATTR.findall(attributes)) if attributes else {}
        if tag == b"table":
            if closing:
                if inside:
                    break
            else:
                inside, row = attrs.get(b"name") == wanted, 0
        elif not inside:
            continue
        elif tag == b"table-row":
            if closing or empty:
                row += int(attrs.get(b"number-rows-repeated", b"1")) if empty else repeat_rows
            else:
                col, repeat_rows = 0, int(attrs.get(b"number-rows-repeated", b"1"))
        elif not closing:
            rows_spanned = int(attrs.get(b"number-rows-spanned", b"1"))
            cols_spanned = int(attrs.get(b"number-columns-spanned", b"1"))
            if tag == b"table-cell" and (rows_spanned > 1 or cols_spanned > 1):
                ranges.append(((row, col), (row + rows_spanned - 1, col + cols_spanned - 1)))
            col += int(attrs.get(b"number-columns-repeated", b"1"))
    return ranges


def _column_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n - 1


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _xlsx_cells_without_value(source: bytes, only: str | None = None) -> dict[str, dict[tuple[int, int], str]]:
    """For each worksheet (or the one named ``only``): the cells of ``Sheet.cells_without_value``. A file whose
    parts cannot be read gives nothing here (calamine's reading says what is wrong with it)."""
    import xml.etree.ElementTree as ET

    ns = {
        "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
        "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    }
    found: dict[str, dict[tuple[int, int], str]] = {}
    try:
        archive = zipfile.ZipFile(io.BytesIO(source))
        book = ET.fromstring(archive.read("xl/workbook.xml"))  # noqa: S314
        rels = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))  # noqa: S314
        targets = {rel.get("Id"): rel.get("Target") or "" for rel in rels}
        for sheet in book.iterfind("m:sheets/m:sheet", ns):
            name = sheet.get("name") or ""
            target = targets.get(sheet.get(f"{{{ns['r']}}}id"))
            if not target or (only is not None and name != only):
                continue
            path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            found[name] = _cells_without_value(archive.read(path))
    except (KeyError, zipfile.BadZipFile, ValueError, OSError, SyntaxError, EOFError, zlib.error):
        logger.info("could not look for formulas and errors: %r", sys.exception())
    return found


_ERROR_CELL = re.compile(rb'<(?:\w+:)?c\s[^>]*\bt="e"[^>]*>')


def _cells_without_value(xml: bytes) -> dict[tuple[int, int], str]:
    cells: dict[tuple[int, int], str] = {}
    if b"<f" in xml or b":f" in xml:
        for match in re.finditer(rb"<(?:\w+:)?f[\s>/]", xml):
            cell_start = xml.rfind(b"<c ", 0, match.start())
            if cell_start < 0:
                cell_start = xml.rfind(b":c ", 0, match.start())
            cell_end = xml.find(b"</", match.end())
            cell_close = xml.find(b"c>", cell_end)
            body = xml[cell_start : cell_close if cell_close > 0 else len(xml)]
            if re.search(rb"<(?:\w+:)?v>([^<]+)</(?:\w+:)?v>", body):
                continue
            ref = _CELL_REF.search(body)
            if ref:
                cells[(int(ref.group(2)), _column_index(ref.group(1)))] = "formula"
    if b't="e"' in xml:
        for match in _ERROR_CELL.finditer(xml):
            ref = _CELL_REF.search(match.group(0))
            if ref:
                cells[(int(ref.group(2)), _column_index(ref.group(1)))] = "error"
    return cells


_EXCEL_TEXT = re.compile(r'="((?:[^"]|"")*)"')


def _csv_unwrapped(cell: str) -> str:
    """The text of a ="…" cell, Excel's way of keeping text as text in a CSV (our exports write IDs and phones so)."""
    match = _EXCEL_TEXT.fullmatch(cell.strip())
    return match.group(1).replace('""', '"') if match else cell


def _read_csv(data: bytes, sheet: str | None) -> Sheet:
    if data.startswith(b"\xef\xbb\xbf"):
        text = data[3:].decode("utf-8", "replace")
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise _damaged() from None
    else:
        if b"\x00" in data[:4096]:
            raise ImportFileError(
                _("The file is not a spreadsheet. Upload an Excel (.xlsx, .xls), OpenDocument (.ods) or CSV file.")
            )
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            # Vietnamese CSVs saved by older Excel on Windows use the Vietnamese code page.
            try:
                text = data.decode("cp1258")
            except UnicodeDecodeError:
                raise ImportFileError(
                    _("The text encoding of the file is not recognised. Save it as “CSV UTF-8” and upload it again.")
                ) from None
    sample = text[:65536]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        first = sample.split("\n", 1)[0]
        delimiter = max(",;\t|", key=first.count)
    rows: list[tuple[int, list]] = []
    try:
        for number, cells in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
            if any(c.strip() for c in cells):
                rows.append((number, [_csv_unwrapped(c) for c in cells] if '="' in "".join(cells) else cells))
                if len(rows) > MAX_ROWS + HEADER_SCAN_ROWS:
                    raise ImportFileError(_("The file has more than {max} rows; split it.").format(max=MAX_ROWS))
    except csv.Error:
        raise ImportFileError(_("The file is not a spreadsheet or a CSV file that can be read.")) from None
    if not rows:
        raise ImportFileError(_("The file is empty."))
    if len(rows) == 1 and len(rows[0][1]) == 1 and len(text) > 2000:
        # One huge cell: a text or binary file that happened to decode, not a table.
        raise ImportFileError(
            _("The file is not a spreadsheet. Upload an Excel (.xlsx, .xls), OpenDocument (.ods) or CSV file.")
        )
    return Sheet(name="CSV", names=["CSV"], file_type="csv", rows=rows)


# --- The header ----------------------------------------------------------------------------------------------


@dataclass
class Header:
    row: int  # spreadsheet row number of the (first) header row
    columns: list[str]  # one name per column, unique
    data_from: int  # index into Sheet.rows of the first data row


def _is_blank(value) -> bool:
    return value is None or value == "" or (isinstance(value, str) and not value.strip())


def _cell_text(value) -> str:
    if value.__class__ is str:
        # nfc() for every cell of 100,000 rows costs seconds; most cells are already single-spaced NFC.
        text = value.strip()
        if "  " in text or "\n" in text or "\t" in text or "\r" in text or "\xa0" in text:
            return nfc(text)
        return text if unicodedata.is_normalized("NFC", text) else nfc(text)
    if _is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.strftime("%d/%m/%Y %H:%M") if value.time() != datetime.time() else value.strftime("%d/%m/%Y")
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return nfc(str(value))


def _row_score(cells) -> int:
    return sum(1 for c in cells if isinstance(c, str) and c.strip() and guess_field(c) is not None)


def _is_numbering_row(cells) -> bool:
    """The "(1) (2) (3)…" or "1 2 3…" row under the header of government templates."""
    numbers = []
    for cell in cells:
        if _is_blank(cell):
            continue
        text = _cell_text(cell).strip("() ")
        if not (text.isascii() and text.isdigit()):  # "²" is a digit to isdigit(), not to int()
            return False
        numbers.append(int(text))
    return len(numbers) >= 3 and numbers == sorted(numbers) and len(set(numbers)) == len(numbers)


def detect_header(sheet: Sheet) -> Header:
    """The header row: the row among the first ones whose cells look most like known headers (at least two);
    a file whose headers are all unknown gets its first row with two or more cells."""
    scan = sheet.rows[:HEADER_SCAN_ROWS]
    best, best_score = None, 1
    for i, (_number, cells) in enumerate(scan):
        score = _row_score(cells)
        if score > best_score:
            best, best_score = i, score
    if best is None:
        best = next((i for i, (_n, cells) in enumerate(scan) if sum(not _is_blank(c) for c in cells) >= 2), None)
        if best is None:
            raise ImportFileError(
                _("No header row found: the first rows need the column names (Họ và tên, Ngày sinh…).")
            )
    number, cells = scan[best]
    top = [_cell_text(c) for c in cells]
    data_from = best + 1
    # A second header row directly below: sub-headers under a merged header ("Ngày sinh" over "Nam", "Nữ").
    if data_from < len(sheet.rows) and sheet.rows[data_from][0] == number + 1:
        below = [_cell_text(c) for c in sheet.rows[data_from][1]]
        if _is_sub_header(top, below):
            width = max(len(top), len(below))
            top += [""] * (width - len(top))
            below += [""] * (width - len(below))
            top = [f"{t} / {b}" if t and b and t != b else (t or b) for t, b in zip(top, below, strict=True)]
            data_from += 1
    if data_from < len(sheet.rows) and _is_numbering_row(sheet.rows[data_from][1]):
        data_from += 1
    while top and not top[-1]:
        top.pop()
    columns, seen = [], set()
    for index, name in enumerate(top):
        name = name or _("Column {letter}").format(letter=column_letter(index))
        base, n = name, 2
        while name in seen:
            name, n = f"{base} ({n})", n + 1
        seen.add(name)
        columns.append(name)
    return Header(row=number, columns=columns, data_from=data_from)


def _is_sub_header(top: list[str], below: list[str]) -> bool:
    texts = [b for b in below if b]
    if not texts or any(re.fullmatch(r"[\d\s().,/-]+", b) for b in texts):
        return False
    # A sub-header sits under a header that was merged across columns (the same text repeated once filled) or
    # under an empty header cell, and says something that, joined with its header, is a known column.
    for i, b in enumerate(below):
        if not b:
            continue
        t = top[i] if i < len(top) else ""
        repeated = bool(t) and (
            (i > 0 and i - 1 < len(top) and top[i - 1] == t) or (i + 1 < len(top) and top[i + 1] == t)
        )
        if (repeated or not t) and guess_field(f"{t} / {b}" if t else b) not in (None, IGNORE):
            return True
    return False


# --- Values ----------------------------------------------------------------------------------------------------

_EXCEL_EPOCH = datetime.date(1899, 12, 30)
_DMY = re.compile(
    r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4}|\d{2})(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
)
_YMD = re.compile(r"(\d{4})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{1,2})(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_WORDS = re.compile(r"(?:ngay\s*)?(\d{1,2})\s*thang\s*(\d{1,2})\s*nam\s*(\d{4})")
_MONTH_YEAR = re.compile(r"(\d{1,2})\s*[/.\-]\s*(\d{4})")


def shown(value) -> str:
    """A raw cell as the person sees it in the spreadsheet, for error reports."""
    return _cell_text(value)


def _today() -> datetime.date:
    return timezone.localdate()


def make_date(day: int, month: int, year: int) -> datetime.date:
    if not 1 <= month <= 12:
        raise Bad(_("There is no month {month}: dates are written day/month/year (dd/mm/yyyy).").format(month=month))
    if year < 1900:
        raise Bad(_("The year {year} is not plausible.").format(year=year))
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        raise Bad(
            _("The date {day:02d}/{month:02d}/{year} does not exist: month {month} of {year} has {last} days.").format(
                day=day, month=month, year=year, last=last
            )
        )
    return datetime.date(year, month, day)


def parse_date(value) -> datetime.date:
    """A date as Excel stores it (a date cell or a serial number) or as people type it: d/m/yyyy, dd/mm/yy,
    dd-mm-yyyy, dd.mm.yyyy, yyyy-mm-dd, "ngày 5 tháng 3 năm 2001". Never month-first."""
    if isinstance(value, datetime.datetime):
        result = value.date()
    elif isinstance(value, datetime.date):
        result = value
    elif isinstance(value, bool):
        raise Bad(_("“{value}” is not a date; write it as dd/mm/yyyy.").format(value=shown(value)))
    elif isinstance(value, int | float):
        result = _serial_date(value)
    else:
        text = str(value).strip()
        result = _text_date(text)
    if result > _today():
        raise Bad(_("The date {date} is in the future.").format(date=result.strftime("%d/%m/%Y")))
    return result


def _serial_date(value: float) -> datetime.date:
    if value != value or value in (float("inf"), float("-inf")):
        raise Bad(_("“{value}” is not a date; write it as dd/mm/yyyy.").format(value=value))
    if float(value).is_integer() and 1900 <= value <= 2100:
        raise Bad(_("Only the year ({year}) is given: write the full date as dd/mm/yyyy.").format(year=int(value)))
    if not 1 <= value < 2958466:
        raise Bad(_("“{value}” is not a date; write it as dd/mm/yyyy.").format(value=shown(value)))
    result = _EXCEL_EPOCH + datetime.timedelta(days=int(value))
    if result.year < 1900:
        raise Bad(_("“{value}” is not a date; write it as dd/mm/yyyy.").format(value=shown(value)))
    return result


def _text_date(text: str) -> datetime.date:
    if m := _DMY.fullmatch(text):
        day, month, year = int(m.group(1)), int(m.group(2)), m.group(3)
        if len(year) == 2:
            # Two-digit years: the most recent past year that ends so (dates here are births and admissions).
            y = 2000 + int(year)
            year = str(y - 100 if y > _today().year else y)
        return make_date(day, month, int(year))
    if m := _YMD.fullmatch(text):
        return make_date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    folded = fold(text)
    if m := _WORDS.fullmatch(folded):
        return make_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if re.fullmatch(r"\d{4}", text):
        raise Bad(_("Only the year ({year}) is given: write the full date as dd/mm/yyyy.").format(year=text))
    if _MONTH_YEAR.fullmatch(text):
        raise Bad(
            _("Only the month and year ({value}) are given: write the full date as dd/mm/yyyy.").format(value=text)
        )
    if re.fullmatch(r"\d{5}(\.0+)?", text):
        return _serial_date(float(text))
    raise Bad(_("“{value}” is not a date; write it as dd/mm/yyyy.").format(value=text))


def _text(value) -> str:
    return _cell_text(value)


def _limited(text: str, limit: int) -> str:
    if len(text) > limit:
        raise Bad(_("At most {limit} characters ({count} given).").format(limit=limit, count=len(text)))
    return text


def _has_digit(text: str) -> bool:
    # Letters are never digits: a name of letters and spaces (nearly all of them) needs no look at each character.
    if text.replace(" ", "").isalpha():
        return False
    return any(ch.isdigit() for ch in text)


def _name_part(limit: int) -> Callable:
    def parse(value) -> str:
        text = _text(value)
        if _has_digit(text):
            raise Bad(_("A name has no digits."))
        return _limited(_proper_case(text), limit)

    return parse


def _proper_case(text: str) -> str:
    # Lists typed in capitals ("NGUYỄN VĂN AN") or without any ("nguyễn văn an") are stored the way the name is
    # written elsewhere.
    if (text.isupper() or text.islower()) and len(text) > 1:
        return " ".join(word.capitalize() for word in text.split(" "))
    return text


def parse_full_name(value) -> tuple[str, str, str]:
    """(family, middle, given): the first word is the family name, the last the given name."""
    text = _proper_case(_text(value))
    if _has_digit(text):
        raise Bad(_("A name has no digits."))
    words = text.split()
    if len(words) < 2:
        raise Bad(_("Write the full name: family name, middle name and given name."))
    family, middle, given = words[0], " ".join(words[1:-1]), words[-1]
    _limited(family, 50), _limited(middle, 80), _limited(given, 50)
    return family, middle, given


_SEXES = {
    "nam": Sex.MALE,
    "male": Sex.MALE,
    "m": Sex.MALE,
    "trai": Sex.MALE,
    "nu": Sex.FEMALE,
    "female": Sex.FEMALE,
    "f": Sex.FEMALE,
    "gai": Sex.FEMALE,
}


def parse_sex(value) -> str:
    sex = _SEXES.get(fold(_text(value)).strip(". "))
    if sex is None:
        raise Bad(_("“{value}” is not a sex: write Nam or Nữ.").format(value=shown(value)))
    return sex


def parse_female_mark(value) -> str:
    # Any mark in the "Nữ" column ("x", "1", "✓", "Nữ") says the member is a woman; an empty cell a man.
    return Sex.FEMALE if _text(value) else Sex.MALE


def parse_ethnicity(value) -> str:
    name = resolve_ethnicity(_text(value))
    if name is None:
        raise Bad(_("“{value}” is not one of the 54 ethnic groups of Vietnam.").format(value=shown(value)))
    return name


_RELIGION_ALIASES = {
    "khong": "Không",
    "khong co": "Không",
    "khong ton giao": "Không",
    "none": "Không",
    "phat": "Phật giáo",
    "dao phat": "Phật giáo",
    "buddhism": "Phật giáo",
    "thien chua": "Công giáo",
    "thien chua giao": "Công giáo",
    "cong giao": "Công giáo",
    "catholic": "Công giáo",
    "tin lanh": "Tin lành",
    "dao tin lanh": "Tin lành",
    "protestant": "Tin lành",
    "cao dai": "Cao Đài",
    "dao cao dai": "Cao Đài",
    "hoa hao": "Phật giáo Hòa Hảo",
    "hoi giao": "Hồi giáo",
    "islam": "Hồi giáo",
}
_RELIGIONS_BY_KEY = {fold(name): name for name in RELIGIONS} | _RELIGION_ALIASES


def parse_religion(value) -> str:
    text = _text(value)
    # Religions outside the official list are kept as written: the list is for choosing, not a closed set.
    return _RELIGIONS_BY_KEY.get(fold(text), _limited(text, 60))


def parse_citizen_id(value) -> str:
    if isinstance(value, str):
        _check_masked(value)
        if ("e" in value or "E" in value) and scientific_digits_lost(value):
            raise Bad(
                _(
                    "Excel showed this citizen ID as a rounded number ({value}): its last digits are lost. Format "
                    "the column as Text, type the IDs again and save."
                ).format(value=value.strip())
            )
    cid = normalise_citizen_id(value)
    if not cid.isdigit() or len(cid) != 12:
        digits = sum(ch.isdigit() for ch in cid)
        raise Bad(
            ngettext(
                "A citizen ID has exactly 12 digits; this one has {count} digit.",
                "A citizen ID has exactly 12 digits; this one has {count} digits.",
                digits,
            ).format(count=digits)
            if cid.isdigit() or not cid
            else _("A citizen ID has only digits (12 of them).")
        )
    return cid


_PHONE_CHARS = re.compile(r"[+\d\s.\-()]+")
_mobile_valid: dict[tuple[str, int], bool] = {}


def parse_phone(value) -> str:
    """E.164, as ``accounts.phones.normalise_phone`` gives it, with a fast path for Vietnamese mobiles.

    phonenumbers takes ~100 µs a number. Whether a Vietnamese mobile number (9 digits after 0 or +84, starting
    with 3, 5, 7, 8 or 9) is valid depends only on its first three digits and its length in the numbering
    plan, so the verdict of phonenumbers on the first number with the same three digits is reused for the
    others. Everything else (landlines, foreign numbers, odd spellings) goes to phonenumbers every time.
    """
    if isinstance(value, float) and value.is_integer():
        # Excel kept the phone as a number and dropped its leading 0.
        text = str(int(value))
    else:
        text = _text(value)
        _check_masked(text)
    if _PHONE_CHARS.fullmatch(text):
        digits = text if text.isdigit() else "".join(ch for ch in text if ch.isdigit())
        stripped = text.lstrip("( ")
        national = None
        if stripped.startswith("+84") or (digits.startswith("84") and len(digits) == 11):
            national = digits[2:]
        elif not stripped.startswith("+"):
            national = digits[1:] if digits.startswith("0") else digits
        if national is not None and len(national) == 9 and national[0] in "35789":
            key = (national[:3], len(national))
            valid = _mobile_valid.get(key)
            if valid is None:
                valid = _mobile_valid[key] = normalise_phone("+84" + national) == "+84" + national
            if valid:
                return "+84" + national
            raise Bad(_("“{value}” is not a valid phone number.").format(value=text))
    e164 = normalise_phone(text)
    if e164 is None:
        raise Bad(_("“{value}” is not a valid phone number.").format(value=text))
    return e164


def parse_email(value) -> str:
    """What Django's ``validate_email`` accepts, checked the same way (EmailValidator.__call__: length, the user
    part's regex, the domain) with the domain's verdict kept per domain: validating the domain is most of the
    cost, and the addresses of a file share a handful of domains."""
    text = _text(value).strip()
    _check_masked(text.split("@")[0])
    user, at, domain = text.rpartition("@")
    if not (at and len(text) <= 320 and _email_user_regex().match(user) and _email_domain_valid(domain)):
        raise Bad(_("“{value}” is not an e-mail address.").format(value=text))
    return _limited(text, 254)


@functools.cache
def _email_user_regex() -> re.Pattern:
    # Django's own pattern, compiled once: its lazy regex costs a proxy lookup on every use.
    lazy = validate_email.user_regex
    return re.compile(lazy.pattern, lazy.flags)


@functools.lru_cache(maxsize=1024)
def _email_domain_valid(domain: str) -> bool:
    return domain in validate_email.domain_allowlist or validate_email.validate_domain_part(domain)


def _choice_parser(table: Callable[[], dict[str, str]], accepted: str) -> Callable:
    def parse(value) -> str:
        key = fold(_text(value)).strip(" .")
        found = table().get(key)
        if found is None:
            raise Bad(_("“{value}” is not one of: {accepted}.").format(value=shown(value), accepted=accepted))
        return found

    return parse


def _choices(enum, extra: dict[str, str]) -> Callable[[], dict[str, str]]:
    """Codes, the labels in every language of the site (an export writes the label in its language) and the
    usual Vietnamese spellings, folded. Built on first use: labels are translated."""

    @functools.cache
    def table() -> dict[str, str]:
        result = {fold(str(value)): str(value) for value in enum.values}
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                result.update({fold(str(label)): str(value) for value, label in enum.choices})
        result.update({fold(k): str(v) for k, v in extra.items()})
        return result

    return table


_OCCUPATIONS = _choices(
    Occupation,
    {
        "học sinh": Occupation.PUPIL,
        "học sinh THPT": Occupation.PUPIL,
        "sinh viên": Occupation.STUDENT,
        "học viên": Occupation.STUDENT,
        "công nhân": Occupation.WORKER,
        "công nhân lao động": Occupation.WORKER,
        "cán bộ, công chức, viên chức": Occupation.CIVIL_SERVANT,
        "cán bộ công chức viên chức": Occupation.CIVIL_SERVANT,
        "cán bộ": Occupation.CIVIL_SERVANT,
        "công chức": Occupation.CIVIL_SERVANT,
        "viên chức": Occupation.CIVIL_SERVANT,
        "CBCCVC": Occupation.CIVIL_SERVANT,
        "lực lượng vũ trang": Occupation.ARMED_FORCES,
        "quân đội": Occupation.ARMED_FORCES,
        "công an": Occupation.ARMED_FORCES,
        "bộ đội": Occupation.ARMED_FORCES,
        "nông dân": Occupation.FARMER,
        "nông nghiệp": Occupation.FARMER,
        "kinh doanh": Occupation.BUSINESS,
        "buôn bán": Occupation.BUSINESS,
        "tự do": Occupation.BUSINESS,
        "lao động tự do": Occupation.BUSINESS,
        "doanh nghiệp": Occupation.BUSINESS,
        "không có việc làm": Occupation.UNEMPLOYED,
        "thất nghiệp": Occupation.UNEMPLOYED,
        "chưa có việc làm": Occupation.UNEMPLOYED,
        "khác": Occupation.OTHER,
    },
)
_QUALIFICATIONS = _choices(
    Qualification,
    {
        **{label: code for code, label in _QUALIFICATION_VI.items()},
        "chưa qua đào tạo": Qualification.NONE,
        "sơ cấp": Qualification.VOCATIONAL,
        "nghề": Qualification.VOCATIONAL,
        "trung cấp nghề": Qualification.VOCATIONAL,
        "cử nhân": Qualification.UNIVERSITY,
        "kỹ sư": Qualification.UNIVERSITY,
        "thạc sỹ": Qualification.MASTER,
        "tiến sỹ": Qualification.DOCTOR,
    },
)
_THEORY = _choices(
    PoliticalTheory,
    {
        **{label: code for code, label in _THEORY_VI.items()},
        "chưa": PoliticalTheory.NONE,
        "chưa qua đào tạo": PoliticalTheory.NONE,
        "cử nhân": PoliticalTheory.ADVANCED,
    },
)
_KINDS = _choices(
    MemberKind,
    {
        "đoàn": MemberKind.UNION,
        "đoàn viên": MemberKind.UNION,
        "hội": MemberKind.ASSOCIATION,
        "hội viên": MemberKind.ASSOCIATION,
        "đội": MemberKind.PIONEER,
        "đội viên": MemberKind.PIONEER,
    },
)
_YES = {"co", "x", "yes", "true", "1", "co luong", "huong luong", "v", "✓", "✔"}
_NO = {"khong", "no", "false", "0", "khong luong", "-"}


def parse_yes_no(value) -> bool:
    if isinstance(value, bool):
        return value
    key = fold(_text(value)).strip(" .")
    if key in _YES:
        return True
    if key in _NO:
        return False
    raise Bad(_("“{value}” is not yes or no: write Có or Không.").format(value=shown(value)))


def parse_schooling(value) -> str:
    """ "12/12" (or 9/12, 10/10 of the old system). Excel turns a typed "12/12" into the date 12 December of the
    current year; that date is read back as the fraction it was."""
    if isinstance(value, datetime.date) and value.month in (10, 12) and value.day <= value.month:
        return f"{value.day}/{value.month}"
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and float(value).is_integer()
        and 1 <= value <= 12
    ):
        return f"{int(value)}/12"
    text = _text(value).replace(" ", "")
    if (m := re.fullmatch(r"(\d{1,2})/(10|12)", text)) and 1 <= int(m.group(1)) <= int(m.group(2)):
        return f"{int(m.group(1))}/{m.group(2)}"
    if text.isascii() and text.isdigit() and 1 <= int(text) <= 12:
        return f"{int(text)}/12"
    raise Bad(_("“{value}” is not a schooling level such as 12/12.").format(value=shown(value)))


def _plain(limit: int) -> Callable:
    def parse(value) -> str:
        return _limited(_text(value), limit)

    return parse


def parse_card_number(value) -> str:
    return _limited(_text(value).replace(" ", ""), 20)


def parse_unit_code(value) -> str:
    return _text(value).strip().upper()


PARSERS: dict[str, Callable] = {
    "full_name": parse_full_name,
    "family_name": _name_part(50),
    "middle_name": _name_part(80),
    "given_name": _name_part(50),
    "other_names": _plain(150),
    "date_of_birth": parse_date,
    "date_of_birth_male": parse_date,
    "date_of_birth_female": parse_date,
    "sex": parse_sex,
    "female_mark": parse_female_mark,
    "ethnicity": parse_ethnicity,
    "religion": parse_religion,
    "citizen_id": parse_citizen_id,
    "phone": parse_phone,
    "email": parse_email,
    "hometown": _plain(255),
    "residence": _plain(255),
    "residence_address": _plain(255),
    "occupation": _choice_parser(
        _OCCUPATIONS,
        "học sinh, sinh viên, công nhân, cán bộ công chức viên chức, lực lượng vũ trang, nông dân, kinh doanh, không "
        "có việc làm, khác",
    ),
    "is_salaried": parse_yes_no,
    "schooling": parse_schooling,
    "qualification": _choice_parser(_QUALIFICATIONS, "không, trung cấp, cao đẳng, đại học, thạc sĩ, tiến sĩ"),
    "political_theory": _choice_parser(_THEORY, "không, sơ cấp, trung cấp, cao cấp"),
    "foreign_language": _plain(100),
    "it_skill": _plain(100),
    "joined_on": parse_date,
    "admitted_at": _plain(255),
    "card_number": parse_card_number,
    "party_joined_on": parse_date,
    "unit_code": parse_unit_code,
    "unit_name": _plain(255),
    "kind": _choice_parser(_KINDS, "đoàn viên, hội viên, đội viên"),
    "notes": _plain(5000),
}


# --- Units and administrative divisions ----------------------------------------------------------------------------


def _name_key(text: str) -> str:
    return _folded_key(fold(text))


def _folded_key(folded: str) -> str:
    return " ".join(re.split(r"[^a-z0-9]+", folded)).strip()


class UnitResolver:
    """Units of the target unit's subtree by code and by name (folded), loaded with one query."""

    def __init__(self, target):
        from doanso.org.models import Unit

        self.target = target
        self.today = _today()
        self.by_code: dict[str, Any] = {}
        self.by_name: dict[str, list[Any]] = defaultdict(list)
        units = Unit.objects.filter(path__startswith=target.path).values(
            "id", "code", "name", "short_name", "active_to", "successor__code", "successor__name"
        )
        for unit in units:
            self.by_code[unit["code"].upper()] = unit
            keys = {_name_key(unit["name"])}
            if unit["short_name"]:
                keys.add(_name_key(unit["short_name"]))
            for key in keys:
                self.by_name[key].append(unit)

    def _ended(self, unit) -> bool:
        return unit["active_to"] is not None and unit["active_to"] <= self.today

    def _check_active(self, unit) -> int:
        if self._ended(unit):
            if unit["successor__code"]:
                raise Bad(
                    _(
                        "{unit} ({code}) ended on {date}; its members now belong to {successor} ({successor_code})."
                    ).format(
                        unit=unit["name"],
                        code=unit["code"],
                        date=unit["active_to"].strftime("%d/%m/%Y"),
                        successor=unit["successor__name"],
                        successor_code=unit["successor__code"],
                    )
                )
            raise Bad(
                _("{unit} ({code}) ended on {date}.").format(
                    unit=unit["name"], code=unit["code"], date=unit["active_to"].strftime("%d/%m/%Y")
                )
            )
        return unit["id"]

    def by_code_or_error(self, code: str) -> int:
        unit = self.by_code.get(code.upper())
        if unit is None:
            raise Bad(_("No unit with the code “{code}” under {target}.").format(code=code, target=self.target.name))
        return self._check_active(unit)

    def by_name_or_error(self, name: str) -> int:
        found = self.by_name.get(_name_key(name), [])
        active = [u for u in found if not self._ended(u)]
        if len(active) == 1:
            return active[0]["id"]
        if len(active) > 1:
            listed = "; ".join(f"{u['name']} — {u['code']}" for u in sorted(active, key=lambda u: u["code"]))
            raise Bad(
                _("“{name}” matches {count} units: {units}. Give the unit code instead.").format(
                    name=name, count=len(active), units=listed
                )
            )
        if found:
            return self._check_active(found[0])
        raise Bad(_("No unit named “{name}” under {target}.").format(name=name, target=self.target.name))

    def names_match(self, unit_id: int, name: str) -> bool:
        return any(u["id"] == unit_id for u in self.by_name.get(_name_key(name), []))


_TYPE_WORDS = re.compile(
    r"^(thanh pho trung uong|thanh pho|tinh|tp\.?|t\.|xa|phuong|thi tran|dac khu|p\.|x\.|tt\.?)\s+"
)


class DivisionResolver:
    """Current provinces and communes by name (one query), and old addresses through the conversion table.

    An address is split at commas; read from the end: "<commune>, <province>" of today, else
    "<commune>, <district>, <province>" or "<commune>, <province>" of before 2025 (converted when the
    conversion is sure), else the province alone. What precedes the matched parts is the street address.
    """

    def __init__(self):
        from doanso.org.models import AdministrativeDivision

        self.provinces: dict[str, list[int]] = defaultdict(list)
        self.communes: dict[tuple[int, str], list[int]] = defaultdict(list)
        self.by_code: dict[str, int] = {}
        rows = AdministrativeDivision.objects.values_list("id", "code", "name", "search_name", "level", "province_id")
        for pk, code, name, search_name, level, province_id in rows:
            self.by_code[code] = pk
            # The stored folded name, not folded again here: folding the 3,400 names twice was two thirds of a
            # small import's time (65 ms for 5 rows, now 35).
            full = _folded_key(search_name or fold(name))
            bare = _TYPE_WORDS.sub("", full, count=1)
            if level == "province":
                for key in {full, bare}:
                    self.provinces[key].append(pk)
            else:
                for key in {full, bare}:
                    self.communes[(province_id, key)].append(pk)
        self.cache: dict[str, tuple[int | None, str]] = {}

    @staticmethod
    def _bare(name: str) -> str:
        return _TYPE_WORDS.sub("", _name_key(name), count=1)

    def _province(self, text: str) -> int | None:
        for key in (_name_key(text), self._bare(text)):
            found = self.provinces.get(key, [])
            if len(found) == 1:
                return found[0]
        return None

    def _commune(self, province_id: int, text: str) -> int | None:
        for key in (_name_key(text), self._bare(text)):
            found = self.communes.get((province_id, key), [])
            if len(found) == 1:
                return found[0]
        return None

    def resolve(self, text: str) -> tuple[int | None, str]:
        """(division id or None, the rest of the address)."""
        if text in self.cache:
            return self.cache[text]
        result = self._resolve(text)
        self.cache[text] = result
        return result

    def _resolve(self, text: str) -> tuple[int | None, str]:
        from doanso.org.divisions import convert_legacy_address, convert_legacy_province

        parts = [p.strip() for p in re.split(r"\s*[,;]\s*|\s+-\s+", text) if p.strip()]
        if not parts:
            return None, ""
        province = self._province(parts[-1])
        if province is not None and len(parts) >= 2:
            commune = self._commune(province, parts[-2])
            if commune is not None:
                return commune, ", ".join(parts[:-2])
        for used in (3, 2):
            if len(parts) >= used:
                district = parts[-2] if used == 3 else None
                result = convert_legacy_address(parts[-1], district, parts[-used])
                if result.found and result.commune and result.commune.code in self.by_code:
                    return self.by_code[result.commune.code], ", ".join(parts[:-used])
        if province is not None:
            return province, ", ".join(parts[:-1])
        legacy = convert_legacy_province(parts[-1])
        if legacy.found and legacy.province and legacy.province.code in self.by_code:
            return self.by_code[legacy.province.code], ", ".join(parts[:-1])
        return None, text


# --- Rows ------------------------------------------------------------------------------------------------------


@dataclass
class RowError:
    row: int
    column: str
    value: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "value": self.value, "message": self.message}


@dataclass
class Column:
    index: int
    header: str
    field: str


# Member fields an import writes, as model attribute names; the plan carries values for these.
WRITE_FIELDS = (
    "kind",
    "family_name",
    "middle_name",
    "given_name",
    "other_names",
    "date_of_birth",
    "sex",
    "ethnicity",
    "religion",
    "citizen_id",
    "phone",
    "email",
    "hometown_id",
    "hometown_address",
    "residence_id",
    "residence_address",
    "occupation",
    "is_salaried",
    "schooling",
    "qualification",
    "political_theory",
    "foreign_language",
    "it_skill",
    "joined_on",
    "admitted_at",
    "card_number",
    "party_joined_on",
    "notes",
    "unit_id",
)
# The value a new member gets for a field the file does not give.
DEFAULTS = {
    "kind": MemberKind.UNION,
    "citizen_id": None,
    "card_number": None,
    "hometown_id": None,
    "residence_id": None,
    "date_of_birth": None,
    "joined_on": None,
    "party_joined_on": None,
    "is_salaried": False,
}


class PlannedRow:
    """A valid row: ``values`` holds the WRITE_FIELDS the row gives; ``member_id`` is set for an update."""

    __slots__ = ("changed", "member_id", "row", "values")

    def __init__(self, row: int, values: dict, member_id: int | None = None, changed: tuple = ()):
        self.row, self.values, self.member_id, self.changed = row, values, member_id, changed

    def full_values(self) -> dict:
        """Every WRITE_FIELD, with the defaults of a new member where the row says nothing."""
        return {name: self.values.get(name, DEFAULTS.get(name, "")) for name in WRITE_FIELDS}


@dataclass
class ImportOptions:
    unit_id: int
    mapping: dict[str, str] | None = None  # header → field; None: guessed
    sheet: str | None = None
    duplicates: str = DUPLICATES_UPDATE
    filename: str = ""
    mapping_name: str = ""

    def as_dict(self) -> dict:
        return {
            "unit_id": self.unit_id,
            "mapping": self.mapping,
            "sheet": self.sheet,
            "duplicates": self.duplicates,
            "filename": self.filename,
            "mapping_name": self.mapping_name,
        }


@dataclass
class ImportPlan:
    filename: str
    sheet: str
    header_row: int
    unit: object
    rows: int = 0
    creates: list[PlannedRow] = field(default_factory=list)
    updates: list[PlannedRow] = field(default_factory=list)
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len({e.row for e in self.errors})

    @property
    def valid(self) -> int:
        return len(self.creates) + len(self.updates) + self.unchanged

    def summary(self) -> dict:
        return {
            "rows": self.rows,
            "created": len(self.creates),
            "updated": len(self.updates),
            "unchanged": self.unchanged,
            "errors": self.rejected,
        }


# The fields compared with the stored record to tell "unchanged" from "updated".
_COMPARED = tuple(f for f in WRITE_FIELDS if f != "unit_id")
# A member's own data, never shared with the next row (see the merged cells in build_plan).
_OWN_FIELDS = {
    "full_name",
    "family_name",
    "middle_name",
    "given_name",
    "date_of_birth",
    "date_of_birth_male",
    "date_of_birth_female",
    "citizen_id",
    "phone",
    "email",
    "card_number",
}
_STRONG_FIELDS = ("date_of_birth", "date_of_birth_male", "date_of_birth_female", "citizen_id")
_IDENTITY_FIELDS = (
    "full_name",
    "family_name",
    "given_name",
    "date_of_birth",
    "date_of_birth_male",
    "date_of_birth_female",
    "citizen_id",
)


class _Row:
    __slots__ = ("cells", "errors", "number", "values")

    def __init__(self, number: int, cells: list):
        self.number = number
        self.cells = cells  # the raw cells, for error reports
        self.values: dict = {}
        self.errors: list[RowError] = []


def _label(key: str) -> str:
    return str(TARGETS_BY_KEY[key].label)


class PlanSink:
    """Where :func:`build_plan` runs its registry lookups and hands the creates as it decides them, a chunk at a
    time. The streamed import (``services.imports.PgStream``) runs both in a thread of its own, in order, so
    that the database looks up and writes one chunk while Python checks the next; this one runs the lookups at
    once and keeps the creates in the plan only."""

    def look_up(self, lookup: Lookup) -> Callable[[], None]:
        """Have ``lookup`` run, after what was handed before; returns what waits until it has run."""
        with connection.cursor() as cursor:
            lookup.run(cursor)
        return lambda: None

    def write(self, creates: list[PlannedRow], decider: Decider) -> None:
        pass

    def finish(self) -> None:
        """Returns once everything handed over is done."""


def chunk_size(rows: int) -> int:
    """Rows decided (and, streamed, written) together: about a tenth of the file, so that writing overlaps most of
    the checking even for a small file (the last chunk's write cannot), between 500 and 5,000 rows (each chunk
    costs a few queries)."""
    return min(5000, max(500, rows // 10))


# The first chunk of a file: small, so that the database starts writing soon after the check starts (the first
# write waits for two chunks, see build_plan). The chunks then double up to the full size. 100,000 rows: the
# first write began 1.0 s into the check with 5,000-row chunks from the start.
FIRST_CHUNK = 250


def build_plan(
    sheet: Sheet,
    options: ImportOptions,
    unit,
    *,
    progress: Callable[[int, int], None] | None = None,
    sink: PlanSink | None = None,
    chunk: int | None = None,
) -> ImportPlan:
    """Check every row of ``sheet`` and decide what to do with it, ``chunk`` rows at a time; reads the
    database and writes nothing itself (a ``sink`` may write the creates as they are decided). ``chunk`` defaults
    to :func:`chunk_size` of the file."""
    header = detect_header(sheet)
    fields = guess_mapping(header.columns, options.mapping)
    problems = mapping_problems(fields)
    if problems:
        raise ImportFileError(" ".join(problems))
    columns = [Column(i, h, f) for i, (h, f) in enumerate(zip(header.columns, fields, strict=True)) if f]
    plan = ImportPlan(filename=options.filename, sheet=sheet.name, header_row=header.row, unit=unit)
    data_rows = sheet.rows[header.data_from :]
    data_rows = data_rows[: _footer_start(data_rows, columns)]
    if not data_rows:
        raise ImportFileError(
            _("The sheet “{name}” has the column names but no member under them.").format(name=sheet.name)
        )
    plan.rows = len(data_rows)
    total = len(data_rows)
    chunk = chunk or chunk_size(total)

    units = UnitResolver(unit)
    divisions = DivisionResolver() if any(c.field in ("hometown", "residence") for c in columns) else None
    parsers: list[tuple] = []
    for column in columns:
        target = TARGETS_BY_KEY[column.field]
        parsers.append(
            (column.index, column.field, column.header, PARSERS[column.field], {} if target.cached else None)
        )
    by_field = {c.field: c for c in columns}
    # A merged cell over several rows may give a unit or a branch to each member under it, but not a member's own
    # name, birth date, ID, phone, e-mail or card: each member's own value is then missing. Row number → the
    # member's own columns whose value came from a merged cell above.
    own = {c.index: c.header for c in columns if c.field in _OWN_FIELDS}
    shared: dict[int, list[int]] = defaultdict(list)
    for row_number, index in sheet.merged_below:
        if index in own:
            shared[row_number].append(index)
    shared_message = _("This cell is merged with the one above: each member needs their own. Unmerge the cells.")
    # Computed here for an XLSX (read_for_import has usually found them while the file was parsed).
    without_value = sheet.cells_without_value if sheet.file_type == "xlsx" else {}
    age_checked: dict = {}
    formula_message = _(
        "The cell holds a formula whose result is not saved in the file. Open the file in Excel or LibreOffice, "
        "save it again and upload it."
    )
    error_message = _("The cell holds an error (#VALUE!, #N/A…) instead of a value. Correct it in the file.")
    # Each cell's outcome is _BLANK, _MASKED, _FAILED, the Bad it raised, or its value. Cached columns remember
    # it for each distinct raw value (blank ones included); strings key by themselves, other values with their
    # type, so that True, 1 and 1.0 differ.
    decider = Decider(plan, by_field, units, options)
    sink = sink or PlanSink()
    checked: list[_Row] = []
    pending: tuple | None = None  # the chunk checked last, its lookup, and what waits for the lookup
    step = min(chunk, FIRST_CHUNK)
    boundary = step  # the row that closes the current chunk
    for done, (number, cells) in enumerate(data_rows, start=1):
        row = _Row(number, cells)
        values = row.values
        width = len(cells)
        for index, key, header_name, parse, cache in parsers:
            raw = cells[index] if index < width else ""
            if cache is None:
                value = _outcome(raw, parse)
            else:
                cache_key = raw if raw.__class__ is str else (raw.__class__, raw)
                value = cache.get(cache_key)
                if value is None:
                    value = cache[cache_key] = _outcome(raw, parse)
            if value.__class__ is _Marker:
                if value is _BLANK:
                    # Read as empty, but the file has a formula without its result or an error there: the value
                    # is unknown, not absent (a unit code by formula would otherwise put the member in the
                    # target unit).
                    if without_value and (number, index) in without_value:
                        unknown = without_value[(number, index)]
                        message = formula_message if unknown == "formula" else error_message
                        row.errors.append(RowError(number, header_name, "", str(message)))
                elif value is _FAILED:
                    # A parser bug must not stop the whole import: the cell is reported.
                    try:
                        parse(raw)
                    except Exception:
                        logger.exception("unexpected error reading %r", raw)
                    row.errors.append(RowError(number, header_name, shown(raw), _("This value cannot be read.")))
            elif value.__class__ is Bad:
                row.errors.append(RowError(number, header_name, shown(raw), str(value.args[0])))
            else:
                values[key] = value
        for index in shared.get(number, ()):
            row.errors.append(RowError(number, own[index], shown(_at(cells, index)), str(shared_message)))
        _check_row(row, by_field, units, divisions, age_checked)
        checked.append(row)
        if done in (boundary, total):
            step = min(chunk, step * 2)
            boundary += step
            # Each chunk's lookup is handed to the sink as soon as it is checked; the chunk is decided (and its
            # creates handed over) after the next chunk is checked, by when the lookup has run alongside.
            candidates = decider.group(checked)
            lookup = Lookup(candidates, units.target)
            waiting = sink.look_up(lookup)
            if pending is not None:
                _decide(decider, sink, *pending)
            pending = (checked, lookup, waiting)
            checked = []
            if progress is not None:
                progress(done, total)
    if pending is not None:
        _decide(decider, sink, *pending)
    sink.finish()
    decider.finish()
    if progress is not None:
        progress(total, total)
    return plan


def _decide(decider: Decider, sink: PlanSink, rows: list[_Row], lookup: Lookup, waiting: Callable[[], None]) -> None:
    waiting()
    sink.write(decider.decide(rows, lookup.found(decider.created_ids)), decider)


# Words of a list's closing block, folded: "Người lập biểu", "TM. Ban chấp hành", "Bí thư", "Xác nhận", "(Ký, ghi rõ
# họ tên)", "Tổng cộng", "Hòa Vang, ngày 5 tháng 3 năm 2025".
_FOOTER_WORDS = re.compile(
    r"nguoi lap|lap bieu|\bt/?m\b|thay mat|ban chap hanh|bi thu|xac nhan|ky ten|\bky,|da ky|tong cong|tong so"
    r"|\bngay\b.*\bthang\b.*\bnam\b"
)
# How far from the end the closing block is looked for.
_FOOTER_SCAN = 15


def _footer_start(rows: list[tuple[int, list]], columns: list[Column]) -> int:
    """How many of ``rows`` (those under the header) are members: the closing block is not. It starts at a row
    near the end that says what it is (``_FOOTER_WORDS``; the signature block, the totals) when no member follows,
    and takes in, after the last member, rows with a single filled cell outside the name columns (a total, a
    place and date). A lone name after the last member is a member whose data is missing, and is reported."""
    mapped = [c.index for c in columns]
    strong = [c.index for c in columns if c.field in _STRONG_FIELDS]
    names = [c.index for c in columns if c.field in ("full_name", "family_name", "given_name")]

    def filled(cells, indexes) -> list[int]:
        return [i for i in indexes if not _is_blank(_at(cells, i))]

    def member(cells) -> bool:
        # A name and a date of birth or citizen ID with digits in it (a signature under the ID column has none).
        dated = any(c.__class__ is not str or _has_digit(c) for c in (_at(cells, i) for i in filled(cells, strong)))
        return dated and bool(filled(cells, names) or not names)

    def says_footer(cells) -> bool:
        return any(c.__class__ is str and _FOOTER_WORDS.search(fold(c)) for c in cells)

    end = len(rows)
    for i in range(max(0, end - _FOOTER_SCAN), end):
        if says_footer(rows[i][1]) and not any(member(rows[j][1]) for j in range(i, end)):
            end = i
            break
    while end:
        cells = rows[end - 1][1]
        given = filled(cells, mapped)
        if filled(cells, strong) or len(given) > 1 or (given and given[0] in names):
            break
        end -= 1
    return end


class _Marker:
    """The outcome of a cell that gives no value."""


_BLANK = _Marker()  # an empty cell
_MASKED = _Marker()  # a cell masked by an export: the file does not give this value
_FAILED = _Marker()  # a parser bug


def _outcome(raw, parse):
    if raw is None or raw == "" or (raw.__class__ is str and not raw.strip()):
        return _BLANK
    try:
        return parse(raw)
    except Bad as exc:
        return exc
    except Masked:
        return _MASKED
    except Exception:
        return _FAILED


def _at(cells, index):
    return cells[index] if index < len(cells) else ""


def _error(row: _Row, by_field: dict[str, Column], key: str, message: str) -> None:
    column = by_field.get(key)
    header = column.header if column else _label(key)
    raw = _at(row.cells, column.index) if column else ""
    row.errors.append(RowError(row.number, header, shown(raw), message))


def _check_row(
    row: _Row,
    by_field: dict[str, Column],
    units: UnitResolver,
    divisions: DivisionResolver | None,
    age_checked: dict | None = None,
) -> None:
    """Turn the parsed cells of one row into member fields, with the checks that need several cells."""
    v = row.values
    out: dict = {}
    # Name: separate columns win over the full name; when both are given they must agree.
    if "family_name" in v or "given_name" in v:
        family, middle, given = v.get("family_name", ""), v.get("middle_name", ""), v.get("given_name", "")
        # Most files that give both agree word for word: the tuples compare before any string is built.
        if "full_name" in v and v["full_name"] != (family, middle, given):
            parts = " ".join(p for p in (family, middle, given) if p)
            if fold(" ".join(p for p in v["full_name"] if p)) != fold(parts):
                _error(
                    row,
                    by_field,
                    "full_name",
                    _("The full name does not match the family, middle and given names ({name}).").format(name=parts),
                )
        if not family:
            _error(row, by_field, "family_name", _("The family name is missing."))
        if not given:
            _error(row, by_field, "given_name", _("The given name is missing."))
        out.update(family_name=family, middle_name=middle, given_name=given)
    elif "full_name" in v:
        out["family_name"], out["middle_name"], out["given_name"] = v["full_name"]
    elif not any(e.column == _header(by_field, "full_name") for e in row.errors):
        _error(row, by_field, "full_name" if "full_name" in by_field else "given_name", _("The name is missing."))

    # Date of birth and sex: a date in the men's or women's column says both.
    dob = v.get("date_of_birth")
    sex = v.get("sex")
    male, female = v.get("date_of_birth_male"), v.get("date_of_birth_female")
    if male and female:
        _error(
            row, by_field, "date_of_birth_female", _("The date of birth is in both the men's and the women's column.")
        )
    elif male or female:
        dob = dob or male or female
        implied = Sex.MALE if male else Sex.FEMALE
        if sex and sex != implied:
            _error(row, by_field, "sex", _("The sex contradicts the column of the date of birth."))
        sex = sex or implied
    if "female_mark" in by_field and not sex:
        sex = v.get("female_mark", Sex.MALE)
    if dob is None and not _has_error(row, by_field, ("date_of_birth", "date_of_birth_male", "date_of_birth_female")):
        key = next((k for k in ("date_of_birth", "date_of_birth_male") if k in by_field), "date_of_birth_female")
        _error(row, by_field, key, _("The date of birth is missing."))
    if sex is None and not _has_error(row, by_field, ("sex",)):
        _error(row, by_field, "sex" if "sex" in by_field else "female_mark", _("The sex is missing."))
    if dob is not None:
        out["date_of_birth"] = dob
    if sex is not None:
        out["sex"] = sex

    cid = v.get("citizen_id")
    if cid:
        for message in citizen_id_errors(cid, dob, sex):
            _error(row, by_field, "citizen_id", message)
        out["citizen_id"] = cid
    kind = v.get("kind", MemberKind.UNION)
    if "kind" in v:
        out["kind"] = kind
    joined = v.get("joined_on")
    if joined is not None:
        if dob is not None and kind == MemberKind.UNION:
            # Dates repeat: the verdict for each (birth, admission) pair is worked out once per file.
            found = age_checked.get((dob, joined)) if age_checked is not None else None
            if found is None:
                found = admission_age_errors(dob, joined)
                if age_checked is not None:
                    age_checked[(dob, joined)] = found
            for message in found:
                _error(row, by_field, "joined_on", message)
        out["joined_on"] = joined
    party = v.get("party_joined_on")
    if party is not None:
        if dob is not None and party <= dob:
            _error(row, by_field, "party_joined_on", _("The date of joining the Party is before the date of birth."))
        out["party_joined_on"] = party

    for key in (
        "other_names",
        "ethnicity",
        "religion",
        "phone",
        "email",
        "occupation",
        "is_salaried",
        "schooling",
        "qualification",
        "political_theory",
        "foreign_language",
        "it_skill",
        "admitted_at",
        "card_number",
        "notes",
    ):
        if key in v:
            out[key] = v[key]

    if divisions is not None:
        if "hometown" in v:
            hometown_id, rest = divisions.resolve(v["hometown"])
            out["hometown_id"] = hometown_id
            if rest:
                out["hometown_address"] = rest
        if "residence" in v:
            residence_id, rest = divisions.resolve(v["residence"])
            out["residence_id"] = residence_id
            if rest and "residence_address" not in v:
                out["residence_address"] = rest
    if "residence_address" in v:
        out["residence_address"] = v["residence_address"]

    code, name = v.get("unit_code"), v.get("unit_name")
    try:
        if code:
            unit_id = units.by_code_or_error(code)
            if name and not units.names_match(unit_id, name):
                raise Bad(
                    _("The code {code} is {unit}, but the name says “{name}”.").format(
                        code=code, unit=units.by_code[code.upper()]["name"], name=name
                    )
                )
            out["unit_id"] = unit_id
        elif name:
            out["unit_id"] = units.by_name_or_error(name)
    except Bad as exc:
        _error(row, by_field, "unit_code" if code else "unit_name", str(exc.args[0]))
    row.values = out


def _header(by_field: dict[str, Column], key: str) -> str:
    column = by_field.get(key)
    return column.header if column else _label(key)


def _has_error(row: _Row, by_field: dict[str, Column], keys: tuple[str, ...]) -> bool:
    headers = {_header(by_field, k) for k in keys}
    return any(e.column in headers for e in row.errors)


def _search_key(values: dict) -> str:
    return fold(f"{values.get('given_name', '')} {values.get('middle_name', '')} {values.get('family_name', '')}")


class Decider:
    """Decides what each checked row becomes — create, update, unchanged or rejected — fed in file order, a
    chunk at a time, so that an import can write the first rows while it still checks the next ones.

    The outcome is the same as deciding the whole file at once: every row of a group that repeats a person
    (same citizen ID, same card number, or same name and date of birth without an ID) is rejected, so a row
    already decided is **withdrawn** when a later row repeats it (its decision and the errors the decision gave
    are undone; a writer deletes what it had written for it). Rows are matched against the members that were
    registered before the import: members this import created are ignored by the lookups (``created_ids``).
    """

    def __init__(self, plan: ImportPlan, by_field: dict[str, Column], units: UnitResolver, options: ImportOptions):
        self.plan, self.by_field, self.units, self.options = plan, by_field, units, options
        self.rows: list[_Row] = []
        self.groups: tuple[dict, dict, dict] = (defaultdict(list), defaultdict(list), defaultdict(list))
        self.duplicated: set[int] = set()  # row numbers in a group of more than one row
        # row number → (outcome, PlannedRow or None, how many errors the row had before its decision)
        self.decided: dict[int, tuple[str, PlannedRow | None, int]] = {}
        self.withdrawn: list[PlannedRow] = []  # creates decided, then withdrawn (a writer deletes them)
        self.created_ids: set[int] = set()  # members written by this import so far
        self.has_errors = False

    def _keys(self, values: dict) -> list[tuple[int, object]]:
        keys: list[tuple[int, object]] = []
        if values.get("citizen_id"):
            keys.append((0, values["citizen_id"]))
        elif "date_of_birth" in values and values.get("given_name"):
            keys.append((2, (_search_key(values), values["date_of_birth"])))
        if values.get("card_number"):
            keys.append((1, values["card_number"]))
        return keys

    def group(self, rows: list[_Row]) -> list[_Row]:
        """Take ``rows`` (the next ones of the file) into the groups of repeated people, withdrawing what they
        repeat; returns the rows that need a registry lookup before :meth:`decide`."""
        self.rows += rows
        for row in rows:
            for kind, key in self._keys(row.values):
                group = self.groups[kind][key]
                group.append(row)
                if len(group) > 1:
                    for member in group:
                        if member.number not in self.duplicated:
                            self.duplicated.add(member.number)
                            self._withdraw(member)
        return [row for row in rows if not row.errors and row.number not in self.duplicated]

    def decide(self, rows: list[_Row], existing: dict) -> list[PlannedRow]:
        """Decide ``rows``, grouped earlier, with ``existing`` (what their lookup found); a row that a later
        chunk has repeated meanwhile is left undecided. Returns the creates."""
        creates = []
        for row in rows:
            if row.errors or row.number in self.duplicated:
                continue
            mark = len(row.errors)
            outcome, planned = self._decide(row, existing)
            self.decided[row.number] = (outcome, planned, mark)
            if planned is not None and outcome == "create":
                creates.append(planned)
        self.has_errors = self.has_errors or any(row.errors for row in rows)
        return creates

    def _withdraw(self, row: _Row) -> None:
        outcome, planned, mark = self.decided.pop(row.number, ("", None, len(row.errors)))
        del row.errors[mark:]
        if planned is not None and outcome == "create":
            self.withdrawn.append(planned)
        elif outcome == "unchanged":
            self.plan.unchanged -= 1

    def _decide(self, row: _Row, existing: dict) -> tuple[str, PlannedRow | None]:
        plan, by_field, units, values = self.plan, self.by_field, self.units, row.values
        stored = None
        name_key = "full_name" if "full_name" in by_field else "given_name"
        if values.get("citizen_id"):
            stored = existing["cid"].get(values["citizen_id"])
        else:
            matches = existing["person"].get((_search_key(values), values.get("date_of_birth")), [])
            if len(matches) > 1:
                _error(
                    row,
                    by_field,
                    name_key,
                    _(
                        "{count} members with this name and date of birth are registered under {unit}; add the "
                        "citizen ID."
                    ).format(count=len(matches), unit=units.target.name),
                )
                return "rejected", None
            stored = matches[0] if matches else None
        card = values.get("card_number")
        if card:
            holder = existing["card"].get(card)
            if holder is not None and (stored is None or holder != stored["id"]):
                _error(row, by_field, "card_number", _("This card number belongs to another member."))
                return "rejected", None
        if stored is None:
            values.setdefault("unit_id", units.target.pk)
            planned = PlannedRow(row.number, values)
            plan.creates.append(planned)
            return "create", planned
        if not stored["unit__path"].startswith(units.target.path):
            _error(
                row,
                by_field,
                "citizen_id",
                _(
                    "This citizen ID is already registered in another unit, outside {unit}. Ask that unit to "
                    "transfer the member."
                ).format(unit=units.target.name),
            )
            return "rejected", None
        if "unit_id" in values and values["unit_id"] != stored["unit_id"]:
            _error(
                row,
                by_field,
                "unit_code" if "unit_code" in by_field else "unit_name",
                _(
                    "The member is registered in {unit}; moving a member to another unit is a transfer, not an import."
                ).format(unit=stored["unit__name"]),
            )
            return "rejected", None
        changed = tuple(
            f
            for f in _COMPARED
            if f in values
            and values[f] != stored[f]
            and not _same_empty(values[f], stored[f])
            and not (f in _NAME_FIELDS and _only_loses_marks(values[f], stored[f]))
        )
        if not changed:
            plan.unchanged += 1
            return "unchanged", None
        if self.options.duplicates == DUPLICATES_REJECT:
            names = ", ".join(_field_label(f) for f in changed)
            _error(
                row,
                by_field,
                "citizen_id" if values.get("citizen_id") else name_key,
                _("Already registered with other data ({fields}); choose “update” to overwrite it.").format(
                    fields=names
                ),
            )
            return "rejected", None
        # Empty cells keep the stored value: only what the row gives is written.
        merged = {f: stored[f] for f in WRITE_FIELDS}
        merged.update({f: values[f] for f in changed})
        merged["_status"] = stored["status"]
        planned = PlannedRow(row.number, merged, stored["id"], changed)
        plan.updates.append(planned)
        return "update", planned

    def finish(self) -> None:
        """The duplicate errors, what was withdrawn taken out of the plan, and the plan's errors in row order."""
        by_field = self.by_field
        messages = (
            ("citizen_id", _("The same citizen ID is also in row {rows}.")),
            ("card_number", _("The same card number is also in row {rows}.")),
            (
                "full_name" if "full_name" in by_field else "given_name",
                _("The same name and date of birth, without a citizen ID, are also in row {rows}; add the citizen ID."),
            ),
        )
        for groups, (key, message) in zip(self.groups, messages, strict=True):
            for group in groups.values():
                if len(group) > 1:
                    for row in group:
                        others = ", ".join(str(r.number) for r in group if r is not row)
                        _error(row, by_field, key, message.format(rows=others))
        if self.duplicated:
            self.plan.creates = [p for p in self.plan.creates if p.row not in self.duplicated]
            self.plan.updates = [p for p in self.plan.updates if p.row not in self.duplicated]
        self.plan.errors = sorted((e for row in self.rows for e in row.errors), key=lambda e: e.row)


_NAME_FIELDS = ("family_name", "middle_name", "given_name", "other_names")


def _only_loses_marks(new: str, stored: str) -> bool:
    """A name typed without its diacritics ("Tran Van Binh" for "Trần Văn Bình"): the same person, matched
    ignoring them, whose registered spelling an import must not overwrite with a poorer one."""
    folded = fold(new)
    return folded == fold(stored) and new.lower() == folded


def _same_empty(a, b) -> bool:
    return (a in ("", None)) and (b in ("", None))


_FIELD_LABELS = {
    "hometown_id": "hometown",
    "hometown_address": "hometown",
    "residence_id": "residence",
    "unit_id": "unit_name",
}


def _field_label(attname: str) -> str:
    key = _FIELD_LABELS.get(attname, attname)
    if key in TARGETS_BY_KEY:
        return _label(key)
    return str(getattr(Member._meta.get_field(attname.removesuffix("_id")), "verbose_name", attname))


def _among(field_name: str, values: list[str], cast: str = "text") -> Q:
    """``field_name`` is one of ``values`` (strings; ``cast`` is the column's type on PostgreSQL, text or date)."""
    if connection.vendor == "postgresql":
        # The values as one JSON text: psycopg adapts a list for text[] element by element, in Python (0.2 s of a
        # 100,000-row import, holding the interpreter that the check needs).
        param = (json.dumps(values),)
        if cast == "date":
            among = RawSQL("SELECT jsonb_array_elements_text(%s::jsonb)::date", param)
        else:
            among = RawSQL("SELECT jsonb_array_elements_text(%s::jsonb)", param)
        return Q(**{f"{field_name}__in": among})
    return Q(**{f"{field_name}__in": values})


class Lookup:
    """The registry lookups of one chunk of rows: members the rows may be, by citizen ID (anywhere), by card
    number (anywhere) and, for rows without a citizen ID, by name and date of birth in the target's subtree. The
    queries are made here, in the thread that checks; :meth:`run` may run them elsewhere (the streamed import's
    writing thread, on the same connection) with any DB-API cursor; :meth:`found` reads the result."""

    FIELDS = ("id", "status", "unit_id", "unit__path", "unit__name", *(f for f in WRITE_FIELDS if f != "unit_id"))

    def __init__(self, rows: list[_Row], target, chunk: int = 500):
        cids = [r.values["citizen_id"] for r in rows if r.values.get("citizen_id")]
        cards = [r.values["card_number"] for r in rows if r.values.get("card_number")]
        self.people = {
            (_search_key(r.values), r.values.get("date_of_birth")) for r in rows if not r.values.get("citizen_id")
        }
        names = sorted({name for name, _dob in self.people})
        births = sorted({dob.isoformat() for _name, dob in self.people if dob is not None})
        if connection.vendor == "postgresql":
            # One JSON parameter (_among) instead of 2,000 placeholders: psycopg spends longer splitting such a
            # query than PostgreSQL spends running it.
            chunk = 50_000
        members = Member.objects.order_by()
        queries: list[tuple[str, tuple[str, ...], Any]] = []
        for start in range(0, len(cids), chunk):
            queries.append(("cid", self.FIELDS, members.filter(_among("citizen_id", cids[start : start + chunk]))))
        for start in range(0, len(cards), chunk):
            queries.append(
                ("card", ("card_number", "id"), members.filter(_among("card_number", cards[start : start + chunk])))
            )
        for start in range(0, len(names), chunk):
            # Both columns of the index members_dob_name (date of birth first).
            among = _among("date_of_birth", births, "date") & _among("search_name", names[start : start + chunk])
            queries.append(
                ("person", (*self.FIELDS, "search_name"), members.filter(among, unit__path__startswith=target.path))
            )
        # SQL and parameters, for a plain DB-API cursor in whichever thread runs them.
        self.compiled = [(kind, fields, qs.values(*fields).query.sql_with_params()) for kind, fields, qs in queries]
        self.rows: list[tuple[str, dict]] = []

    def run(self, cursor) -> None:
        for kind, fields, (sql, params) in self.compiled:
            cursor.execute(sql, params)
            self.rows += [(kind, dict(zip(fields, row, strict=True))) for row in cursor.fetchall()]

    def found(self, ignore: Collection[int] = ()) -> dict:
        """What :meth:`run` found, except the members in ``ignore`` (those this import created)."""
        found: dict = {"cid": {}, "card": {}, "person": defaultdict(list)}
        for kind, m in self.rows:
            if m["id"] in ignore:
                continue
            if kind == "cid":
                found["cid"][m["citizen_id"]] = m
            elif kind == "card":
                found["card"][m["card_number"]] = m["id"]
            elif (m["search_name"], m["date_of_birth"]) in self.people:
                found["person"][(m["search_name"], m["date_of_birth"])].append(m)
        return found


# --- Running an import ------------------------------------------------------------------------------------------


@contextlib.contextmanager
def paused_gc():
    """No cyclic garbage collection while an import builds its millions of short-lived, acyclic objects: the
    collector's passes over a heap that keeps growing made a 100,000-row import three times slower."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            # What the import allocated and still holds is all in the youngest generation, which the first
            # collection after gc.enable() would walk whole (0.67 s after 100,000 rows, before the import could
            # report its end). Moved to the oldest generation instead (freeze, then unfreeze: no walk), it waits
            # for the next full collection, by when most of it has been freed.
            # Not when something else froze objects on purpose (a server's preload): unfreeze would thaw them too.
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def read_file(storage_name: str) -> bytes:
    from doanso.core.models import private_storage

    with private_storage().open(storage_name, "rb") as handle:
        return handle.read()


def _warm_up() -> None:
    from doanso.org.divisions import warm_up

    try:
        warm_up()
    except Exception:  # the check loads them itself if this failed
        logger.warning("could not load the address tables ahead of an import", exc_info=True)


def read_for_import(
    data: bytes, options: ImportOptions, progress: Progress | None = None, *, writing: bool = False
) -> tuple[Sheet, Callable[[int, int], None] | None]:
    """Read the file; returns the sheet and what reports the rows checked (and written, when ``writing``) to
    ``progress`` (a task's), for :func:`build_plan` or ``services.imports.import_member_sheet``."""
    if progress is not None:
        progress.start(0, _("Reading the file"))
    # calamine parses the file without holding the GIL (2 s for 100,000 rows): the address tables that the check
    # needs load meanwhile, in a fresh worker process, instead of stopping the check at the first old address.
    # So are the formulas and error cells of an XLSX looked for (zlib, too, works without the GIL).
    prescan: dict = {}

    def prepare() -> None:
        _warm_up()
        if data.startswith(ZIP_MAGIC):
            prescan.update(_xlsx_cells_without_value(data, options.sheet))

    warming = threading.Thread(target=prepare, name="member-import-warm-up", daemon=True)
    warming.start()
    try:
        sheet = read_sheet(data, options.filename, options.sheet)
    finally:
        warming.join()
    if sheet.file_type == "xlsx" and sheet.name in prescan:
        sheet.cells_without_value = prescan[sheet.name]  # what the cached property would compute
    if progress is None:
        return sheet, None
    state = {"started": False}

    def report(done: int, total: int) -> None:
        if not state["started"]:
            message = _("Importing {count} rows") if writing else _("Checking {count} rows")
            progress.start(total, message.format(count=total))
            state["started"] = True
        progress.advance(done)

    return sheet, report


def plan_from_file(data: bytes, options: ImportOptions, unit, progress: Progress | None = None) -> ImportPlan:
    """Read and check (the dry run); ``progress`` (a task's) shows reading, then checking."""
    with paused_gc():
        sheet, report = read_for_import(data, options, progress)
        return build_plan(sheet, options, unit, progress=report)


RESULT_LABELS = [
    ("rows", gettext_lazy("Rows read")),
    ("created", gettext_lazy("New members")),
    ("updated", gettext_lazy("Members updated")),
    ("unchanged", gettext_lazy("Unchanged")),
    ("errors", gettext_lazy("Rows rejected")),
]


def result_for_display(counts: dict, *, written: bool) -> dict:
    """TaskRun.result: labelled counts in the site's language (the task page shows them as they are)."""
    with translation.override(settings.LANGUAGE_CODE):
        result = {str(label): counts.get(key, 0) for key, label in RESULT_LABELS}
        result[str(gettext_lazy("Written"))] = str(gettext_lazy("yes") if written else gettext_lazy("no"))
    return result


def counts_from_result(result: dict) -> dict:
    with translation.override(settings.LANGUAGE_CODE):
        return {key: result.get(str(label), 0) for key, label in RESULT_LABELS}


def _file_error_report(progress: Progress, message: str) -> dict:
    progress.attach_errors([{"row": "", "column": "", "value": "", "message": message}])
    progress.run.message = message[:500]
    return result_for_display({"rows": 0, "errors": 1}, written=False)


@task
@tracked
def preview_members_import(progress: Progress, *, storage_name: str, options: dict, language: str = "") -> dict:
    """The dry run: every rejected row in the error report, the counts of what a commit would do."""
    from doanso.org.models import Unit

    with translation.override(language or settings.LANGUAGE_CODE):
        opts = ImportOptions(**options)
        unit = Unit.objects.get(pk=opts.unit_id)
        try:
            plan = plan_from_file(read_file(storage_name), opts, unit, progress)
        except ImportFileError as exc:
            return _file_error_report(progress, str(exc))
        progress.attach_errors(e.as_dict() for e in plan.errors)
        progress.advance(progress.run.total, message=_preview_message(plan))
        return result_for_display(plan.summary(), written=False)


def _preview_message(plan: ImportPlan) -> str:
    if not plan.errors:
        return _("Checked {rows} rows: no problem found. Nothing is written until you confirm.").format(rows=plan.rows)
    return ngettext(
        "Checked {rows} rows: {count} row is rejected. Nothing is written until you confirm.",
        "Checked {rows} rows: {count} rows are rejected. Nothing is written until you confirm.",
        plan.rejected,
    ).format(rows=plan.rows, count=plan.rejected)


@task
@tracked
def commit_members_import(
    progress: Progress,
    *,
    storage_name: str,
    options: dict,
    actor_id: int,
    only_valid: bool = False,
    language: str = "",
    delete_file: bool = True,
) -> dict:
    """Check again (the registry may have changed since the dry run) and write, all or nothing unless
    ``only_valid``. The uploaded file is deleted once written: it holds personal data that is now in the
    registry."""
    from django.contrib.auth import get_user_model

    from doanso.core.models import private_storage
    from doanso.org.models import Unit

    from .services.imports import ImportRefused, import_member_sheet

    with translation.override(language or settings.LANGUAGE_CODE):
        opts = ImportOptions(**options)
        unit = Unit.objects.get(pk=opts.unit_id)
        actor = get_user_model().objects.get(pk=actor_id)
        try:
            with paused_gc():
                sheet, report = read_for_import(read_file(storage_name), opts, progress, writing=True)
                plan, counts = import_member_sheet(
                    sheet, opts, actor=actor, unit=unit, only_valid=only_valid, progress=report
                )
        except ImportFileError as exc:
            return _file_error_report(progress, str(exc))
        except ImportRefused as exc:
            if exc.plan is not None:
                progress.attach_errors(e.as_dict() for e in exc.plan.errors)
            progress.run.message = str(exc)[:500]
            summary = exc.plan.summary() if exc.plan is not None else {"rows": 0, "errors": 0}
            return result_for_display({**summary, "created": 0, "updated": 0, "unchanged": 0}, written=False)
        finally:
            # Written or refused, the upload has served: it holds personal data and a new attempt starts from
            # a new upload.
            if delete_file:
                private_storage().delete(storage_name)
        progress.attach_errors(e.as_dict() for e in plan.errors)
        progress.advance(progress.run.total, message=_commit_message(counts))
        return result_for_display(counts, written=True)


def _commit_message(counts: dict) -> str:
    return _("Imported: {created} new, {updated} updated, {unchanged} unchanged, {errors} rejected.").format(**counts)
