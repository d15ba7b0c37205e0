"""Every write to the member registry. Each function owns its transaction and its audit record."""

from collections.abc import Iterable
from itertools import batched

from django.db import transaction

from doanso.core import audit
from doanso.core.text import nfc

from doanso.members.models import Member


def bulk_add_members(members: Iterable[Member], *, actor, unit=None, batch_size: int = 5000) -> int:
    """Insert many new members at once and return how many were written.

    The write path of imports and of the demo seeder: names are normalised to NFC and ``search_name`` is filled
    the way a single save would, rows are inserted ``batch_size`` at a time (no query per row), and the whole
    import is one transaction with ONE audit record, so a failed import leaves nothing behind and a million
    rows do not mean a million audit rows. ``members`` may be a generator: it is consumed batch by batch, so
    memory stays flat whatever the size. ``unit`` is the unit the audit record is filed under (the unit the
    import was run for).
    """
    count = 0
    with transaction.atomic():
        for batch in batched(members, batch_size):
            for member in batch:
                member.family_name = nfc(member.family_name)
                member.middle_name = nfc(member.middle_name)
                member.given_name = nfc(member.given_name)
                member.refresh_search()
            Member.objects.bulk_create(batch, batch_size=batch_size)
            count += len(batch)
        audit.record(
            actor=actor, action="members.bulk_add", object_type="members.member", unit=unit, after={"count": count}
        )
    return count
