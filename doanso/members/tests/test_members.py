from datetime import date

import pytest
from django.utils import timezone

from doanso.members.models import Member, MemberEvent
from doanso.members.services import bulk_add_members

from .factories import MemberFactory

pytestmark = pytest.mark.django_db


def test_members_are_scoped_by_the_unit_tree(world):
    MemberFactory(unit=world.B1)
    MemberFactory(unit=world.B3)
    assert Member.objects.restrict(world.manager_C1).count() == 1
    assert Member.objects.restrict(world.manager_P).count() == 2
    assert Member.objects.restrict(world.nobody).count() == 0


def test_members_of_a_merged_unit_count_in_the_successor_without_being_rewritten(world):

    from doanso.org import services

    member = MemberFactory(unit=world.B1)
    updated_at = Member.objects.get(pk=member.pk).updated_at
    services.merge_units([world.B1], actor=world.admin, into=world.B3, effective=date(2025, 7, 1))
    assert Member.objects.restrict(world.manager_C2).filter(pk=member.pk).exists()
    assert Member.objects.restrict(world.manager_C1).count() == 0
    fresh = Member.objects.get(pk=member.pk)
    assert (fresh.unit_id, fresh.updated_at) == (world.B1.pk, updated_at)


def test_bulk_add_normalises_names_and_fills_search(world):
    import unicodedata

    from doanso.core.models import AuditRecord

    rows = [
        MemberFactory.build(
            unit=world.B1,
            family_name=unicodedata.normalize("NFD", "Nguyễn"),
            given_name="Ánh",
            joined_on=date(2020, 3, 26),
        ),
        MemberFactory.build(unit=world.B2, joined_on=None),
    ]
    assert bulk_add_members(rows, actor=world.manager_C1, unit=world.C1) == 2
    member = Member.objects.get(unit=world.B1)
    assert member.family_name == "Nguyễn" and unicodedata.is_normalized("NFC", member.family_name)
    assert member.search_name.startswith("anh ")
    assert AuditRecord.objects.get(action="members.bulk_add").after == {"count": 2}
    # The timeline starts with the admission, or with the registration when the day of joining is unknown.
    assert sorted(MemberEvent.objects.values_list("kind", "date", "unit_id", "actor_id")) == [
        ("admitted", date(2020, 3, 26), world.B1.pk, world.manager_C1.pk),
        ("registered", timezone.localdate(), world.B2.pk, world.manager_C1.pk),
    ]
