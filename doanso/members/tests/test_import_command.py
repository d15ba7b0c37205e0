"""manage.py import_members: the exact command-line contract."""

import io
import json

import pytest
from django.core.management import call_command
from django.test import override_settings

from doanso.core.models import AuditRecord
from doanso.members.importing import OUR_MAPPING_NAME
from doanso.members.models import Member, MemberEvent

from .import_files import HEADER, people, person, write_xlsx

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[int, list[str]]:
    out = io.StringIO()
    # The site's language is English here, so that the messages asserted are the source strings.
    with override_settings(LANGUAGE_CODE="en"):
        try:
            call_command("import_members", *args, stdout=out)
            status = 0
        except SystemExit as exc:
            status = exc.code
    return status, out.getvalue().splitlines()


def test_a_clean_file_is_imported_with_status_0_and_the_json_summary_last(world, tmp_path):
    path = write_xlsx(tmp_path / "ds.xlsx", [HEADER, *people(3)])
    status, lines = run(str(path), "--unit", "C1")
    assert status == 0
    assert lines == ['{"rows": 3, "created": 3, "updated": 0, "unchanged": 0, "errors": 0}']
    assert Member.objects.filter(unit=world.B1).count() == 3
    audit = AuditRecord.objects.get(action="members.import")
    assert (audit.actor, audit.unit) == (None, world.C1)


def test_rejected_rows_are_printed_status_1_and_nothing_written(world, tmp_path):
    rows = [HEADER, *people(2), person(4, **{"Ngày sinh": "31/02/2001"})]
    status, lines = run(str(write_xlsx(tmp_path / "ds.xlsx", rows)), "--unit", "C1")
    assert status == 1
    assert lines == [
        "4\tNgày sinh\t31/02/2001\tThe date 31/02/2001 does not exist: month 2 of 2001 has 28 days.",
        "1 row is rejected, so nothing was imported. Correct the file, or choose to import only the valid rows.",
        '{"rows": 3, "created": 0, "updated": 0, "unchanged": 0, "errors": 1}',
    ]
    assert (Member.objects.count(), MemberEvent.objects.count()) == (0, 0)


def test_dry_run_reports_what_would_happen_and_writes_nothing(world, tmp_path):
    rows = [HEADER, *people(2), person(4, **{"Số CCCD": "12345"})]
    status, lines = run(str(write_xlsx(tmp_path / "ds.xlsx", rows)), "--unit", "C1", "--dry-run")
    assert status == 1
    assert lines[0] == "4\tSố CCCD\t12345\tA citizen ID has exactly 12 digits; this one has 5 digits."
    assert json.loads(lines[-1]) == {"rows": 3, "created": 2, "updated": 0, "unchanged": 0, "errors": 1}
    assert Member.objects.count() == 0


def test_only_valid_and_importing_twice(world, tmp_path):
    path = write_xlsx(tmp_path / "ds.xlsx", [HEADER, *people(2), person(4, **{"Ngày sinh": "31/02/2001"})])
    status, lines = run(str(path), "--unit", "C1", "--only-valid")
    assert (status, json.loads(lines[-1])) == (1, {"rows": 3, "created": 2, "updated": 0, "unchanged": 0, "errors": 1})
    status, lines = run(str(path), "--unit", "C1", "--only-valid")
    assert json.loads(lines[-1]) == {"rows": 3, "created": 0, "updated": 0, "unchanged": 2, "errors": 1}
    assert Member.objects.count() == 2


def test_a_named_mapping_is_used(world, tmp_path):
    from doanso.members.importing import OUR_LAYOUT

    from .import_files import our_layout_row

    row = our_layout_row(**{"Họ": "Lê", "Tên": "Hà", "Ngày sinh": "01/02/2004", "Giới tính": "Nữ"})
    path = write_xlsx(tmp_path / "ds.xlsx", [OUR_LAYOUT, row])
    status, lines = run(str(path), "--unit", "C1", "--mapping", OUR_MAPPING_NAME)
    assert (status, lines) == (0, ['{"rows": 1, "created": 1, "updated": 0, "unchanged": 0, "errors": 0}'])
    assert Member.objects.get().unit == world.C1


def test_an_unreadable_file_is_reported_with_status_1(world, tmp_path):
    path = tmp_path / "hong.xlsx"
    path.write_bytes(b"%PDF-1.4 not a spreadsheet")
    status, lines = run(str(path), "--unit", "C1")
    assert status == 1
    assert lines == [
        "hong.xlsx: This is a PDF file, not a spreadsheet. Upload an Excel (.xlsx, .xls), OpenDocument (.ods) or CSV "
        "file.",
        '{"rows": 0, "created": 0, "updated": 0, "unchanged": 0, "errors": 1}',
    ]


def test_usage_errors_say_why_and_end_with_the_json_summary(world, tmp_path):
    path = write_xlsx(tmp_path / "ds.xlsx", [HEADER, person(1)])
    summary = '{"rows": 0, "created": 0, "updated": 0, "unchanged": 0, "errors": 1}'
    for args, message in [
        (("--unit", "NOPE"), "No unit has the code NOPE."),
        (("--unit", "C1", "--mapping", "Khác"), "No column mapping is named “Khác”; known: "),
        (("--unit", "C1", "--user", "mgr_c2"), "mgr_c2 may not import members into C1."),
    ]:
        status, lines = run(str(path), *args)
        assert status == 1 and lines[-1] == summary, args
        assert lines[0].startswith(message), lines
    status, lines = run(str(tmp_path / "khong-co.xlsx"), "--unit", "C1")
    assert (status, lines[-1]) == (1, summary) and lines[0].startswith("No such file: ")
    assert Member.objects.count() == 0
