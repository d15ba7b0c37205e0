"""``import_member_sheet``: checking and writing in one pass (on PostgreSQL each chunk of new members is written
while the next chunk is checked). Small chunks put related rows in different chunks; the outcome must be that of
checking the whole file first."""

import datetime

import pytest
from django.utils import translation
from freezegun import freeze_time

from doanso.core.models import AuditRecord
from doanso.members import importing
from doanso.members.importing import ImportOptions, build_plan, read_sheet
from doanso.members.models import Member, MemberEvent
from doanso.members.services.imports import ImportRefused, import_member_sheet

from .factories import MemberFactory
from .import_files import HEADER, people, person, write_xlsx

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english_on_a_fixed_day():
    with translation.override("en"), freeze_time("2025-09-01 03:00:00"):
        yield


def stream(world, path, *, only_valid=False, chunk=2, progress=None):
    sheet = read_sheet(path.read_bytes(), path.name)
    options = ImportOptions(unit_id=world.C1.pk, filename=path.name)
    return import_member_sheet(
        sheet, options, actor=world.manager_C1, unit=world.C1, only_valid=only_valid, chunk=chunk, progress=progress
    )


def whole_file_plan(world, path):
    sheet = read_sheet(path.read_bytes(), path.name)
    return build_plan(sheet, ImportOptions(unit_id=world.C1.pk, filename=path.name), world.C1, chunk=10_000)


def errors(plan):
    return [(e.row, e.column, e.value, e.message) for e in plan.errors]


def snapshot():
    return (
        list(Member.objects.order_by("pk").values_list("pk", "citizen_id", "updated_at")),
        MemberEvent.objects.count(),
        AuditRecord.objects.filter(action="members.import").count(),
    )


def duplicates_far_apart(tmp_path):
    """Rows 2–7 are six people; row 8 repeats row 2's citizen ID; rows 3 and 9 are the same person without one."""
    rows = [HEADER, *people(6)]
    rows[2] = person(2, **{"Họ và tên": "Lê Văn Tám", "Số CCCD": ""})
    rows.append(person(7, **{"Họ và tên": "Phạm Thị Hoa", "Giới tính": "Nữ", "Số CCCD": "048303000001"}))
    rows.append(person(8, **{"Họ và tên": "Lê Văn Tám", "Số CCCD": ""}))
    return write_xlsx(tmp_path / "ds.xlsx", rows)


def test_duplicates_in_later_chunks_withdraw_what_was_already_written(world, tmp_path):
    path = duplicates_far_apart(tmp_path)
    expected = whole_file_plan(world, path)
    plan, counts = stream(world, path, only_valid=True)
    assert counts == {"rows": 8, "created": 4, "updated": 0, "unchanged": 0, "errors": 4}
    assert errors(plan) == errors(expected)
    assert [e[0] for e in errors(plan)] == [2, 3, 8, 9]
    # Rows 4–7 only: the first row of each duplicate pair was written before its twin was seen, then deleted.
    assert sorted(Member.objects.values_list("citizen_id", flat=True)) == [
        "048303000003",
        "048303000004",
        "048303000005",
        "048303000006",
    ]
    assert sorted(MemberEvent.objects.values_list("data__row", flat=True)) == [4, 5, 6, 7]
    assert not MemberEvent.objects.exclude(member__in=Member.objects.all()).exists()


def test_a_rejected_row_in_the_last_chunk_undoes_everything(world, tmp_path):
    MemberFactory(unit=world.B1, citizen_id="048203000099")
    before = snapshot()
    rows = [HEADER, *people(7), person(8, **{"Ngày sinh": "31/02/2001"})]
    with pytest.raises(ImportRefused) as info:
        stream(world, write_xlsx(tmp_path / "ds.xlsx", rows))
    assert str(info.value).startswith("1 row is rejected, so nothing was imported.")
    assert [e.row for e in info.value.plan.errors] == [9]
    assert snapshot() == before


def test_a_row_without_citizen_id_is_not_matched_to_a_member_this_import_created(world, tmp_path):
    # Row 2 has a citizen ID; row 5 is the same name and birth date without one. Matching looks at the members
    # registered before the import, so row 5 is a new member, as when the whole file is checked first.
    rows = [HEADER, person(1), *people(3)[1:], person(1, **{"Số CCCD": ""})]
    path = write_xlsx(tmp_path / "ds.xlsx", rows)
    assert whole_file_plan(world, path).summary()["created"] == 4
    _plan, counts = stream(world, path)
    assert (counts["created"], counts["updated"], counts["errors"]) == (4, 0, 0)
    assert Member.objects.filter(given_name="An", family_name="Nguyễn").count() == 2


def test_a_member_registered_meanwhile_refuses_the_whole_import(world, tmp_path, monkeypatch):
    # As if the member had been registered between the lookup and the write: the database's unique citizen ID
    # stops the write, in the writing thread on PostgreSQL, and everything is rolled back.
    MemberFactory(unit=world.B1, citizen_id="048303000005")
    monkeypatch.setattr(importing.Lookup, "found", lambda *args, **kwargs: {"cid": {}, "card": {}, "person": {}})
    before = snapshot()
    with pytest.raises(ImportRefused) as info:
        stream(world, write_xlsx(tmp_path / "ds.xlsx", [HEADER, *people(6)]))
    assert str(info.value).startswith("Someone registered some of these members while the import was running")
    assert snapshot() == before


def test_progress_is_reported_for_each_chunk(world, tmp_path):
    seen = []
    stream(world, write_xlsx(tmp_path / "ds.xlsx", [HEADER, *people(5)]), progress=lambda d, t: seen.append((d, t)))
    assert seen == [(2, 5), (4, 5), (5, 5), (5, 5)]
    assert Member.objects.count() == 5


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_lookups_read_on_a_connection_of_their_own(world, tmp_path, monkeypatch):
    # A task or the command imports outside any transaction: on PostgreSQL the registry lookups then run on a
    # second connection, beside the writes. They must still find what is registered (row 4 is a member already),
    # give the outcome of checking the whole file first, and close that connection.
    from django.db import connection

    registered = MemberFactory(
        unit=world.B1,
        citizen_id="048303000003",
        family_name="Trần",
        middle_name="Thị",
        given_name="Dũng",
        sex="female",
        date_of_birth=datetime.date(2003, 5, 17),
    )
    path = write_xlsx(tmp_path / "ds.xlsx", [HEADER, *people(6)])
    expected = whole_file_plan(world, path).summary()
    opened = []
    new_connection = connection.get_new_connection
    monkeypatch.setattr(
        connection, "get_new_connection", lambda params: opened.append(new_connection(params)) or opened[-1]
    )
    _plan, counts = stream(world, path)
    assert counts == expected
    assert (counts["created"], counts["errors"]) == (5, 0)
    assert counts["updated"] + counts["unchanged"] == 1
    assert Member.objects.filter(citizen_id="048303000003").get().pk == registered.pk
    assert Member.objects.count() == 6
    if connection.vendor == "postgresql":
        assert len(opened) == 1 and opened[0].closed
    else:
        assert opened == []
