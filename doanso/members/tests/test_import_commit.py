"""Committing an import: all or nothing, only the valid rows when asked, updates, idempotence, the timeline and
the audit record."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import translation
from freezegun import freeze_time

from doanso.core.models import AuditRecord
from doanso.members.importing import (
    DUPLICATES_REJECT,
    OUR_LAYOUT,
    ImportOptions,
    build_plan,
    read_sheet,
)
from doanso.members.models import Member, MemberEvent
from doanso.members.services.imports import ImportRefused, SearchColumns, commit_member_import, import_member_sheet

from .factories import MemberFactory
from .import_files import HEADER, our_layout_row, people, person, write_xlsx

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english_on_a_fixed_day():
    with translation.override("en"), freeze_time("2025-09-01 03:00:00"):
        yield


def plan_for(world, path, unit=None, **options):
    unit = unit or world.C1
    sheet = read_sheet(path.read_bytes(), path.name)
    return build_plan(sheet, ImportOptions(unit_id=unit.pk, filename=path.name, **options), unit)


@pytest.fixture(params=["checked then written", "streamed in chunks of 2"])
def run(request):
    """Each test runs both ways of importing: build_plan then commit_member_import, and import_member_sheet with
    tiny chunks (on PostgreSQL it writes each chunk while checking the next); the outcome must be the same."""

    def run(world, path, *, unit=None, only_valid=False, actor=None, **options):
        unit = unit or world.C1
        actor = actor or world.manager_C1
        if request.param.startswith("checked"):
            plan = plan_for(world, path, unit, **options)
            return commit_member_import(plan, actor=actor, unit=unit, only_valid=only_valid)
        sheet = read_sheet(path.read_bytes(), path.name)
        opts = ImportOptions(unit_id=unit.pk, filename=path.name, **options)
        return import_member_sheet(sheet, opts, actor=actor, unit=unit, only_valid=only_valid, chunk=2)[1]

    return run


def snapshot():
    return (
        list(Member.objects.order_by("pk").values_list("pk", "citizen_id", "phone", "updated_at")),
        MemberEvent.objects.count(),
        AuditRecord.objects.filter(action="members.import").count(),
    )


def test_a_clean_file_is_written_whole_with_timeline_and_one_audit_record(world, tmp_path, run):
    path = write_xlsx(tmp_path / "ds.xlsx", [HEADER, *people(3)])
    counts = run(world, path)
    assert counts == {"rows": 3, "created": 3, "updated": 0, "unchanged": 0, "errors": 0}
    members = list(Member.objects.order_by("citizen_id"))
    assert [(m.full_name, m.citizen_id, m.phone, m.unit_id, m.sex, m.joined_on) for m in members] == [
        ("Trần Thị Bình", "048303000001", "+84905123001", world.B1.pk, "female", datetime.date(2019, 3, 26)),
        ("Trần Thị Chi", "048303000002", "+84905123002", world.B1.pk, "female", datetime.date(2019, 3, 26)),
        ("Trần Thị Dũng", "048303000003", "+84905123003", world.B1.pk, "female", datetime.date(2019, 3, 26)),
    ]
    # The search columns are filled exactly as a single save fills them.
    for member in members:
        expected = Member(
            **{
                f: getattr(member, f)
                for f in (
                    "family_name",
                    "middle_name",
                    "given_name",
                    "other_names",
                    "citizen_id",
                    "phone",
                    "card_number",
                )
            }
        )
        expected.refresh_search()
        assert (member.search_name, member.search_text, member.search_ids, member.sort_name) == (
            expected.search_name,
            expected.search_text,
            expected.search_ids,
            expected.sort_name,
        )
    events = list(MemberEvent.objects.order_by("member__citizen_id").values_list("kind", "unit_id", "data", "actor_id"))
    assert events == [
        ("imported", world.B1.pk, {"file": "ds.xlsx", "row": n + 1}, world.manager_C1.pk) for n in (1, 2, 3)
    ]
    audit = AuditRecord.objects.get(action="members.import")
    assert (audit.actor, audit.unit, audit.object_repr) == (world.manager_C1, world.C1, "ds.xlsx")
    assert audit.after == {
        "rows": 3,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "errors": 0,
        "file": "ds.xlsx",
        "sheet": "Danh sách",
        "only_valid": False,
    }


def test_one_wrong_row_means_nothing_is_written(world, tmp_path, run):
    MemberFactory(unit=world.B1, citizen_id="048203000099")
    before = snapshot()
    rows = [HEADER, *people(4), person(5, **{"Ngày sinh": "31/02/2001"})]
    with pytest.raises(ImportRefused) as info:
        run(world, write_xlsx(tmp_path / "ds.xlsx", rows))
    assert str(info.value) == (
        "1 row is rejected, so nothing was imported. Correct the file, or choose to import only the valid rows."
    )
    assert snapshot() == before


def test_only_the_valid_rows_when_asked_explicitly(world, tmp_path, run):
    rows = [HEADER, *people(2), person(3, **{"Ngày sinh": "31/02/2001"})]
    counts = run(world, write_xlsx(tmp_path / "ds.xlsx", rows), only_valid=True)
    assert counts == {"rows": 3, "created": 2, "updated": 0, "unchanged": 0, "errors": 1}
    assert sorted(Member.objects.values_list("citizen_id", flat=True)) == ["048303000001", "048303000002"]
    assert AuditRecord.objects.get(action="members.import").after["only_valid"] is True


def test_importing_the_same_file_twice_changes_nothing(world, tmp_path, run):
    path = write_xlsx(tmp_path / "ds.xlsx", [HEADER, *people(3), person(9, **{"Số CCCD": ""})])
    run(world, path)
    before = snapshot()
    counts = run(world, path)
    assert counts == {"rows": 4, "created": 0, "updated": 0, "unchanged": 4, "errors": 0}
    # Nothing but the audit record of the second run: no member row, no timeline entry.
    members, events, audits = snapshot()
    assert (members, events, audits) == (before[0], before[1], before[2] + 1)


def test_duplicates_are_updated_without_erasing_what_the_file_leaves_empty(world, tmp_path, run):
    member = MemberFactory(
        unit=world.B1,
        family_name="Nguyễn",
        middle_name="Văn",
        given_name="An",
        citizen_id="048203000001",
        phone="+84905000000",
        email="an@example.vn",
        date_of_birth=datetime.date(2003, 5, 17),
        sex="male",
    )
    rows = [HEADER, person(1, **{"Dân tộc": "Cơ-tu"})]
    counts = run(world, write_xlsx(tmp_path / "ds.xlsx", rows))
    assert counts == {"rows": 1, "created": 0, "updated": 1, "unchanged": 0, "errors": 0}
    member.refresh_from_db()
    assert (member.phone, member.ethnicity, member.email, member.joined_on) == (
        "+84905123001",
        "Cơ Tu",
        "an@example.vn",
        datetime.date(2019, 3, 26),
    )
    event = MemberEvent.objects.get(member=member)
    assert (event.kind, event.data) == (
        "updated",
        {"file": "ds.xlsx", "row": 2, "fields": ["ethnicity", "phone", "joined_on"]},
    )


def test_duplicates_are_rejected_when_the_person_chooses_so(world, tmp_path):
    MemberFactory(
        unit=world.B1,
        family_name="Lê",
        middle_name="Thị",
        given_name="Hoa",
        citizen_id="048203000001",
        date_of_birth=datetime.date(2003, 5, 17),
        sex="male",
    )
    before = snapshot()
    plan = plan_for(world, write_xlsx(tmp_path / "ds.xlsx", [HEADER, person(1)]), duplicates=DUPLICATES_REJECT)
    assert [(e.row, e.column, e.message) for e in plan.errors] == [
        (
            2,
            "Số CCCD",
            "Already registered with other data (Family name, Middle name, Given name, Phone, Joined the union on); "
            "choose “update” to overwrite it.",
        )
    ]
    with pytest.raises(ImportRefused):
        commit_member_import(plan, actor=world.manager_C1, unit=world.C1)
    assert snapshot() == before


def test_duplicates_inside_the_file_are_all_rejected(world, tmp_path):
    rows = [HEADER, person(1), person(2, **{"Số CCCD": "048203000001"}), person(3)]
    plan = plan_for(world, write_xlsx(tmp_path / "ds.xlsx", rows))
    assert [(e.row, e.column, e.message) for e in plan.errors] == [
        (2, "Số CCCD", "The same citizen ID is also in row 3."),
        (3, "Số CCCD", "The same citizen ID is also in row 2."),
    ]
    assert len(plan.creates) == 1


def test_a_member_of_another_unit_is_not_touched(world, tmp_path):
    other = MemberFactory(unit=world.B3, citizen_id="048203000001", date_of_birth=datetime.date(2003, 5, 17))
    plan = plan_for(world, write_xlsx(tmp_path / "ds.xlsx", [HEADER, person(1)]))
    assert [e.message for e in plan.errors] == [
        "This citizen ID is already registered in another unit, outside Đoàn xã Hòa Vang. "
        "Ask that unit to transfer the member."
    ]
    commit_member_import(plan, actor=world.manager_C1, unit=world.C1, only_valid=True)
    other.refresh_from_db()
    assert (other.unit_id, other.phone) == (world.B3.pk, "")


def test_an_import_never_moves_a_member_to_another_unit(world, tmp_path):
    MemberFactory(unit=world.B2, citizen_id="048203000001", date_of_birth=datetime.date(2003, 5, 17), sex="male")
    plan = plan_for(world, write_xlsx(tmp_path / "ds.xlsx", [HEADER, person(1)]))
    assert [(e.column, e.message) for e in plan.errors] == [
        (
            "Đơn vị",
            "The member is registered in Chi đoàn thôn 2; moving a member to another unit is a transfer, not an "
            "import.",
        )
    ]


def test_card_number_of_another_member_is_refused(world, tmp_path):
    MemberFactory(unit=world.B1, card_number="DV0001")
    header = [*HEADER, "Số thẻ đoàn viên"]
    plan = plan_for(world, write_xlsx(tmp_path / "ds.xlsx", [header, [*person(1), "DV0001"]]))
    assert [(e.column, e.value, e.message) for e in plan.errors] == [
        ("Số thẻ đoàn viên", "DV0001", "This card number belongs to another member.")
    ]


def test_rows_without_citizen_id_match_by_name_and_birth_date_inside_the_unit(world, tmp_path, run):
    member = MemberFactory(
        unit=world.B2,
        family_name="Nguyễn",
        middle_name="Văn",
        given_name="An",
        date_of_birth=datetime.date(2003, 5, 17),
    )
    header = [h for h in HEADER if h != "Đơn vị"]
    rows = [header, [v for h, v in zip(HEADER, person(1, **{"Số CCCD": ""}), strict=True) if h != "Đơn vị"]]
    counts = run(world, write_xlsx(tmp_path / "ds.xlsx", rows))
    assert counts["updated"] == 1 and counts["created"] == 0
    member.refresh_from_db()
    assert (member.unit_id, member.phone) == (world.B2.pk, "+84905123001")


def test_our_own_export_layout_imports_back_unchanged(world, tmp_path, run):
    from doanso.members.exporting import OUR_COLUMNS

    rows = [
        OUR_LAYOUT,
        our_layout_row(
            **{
                "Họ và tên": "Alăng Thị Hoa",
                "Họ": "Alăng",
                "Tên đệm": "Thị",
                "Tên": "Hoa",
                "Ngày sinh": "02/01/2004",
                "Giới tính": "Nữ",
                "Dân tộc": "Cơ Tu",
                "Số CCCD": "049304000123",
                "Số điện thoại": "0905 123 456",
                "Quê quán": "Xã Cà Dy, Huyện Nam Giang, Tỉnh Quảng Nam",
                "Nghề nghiệp": "Sinh viên",
                "Có lương": "",
                "Trình độ học vấn": "12/12",
                "Chuyên môn": "Đại học",
                "Ngày vào Đoàn": "26/03/2019",
                "Số thẻ đoàn viên": "DV000123",
                "Đơn vị (mã)": "B2",
                "Đơn vị": "Chi đoàn thôn 2",
            }
        ),
    ]
    assert run(world, write_xlsx(tmp_path / "ds.xlsx", rows))["created"] == 1
    member = Member.objects.select_related("unit", "hometown__province").get()
    assert (member.hometown.name, member.occupation, member.qualification, member.unit) == (
        "Xã Bến Giằng",
        "student",
        "university",
        world.B2,
    )
    # What the export writes for this member imports back as "unchanged".
    with translation.override("vi"):
        exported = [OUR_LAYOUT, [getter(member) for _header, getter in OUR_COLUMNS]]
    counts = run(world, write_xlsx(tmp_path / "export.xlsx", exported))
    assert counts == {"rows": 1, "created": 0, "updated": 0, "unchanged": 1, "errors": 0}


def test_the_import_needs_the_right_at_the_unit(world, tmp_path):
    plan = plan_for(world, write_xlsx(tmp_path / "ds.xlsx", [HEADER, person(1)]))
    with pytest.raises(PermissionDenied):
        commit_member_import(plan, actor=world.manager_C2, unit=world.C1)
    assert Member.objects.count() == 0


@pytest.mark.parametrize(
    "values",
    [
        {
            "family_name": "Đặng",
            "middle_name": "Thị Kim",
            "given_name": "Ánh",
            "citizen_id": "048303000001",
            "card_number": "DV9",
        },
        {
            "family_name": "Nguyễn",
            "middle_name": "Văn",
            "given_name": "An",
            "other_names": "Tí",
            "citizen_id": None,
            "phone": "+84905123456",
            "card_number": None,
        },
        {"family_name": "Lê", "middle_name": "", "given_name": "Hà", "phone": "0905 123 456"},
        {"family_name": "Alăng", "given_name": "Bơ", "phone": "", "citizen_id": ""},
    ],
)
def test_search_columns_follow_the_model_rule(values):
    from doanso.members.services.imports import SEARCH_FIELDS

    search = SearchColumns()
    member = Member(**values)
    member.refresh_search()
    expected = tuple(getattr(member, f) for f in SEARCH_FIELDS)
    assert search(values) == expected
    assert search(dict(values)) == expected  # from the cache of names
    assert all(expected)


def test_saving_a_column_mapping_is_audited(world):
    from doanso.core.models import AuditRecord
    from doanso.members.services.imports import save_mapping

    save_mapping(actor=world.manager_C1, name="Danh sách xã", mapping={"Họ và tên": "full_name"})
    save_mapping(actor=world.manager_C1, name="Danh sách xã", mapping={"Họ tên": "full_name"})
    assert list(
        AuditRecord.objects.filter(object_type="members.importmapping").order_by("id").values_list("action", flat=True)
    ) == ["members.import_mapping.create", "members.import_mapping.update"]


def test_a_name_typed_without_diacritics_matches_but_keeps_the_registered_spelling(world, tmp_path, run):
    # Found by a test pass: the row matched "Trần Văn Bình" ignoring diacritics, then wrote "Van" over "Văn".
    member = MemberFactory(
        unit=world.B1,
        family_name="Trần",
        middle_name="Văn",
        given_name="Bình",
        citizen_id=None,
        date_of_birth=datetime.date(2003, 5, 17),
        sex="male",
    )
    rows = [HEADER, person(1, **{"Họ và tên": "Tran Van Binh", "Số CCCD": ""})]
    counts = run(world, write_xlsx(tmp_path / "ds.xlsx", rows))
    assert (counts["created"], counts["errors"]) == (0, 0)
    member.refresh_from_db()
    assert (member.family_name, member.middle_name, member.given_name) == ("Trần", "Văn", "Bình")
    # The other way round, the marks are an improvement and are written.
    member.middle_name = "Van"
    member.save()
    rows = [HEADER, person(1, **{"Họ và tên": "Trần Văn Bình", "Số CCCD": ""})]
    run(world, write_xlsx(tmp_path / "ds2.xlsx", rows))
    member.refresh_from_db()
    assert member.middle_name == "Văn"
