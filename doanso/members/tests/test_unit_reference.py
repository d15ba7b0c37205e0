"""A member's unit must exist: on PostgreSQL, triggers check it once per statement (migration members.0014,
decision 0012) instead of a foreign key constraint checked per row."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError

from doanso.members.models import Member

from .factories import MemberFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the triggers exist on PostgreSQL only"),
]

MISSING_UNIT = 987_654_321


def _table(model=Member) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def test_a_member_cannot_be_written_with_a_unit_that_does_not_exist(world):
    member = MemberFactory(unit=world.B1)
    with pytest.raises(IntegrityError, match="unit_id") as refused, transaction.atomic(), connection.cursor() as c:
        c.execute(f"UPDATE {_table()} SET unit_id = %s WHERE id = %s", [MISSING_UNIT, member.pk])  # noqa: S608
    # Named as the foreign key's error was, for whatever reads the constraint's name.
    assert refused.value.__cause__.diag.constraint_name == "members_member_unit"
    member.refresh_from_db()
    assert member.unit_id == world.B1.pk
    # An update that leaves the unit alone is not checked against it (nor does it lock it), and goes through.
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {_table()} SET notes = 'x' WHERE id = %s", [member.pk])  # noqa: S608
    member.refresh_from_db()
    assert member.notes == "x"

    # One bad row refuses the whole statement, however many good rows it carries.
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_table()} (kind, family_name, middle_name, given_name, other_names, date_of_birth, sex, "  # noqa: S608
            "ethnicity, religion, phone, email, hometown_address, residence_address, occupation, is_salaried, "
            "schooling, qualification, political_theory, foreign_language, it_skill, admitted_at, notes, unit_id, "
            "status, is_sample, search_name, sort_name, search_text, search_ids, created_at, updated_at, photo) "
            "SELECT 'doan', 'Lê', '', 'An', '', '2004-01-01', 'male', '', '', '', '', '', '', '', false, '', '', '', "
            "'', '', '', '', u, 'active', true, 'an le', '', ' le an', ' ', now(), now(), '' "
            "FROM unnest(%s::bigint[]) AS u",
            [[world.B1.pk, world.B2.pk, MISSING_UNIT]],
        )
    assert Member.objects.count() == 1


def test_a_unit_that_members_point_at_cannot_be_deleted(world):
    MemberFactory(unit=world.B3)
    # Django refuses first (on_delete=PROTECT)...
    with pytest.raises(ProtectedError), transaction.atomic():
        world.B3.delete()
    # ...and the database refuses a delete that goes around Django.
    with pytest.raises(IntegrityError, match="members_member"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {_table(world.B3)} WHERE id = %s", [world.B3.pk])  # noqa: S608


def test_members_written_in_bulk_with_existing_units_go_in(world):
    MemberFactory.create_batch(3, unit=world.B1)
    MemberFactory.create_batch(2, unit=world.B2)
    Member.objects.filter(unit=world.B2).update(unit=world.B3)
    assert Member.objects.filter(unit=world.B3).count() == 2
