"""Exports of a filtered member list to XLSX or CSV, in our layout or the national database's, as a background
task. Protected fields are masked unless the user has the right and gave a reason; every export is logged as
an access record (Decree 13/2023/NĐ-CP)."""

import csv
import io

from django.tasks import task
from django.utils.translation import gettext as _

from doanso.accounts.models import User
from doanso.accounts.phones import display_phone
from doanso.accounts.roles import VIEW_MEMBERS, VIEW_SENSITIVE
from doanso.core import audit
from doanso.core.tasks import Progress, tracked
from doanso.org.models import Unit
from doanso.org.selectors import tree_roots

from . import selectors
from .models import Member
from .privacy import SENSITIVE_FIELDS, mask_citizen_id, mask_email, mask_phone


def _date(value):
    return value.strftime("%d/%m/%Y") if value else ""


def _division(value):
    return str(value) if value else ""


# Our layout: the header names the import recognises too (importing.OUR_LAYOUT), in the same order.
OUR_COLUMNS = [
    ("Họ và tên", lambda m: m.full_name),
    ("Họ", lambda m: m.family_name),
    ("Tên đệm", lambda m: m.middle_name),
    ("Tên", lambda m: m.given_name),
    ("Ngày sinh", lambda m: _date(m.date_of_birth)),
    ("Giới tính", lambda m: m.get_sex_display()),
    ("Dân tộc", lambda m: m.ethnicity),
    ("Tôn giáo", lambda m: m.religion),
    ("Số CCCD", lambda m: m.citizen_id or ""),
    ("Số điện thoại", lambda m: display_phone(m.phone)),
    ("Email", lambda m: m.email),
    ("Quê quán", lambda m: _division(m.hometown)),
    ("Nơi ở hiện nay", lambda m: _division(m.residence)),
    ("Địa chỉ", lambda m: m.residence_address),
    ("Nghề nghiệp", lambda m: m.get_occupation_display()),
    ("Có lương", lambda m: "x" if m.is_salaried else ""),
    ("Trình độ học vấn", lambda m: m.schooling),
    ("Chuyên môn", lambda m: m.get_qualification_display()),
    ("Lý luận chính trị", lambda m: m.get_political_theory_display()),
    ("Ngoại ngữ", lambda m: m.foreign_language),
    ("Tin học", lambda m: m.it_skill),
    ("Ngày vào Đoàn", lambda m: _date(m.joined_on)),
    ("Nơi kết nạp", lambda m: m.admitted_at),
    ("Số thẻ đoàn viên", lambda m: m.card_number or ""),
    ("Ngày vào Đảng", lambda m: _date(m.party_joined_on)),
    ("Đơn vị (mã)", lambda m: m.unit.code),
    ("Đơn vị", lambda m: m.unit.name),
    ("Ghi chú", lambda m: m.notes),
]
# Columns holding protected data in either layout, masked unless unmasked with a reason. Addresses keep the
# commune and lose the street.
MASKS = {
    "Số CCCD": lambda m: mask_citizen_id(m.citizen_id),
    "Số CCCD/CMND": lambda m: mask_citizen_id(m.citizen_id),
    "Số điện thoại": lambda m: mask_phone(m.phone),
    "Email": lambda m: mask_email(m.email),
    "Địa chỉ": lambda m: "",
    "Nơi thường trú": lambda m: _division(m.residence),
    "Nơi ở hiện nay": lambda m: _division(m.residence),
    "Tôn giáo": lambda m: "",
    "Ngày vào Đảng": lambda m: "",
}
# Columns whose values are digit strings Excel would turn into numbers.
TEXT_COLUMNS = {"Số CCCD", "Số CCCD/CMND", "Số điện thoại", "Số thẻ đoàn viên"}


def columns_of(layout: str) -> list:
    if layout == "national":
        from .importing import NATIONAL_COLUMNS

        return NATIONAL_COLUMNS
    return OUR_COLUMNS


def rows(members, columns, unmasked: bool):
    for member in members:
        yield [
            (MASKS[header](member) if not unmasked and header in MASKS else getter(member))
            for header, getter in columns
        ]


def write_xlsx(header: list[str], data, progress: Progress | None = None) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Members"))
    bold = Font(bold=True)
    sheet.append([_bold(sheet, h, bold) for h in header])
    text_at = {i for i, h in enumerate(header) if h in TEXT_COLUMNS}
    for count, row in enumerate(data, start=1):
        cells = []
        for i, value in enumerate(row):
            cell = WriteOnlyCell(sheet, value=str(value) if value is not None else "")
            if cell.data_type == "f":
                cell.data_type = "s"  # a note typed as "=HYPERLINK(…)" is text, never a formula Excel would run
            if i in text_at:
                cell.number_format = "@"  # text: Excel keeps 048203001234 and 0905123456 as typed
            cells.append(cell)
        sheet.append(cells)
        if progress and count % 1000 == 0:
            progress.advance(count)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _bold(sheet, value, font):
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    cell.font = font
    return cell


# What makes a spreadsheet read a CSV cell as a formula (CSV injection): such text is written as text too.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(value) -> str:
    """="…" is how a CSV tells Excel that a cell is text: leading zeros and long digit strings survive, and text
    that starts like a formula stays text (the import reads it back as the text inside)."""
    return '="' + str(value).replace('"', '""') + '"'


def write_csv(header: list[str], data, progress: Progress | None = None) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    text_at = {i for i, h in enumerate(header) if h in TEXT_COLUMNS}
    for count, row in enumerate(data, start=1):
        writer.writerow(
            [
                _csv_text(v) if v and (i in text_at or str(v).startswith(_FORMULA_START)) else v
                for i, v in enumerate(row)
            ]
        )
        if progress and count % 1000 == 0:
            progress.advance(count)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


@task
@tracked
def export_members(
    progress: Progress,
    *,
    user_id: int,
    criteria: dict,
    layout: str,
    file_format: str,
    unmasked: bool = False,
    reason: str = "",
) -> dict:
    user = User.objects.get(pk=user_id)
    criteria = dict(criteria)
    if criteria.get("unit"):
        criteria["unit"] = Unit.objects.get(pk=criteria["unit"])
    members = (
        selectors.search(user, **criteria)
        .select_related("unit", "hometown__province", "residence__province")
        .order_by("sort_name", "id")
    )
    if unmasked:
        # Unmasked rows only for units where the user holds the right; the task refuses otherwise.
        members = members.filter(pk__in=Member.objects.restrict(user, VIEW_SENSITIVE).values("pk"))
    total = members.count()
    progress.start(total, _("Writing {n} members").format(n=total))
    columns = columns_of(layout)
    header = [h for h, _getter in columns]
    data = rows(members.iterator(chunk_size=2000), columns, unmasked)
    content = (write_xlsx if file_format == "xlsx" else write_csv)(header, data, progress)
    progress.advance(total, message=_("Wrote {n} members.").format(n=total))
    progress.attach_result(f"doan-vien-{layout}.{file_format}", content)
    # File the access record under the unit exported, or the user's highest unit, so their managers see it.
    scope_unit = criteria.get("unit") or next(iter(tree_roots(user, VIEW_MEMBERS)), None)
    audit.record_access(
        actor=user,
        purpose="export",
        object_type="members.member",
        fields=list(SENSITIVE_FIELDS) if unmasked else [],
        row_count=total,
        unit=scope_unit if isinstance(scope_unit, Unit) else None,
        reason=reason or _("Export with protected data masked"),
    )
    return {_("Members"): total}


def can_export_unmasked(user) -> bool:
    from doanso.accounts.scope import can_anywhere

    return can_anywhere(user, VIEW_SENSITIVE)
