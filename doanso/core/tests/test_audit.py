import pytest
from django.db import DatabaseError, connection, transaction

from doanso.core import audit
from doanso.core.models import AccessRecord, AppendOnlyError, AuditRecord

pytestmark = pytest.mark.django_db


def test_record_keeps_actor_unit_before_after_and_ip(world):
    token = audit.request_ip.set("203.0.113.7")
    try:
        rec = audit.record(
            actor=world.manager_C1,
            action="test.change",
            obj=world.B1,
            unit=world.B1,
            before={"name": "A"},
            after={"name": "B"},
        )
    finally:
        audit.request_ip.reset(token)
    rec.refresh_from_db()
    assert (rec.actor, rec.action, rec.object_type, rec.object_id, rec.unit) == (
        world.manager_C1,
        "test.change",
        "org.unit",
        str(world.B1.pk),
        world.B1,
    )
    assert (rec.before, rec.after, rec.ip) == ({"name": "A"}, {"name": "B"}, "203.0.113.7")


def test_audit_records_cannot_be_changed_or_deleted(world):
    rec = AuditRecord.objects.filter(action="org.unit.create").first()
    rec.action = "forged"
    with pytest.raises(AppendOnlyError):
        rec.save()
    with pytest.raises(AppendOnlyError):
        rec.delete()
    with pytest.raises(AppendOnlyError):
        AuditRecord.objects.filter(pk=rec.pk).update(action="forged")
    with pytest.raises(AppendOnlyError):
        AuditRecord.objects.all().delete()
    rec.refresh_from_db()
    assert rec.action == "org.unit.create"


def test_access_records_cannot_be_changed(world):
    access = audit.record_access(
        actor=world.manager_C1,
        purpose="export",
        object_type="members.member",
        fields=["citizen_id"],
        row_count=10,
        unit=world.C1,
        reason="Báo cáo",
    )
    with pytest.raises(AppendOnlyError):
        AccessRecord.objects.filter(pk=access.pk).delete()
    assert AccessRecord.objects.get(pk=access.pk).row_count == 10


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the database trigger exists on PostgreSQL only")
def test_postgresql_refuses_raw_updates(world):
    rec = AuditRecord.objects.first()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditrecord SET action = 'forged' WHERE id = %s", [rec.pk])
    rec.refresh_from_db()
    assert rec.action != "forged"
