import pytest

from doanso.accounts.scope import allowed_paths, can
from doanso.org.models import Unit

pytestmark = pytest.mark.django_db


def codes(qs):
    return sorted(qs.values_list("code", flat=True))


def test_a_role_covers_the_whole_subtree(world):
    assert codes(Unit.objects.restrict(world.manager_P)) == ["B1", "B2", "B3", "C1", "C2", "P"]
    assert codes(Unit.objects.restrict(world.manager_C1)) == ["B1", "B2", "C1"]
    assert codes(Unit.objects.restrict(world.staff_C1)) == ["B1", "B2", "C1"]


def test_no_role_no_units(world, django_user_model):
    from django.contrib.auth.models import AnonymousUser

    assert codes(Unit.objects.restrict(world.nobody)) == []
    assert codes(Unit.objects.restrict(AnonymousUser())) == []


def test_admin_sees_everything(world):
    assert allowed_paths(world.admin, "org.manage") is None
    assert Unit.objects.restrict(world.admin).count() == 6


def test_actions_follow_the_role(world):
    assert can(world.manager_C1, "org.manage", world.B1)
    assert not can(world.staff_C1, "org.manage", world.B1)
    assert can(world.staff_C1, "org.view", world.B1)
    assert not can(world.manager_C1, "org.manage", world.C2)


def test_nested_assignments_collapse_to_the_highest(world):
    from doanso.accounts.models import RoleAssignment

    RoleAssignment.objects.create(user=world.manager_P, role="unit_manager", unit=world.B1)
    world.manager_P._assignments_cache = None
    assert allowed_paths(world.manager_P, "org.view") == [world.P.path]
