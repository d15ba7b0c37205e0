"""Writing audit and access records. Services call :func:`record`; nothing else writes audit rows."""

import contextvars
import datetime
import decimal
import uuid
from typing import Any

from django.db import models

from .models import AccessRecord, AuditRecord

request_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_ip", default=None)


def jsonable(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    return value


def snapshot(obj: models.Model, fields: list[str]) -> dict[str, Any]:
    """The named fields of ``obj`` as JSON values (foreign keys as ids)."""
    out = {}
    for name in fields:
        field = obj._meta.get_field(name)
        out[name] = jsonable(getattr(obj, getattr(field, "attname", name)))
    return out


def record(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    unit=None,
    before: dict | None = None,
    after: dict | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
) -> AuditRecord:
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:255]
    return AuditRecord.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:255],
        unit=unit,
        before=jsonable(before) if before is not None else None,
        after=jsonable(after) if after is not None else None,
        ip=request_ip.get(),
    )


def record_access(
    *,
    actor,
    purpose: str,
    object_type: str,
    object_id: str = "",
    fields=(),
    row_count: int = 1,
    unit=None,
    reason: str = "",
) -> AccessRecord:
    return AccessRecord.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        purpose=purpose,
        reason=reason,
        object_type=object_type,
        object_id=object_id,
        fields=list(fields),
        row_count=row_count,
        unit=unit,
        ip=request_ip.get(),
    )
