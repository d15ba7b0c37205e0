import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from doanso.accounts.models import RoleAssignment
from doanso.core.models import AuditRecord
from doanso.org import selectors, services
from doanso.org.models import Twinning, Unit, UnitKind, UnitVersion

pytestmark = pytest.mark.django_db

D1 = datetime.date(2024, 1, 1)
D2 = datetime.date(2025, 7, 1)


def state():
    """Everything a refused operation must leave untouched."""
    return (
        list(
            Unit.objects.order_by("pk").values_list(
                "pk", "code", "name", "parent_id", "path", "depth", "active_to", "successor_id"
            )
        ),
        UnitVersion.objects.count(),
        AuditRecord.objects.count(),
        Twinning.objects.count(),
    )


def test_create_builds_path_version_and_audit(world):
    unit = services.create_unit(
        services.UnitData(code="b4", name="  Chi đoàn   mới ", kind=UnitKind.BRANCH),
        actor=world.manager_C1,
        parent=world.C1,
        active_from=D1,
    )
    unit.refresh_from_db()
    assert unit.code == "B4"
    assert unit.name == "Chi đoàn mới"
    assert unit.path == f"{world.C1.path}{unit.pk}/"
    assert unit.depth == 2
    assert unit.search_name == "chi doan moi b4"
    version = unit.versions.get()
    assert (version.valid_from, version.valid_to, version.change, version.parent_id) == (
        D1,
        None,
        "created",
        world.C1.pk,
    )
    record = AuditRecord.objects.get(action="org.unit.create", object_id=str(unit.pk))
    assert record.actor == world.manager_C1
    assert record.after["code"] == "B4"


def test_create_refuses_duplicate_code_ignoring_case(world):
    before = state()
    with pytest.raises(ValidationError) as exc:
        services.create_unit(
            services.UnitData(code="b1", name="X", kind=UnitKind.BRANCH),
            actor=world.admin,
            parent=world.C1,
            active_from=D1,
        )
    assert "code" in exc.value.message_dict
    assert state() == before


def test_create_refuses_inactive_parent(world, today):
    services.dissolve_unit(world.B3, actor=world.admin, effective=today, reason="QĐ 1")
    before = state()
    with pytest.raises(ValidationError) as exc:
        services.create_unit(
            services.UnitData(code="X1", name="X", kind=UnitKind.BRANCH),
            actor=world.admin,
            parent=world.B3,
            active_from=today,
        )
    assert "parent" in exc.value.message_dict
    assert state() == before


def test_create_refuses_start_before_parent(world):
    before = state()
    with pytest.raises(ValidationError) as exc:
        services.create_unit(
            services.UnitData(code="X1", name="X", kind=UnitKind.BRANCH),
            actor=world.admin,
            parent=world.C1,
            active_from=datetime.date(2019, 1, 1),
        )
    assert "active_from" in exc.value.message_dict
    assert state() == before


def test_create_outside_own_subtree_is_refused(world):
    before = state()
    with pytest.raises(PermissionDenied):
        services.create_unit(
            services.UnitData(code="X1", name="X", kind=UnitKind.BRANCH),
            actor=world.manager_C1,
            parent=world.C2,
            active_from=D1,
        )
    assert state() == before


def test_staff_cannot_change_the_tree(world):
    before = state()
    with pytest.raises(PermissionDenied):
        services.update_unit(world.B1, actor=world.staff_C1, name="Khác")
    assert state() == before


def test_rename_keeps_the_old_name_in_history(world):
    services.update_unit(world.C1, actor=world.admin, effective=D2, name="Đoàn xã Hòa Vang mới")
    versions = list(world.C1.versions.order_by("valid_from"))
    assert [(v.name, v.valid_from, v.valid_to, v.change) for v in versions] == [
        ("Đoàn xã Hòa Vang", datetime.date(2020, 1, 1), D2, "created"),
        ("Đoàn xã Hòa Vang mới", D2, None, "renamed"),
    ]
    names_2024 = {n.name for n in selectors.tree_as_of(world.admin, D1)[0].children}
    names_now = {n.name for n in selectors.tree_as_of(world.admin, datetime.date.today())[0].children}
    assert "Đoàn xã Hòa Vang" in names_2024
    assert "Đoàn xã Hòa Vang mới" in names_now


def test_change_dated_before_the_last_change_is_refused(world):
    services.update_unit(world.C1, actor=world.admin, effective=D2, name="Tên mới")
    before = state()
    with pytest.raises(ValidationError) as exc:
        services.update_unit(world.C1, actor=world.admin, effective=D1, name="Tên khác")
    assert "effective" in exc.value.message_dict
    assert state() == before


def test_future_effective_date_is_refused(world, today):
    before = state()
    with pytest.raises(ValidationError):
        services.move_unit(
            world.B1, actor=world.admin, new_parent=world.C2, effective=today + datetime.timedelta(days=3)
        )
    assert state() == before


def test_move_rewrites_the_subtree_paths(world, make_unit):
    leaf = make_unit("L1", parent=world.B1, kind=UnitKind.OTHER, actor=world.admin)
    plan = services.move_unit(world.B1, actor=world.manager_P, new_parent=world.C2, effective=D2)
    assert plan.descendants == 1
    world.B1.refresh_from_db()
    leaf.refresh_from_db()
    assert world.B1.parent == world.C2
    assert world.B1.path == f"{world.C2.path}{world.B1.pk}/"
    assert leaf.path == f"{world.C2.path}{world.B1.pk}/{leaf.pk}/"
    assert (world.B1.depth, leaf.depth) == (2, 3)
    assert list(world.B1.versions.values_list("parent_id", "valid_to")) == [(world.C1.pk, D2), (world.C2.pk, None)]
    # The tree in 2024 still shows B1 under C1.
    tree_2024 = selectors.tree_as_of(world.admin, D1)[0]
    c1 = next(n for n in tree_2024.children if n.unit_id == world.C1.pk)
    assert world.B1.pk in [n.unit_id for n in c1.children]


def test_move_under_own_descendant_is_refused(world):
    before = state()
    with pytest.raises(ValidationError) as exc:
        services.move_unit(world.C1, actor=world.admin, new_parent=world.B1, effective=D2)
    assert "new_parent" in exc.value.message_dict
    assert state() == before


def test_move_under_itself_is_refused(world):
    before = state()
    with pytest.raises(ValidationError):
        services.move_unit(world.C1, actor=world.admin, new_parent=world.C1, effective=D2)
    assert state() == before


def test_move_into_a_foreign_subtree_is_refused(world):
    before = state()
    with pytest.raises(PermissionDenied):
        services.move_unit(world.B1, actor=world.manager_C1, new_parent=world.C2, effective=D2)
    assert state() == before


def test_move_twice_reports_already_there(world):
    services.move_unit(world.B1, actor=world.admin, new_parent=world.C2, effective=D2)
    before = state()
    with pytest.raises(ValidationError):
        services.move_unit(world.B1, actor=world.admin, new_parent=world.C2, effective=D2)
    assert state() == before


def test_merge_into_existing_unit(world):
    RoleAssignment.objects.create(user=world.manager_C2, role="unit_manager", unit=world.C1)
    target = services.merge_units([world.C1], actor=world.manager_P, into=world.C2, effective=D2)
    assert target == world.C2
    for u in (world.C1, world.B1, world.B2):
        u.refresh_from_db()
    assert world.C1.active_to == D2
    assert world.C1.successor == world.C2
    assert world.C1.parent == world.C2  # kept under its successor, so its records count there
    assert world.B1.parent == world.C2 and world.B2.parent == world.C2
    assert world.B1.path.startswith(world.C2.path)
    assert set(Unit.objects.filter(parent=world.C2).active(D2).values_list("code", flat=True)) == {"B1", "B2", "B3"}
    # Role assignments at C1 now apply at C2; the one already there is not duplicated.
    assert sorted(RoleAssignment.objects.filter(unit=world.C2).values_list("user__username", flat=True)) == [
        "mgr_c1",
        "mgr_c2",
        "staff_c1",
    ]
    assert world.C1.versions.order_by("-valid_from", "-id").first().change == "merged"
    # The tree before the merge is intact.
    tree_2024 = selectors.tree_as_of(world.admin, D1)[0]
    assert {n.code for n in tree_2024.children} == {"C1", "C2"}
    tree_after = selectors.tree_as_of(world.admin, D2)[0]
    assert {n.code for n in tree_after.children} == {"C2"}


def test_merge_two_into_a_new_unit(world):
    new = services.merge_units(
        [world.C1, world.C2],
        actor=world.admin,
        effective=D2,
        new_parent=world.P,
        new_unit=services.UnitData(code="C3", name="Đoàn xã Mới", kind=UnitKind.COMMUNE),
    )
    assert new.parent == world.P and new.active_from == D2
    assert set(Unit.objects.filter(parent=new).active(D2).values_list("code", flat=True)) == {"B1", "B2", "B3"}
    for u in (world.C1, world.C2):
        u.refresh_from_db()
        assert (u.active_to, u.successor, u.parent) == (D2, new, new)


def test_merge_into_itself_is_refused(world):
    before = state()
    with pytest.raises(ValidationError) as exc:
        services.merge_units([world.C1], actor=world.admin, into=world.C1, effective=D2)
    assert "into" in exc.value.message_dict
    assert state() == before


def test_merge_into_own_descendant_is_refused(world):
    before = state()
    with pytest.raises(ValidationError):
        services.merge_units([world.C1], actor=world.admin, into=world.B1, effective=D2)
    assert state() == before


def test_merge_new_unit_with_taken_code_is_refused(world):
    before = state()
    with pytest.raises(ValidationError) as exc:
        services.merge_units(
            [world.C1, world.C2],
            actor=world.admin,
            effective=D2,
            new_parent=world.P,
            new_unit=services.UnitData(code="B1", name="X", kind=UnitKind.COMMUNE),
        )
    assert "code" in exc.value.message_dict
    assert state() == before


def test_split_moves_the_chosen_children(world):
    created = services.split_unit(
        world.C1,
        [
            services.SplitPart(
                services.UnitData(code="C1B", name="Đoàn xã Hòa Vang B", kind=UnitKind.COMMUNE), [world.B2]
            )
        ],
        actor=world.admin,
        effective=D2,
    )
    [new] = created
    world.B2.refresh_from_db()
    assert new.parent == world.P
    assert world.B2.parent == new
    assert world.B2.path == f"{new.path}{world.B2.pk}/"
    assert Unit.objects.get(pk=world.B1.pk).parent == world.C1
    assert new.versions.get().related_unit == world.C1


def test_split_refuses_a_child_of_another_unit(world):
    before = state()
    with pytest.raises(ValidationError):
        services.split_unit(
            world.C1,
            [services.SplitPart(services.UnitData(code="C1B", name="X", kind=UnitKind.COMMUNE), [world.B3])],
            actor=world.admin,
            effective=D2,
        )
    assert state() == before


def test_dissolve_requires_no_active_children_and_a_reason(world, today):
    before = state()
    with pytest.raises(ValidationError) as exc:
        services.dissolve_unit(world.C1, actor=world.admin, effective=today, reason="QĐ số 5")
    assert "unit" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.dissolve_unit(world.B1, actor=world.admin, effective=today, reason="  ")
    assert "reason" in exc.value.message_dict
    assert state() == before
    services.dissolve_unit(world.B1, actor=world.admin, effective=today, reason="QĐ số 5")
    world.B1.refresh_from_db()
    assert world.B1.active_to == today
    assert not world.B1.versions.filter(valid_to__isnull=True).exists()


def test_units_active_during_a_period(world):
    services.dissolve_unit(world.B3, actor=world.admin, effective=D2, reason="QĐ")
    assert Unit.objects.active_during(datetime.date(2025, 1, 1), datetime.date(2025, 6, 30)).count() == 6
    assert Unit.objects.active_during(datetime.date(2025, 7, 1), datetime.date(2025, 12, 31)).count() == 5
    assert Unit.objects.active_during(datetime.date(2019, 1, 1), datetime.date(2019, 12, 31)).count() == 0


def test_twinning_pairs_and_refuses_duplicates(world):
    twinning = services.twin_units(world.B1, world.B3, actor=world.manager_C1, since=D1)
    assert (twinning.first, twinning.second) == (world.B1, world.B3)
    before = state()
    with pytest.raises(ValidationError):
        services.twin_units(world.B3, world.B1, actor=world.manager_C2, since=D1)
    with pytest.raises(ValidationError):
        services.twin_units(world.B1, world.B1, actor=world.manager_C1, since=D1)
    assert state() == before
    services.end_twinning(twinning, actor=world.manager_C2, until=D2)
    twinning.refresh_from_db()
    assert twinning.until == D2


def test_search_ignores_diacritics(world):
    assert [u.code for u in selectors.search(world.admin, "hoa vang")] == ["C1"]
    assert [u.code for u in selectors.search(world.admin, "HÒA VANG")] == ["C1"]
    assert [u.code for u in selectors.search(world.manager_C2, "hoa vang")] == []


def test_create_root_unit_command(make_user):
    from io import StringIO

    from django.core.management import CommandError, call_command

    admin = make_user(superuser=True, username="root-admin")
    out = StringIO()
    call_command(
        "create_root_unit", code="td-dn", name="Thành đoàn Đà Nẵng", division="48", actor="root-admin", stdout=out
    )
    unit = Unit.objects.get(code="TD-DN")
    assert (unit.parent, unit.kind, unit.division.name, unit.path) == (
        None,
        "province",
        "Thành phố Đà Nẵng",
        f"/{unit.pk}/",
    )
    assert AuditRecord.objects.filter(action="org.unit.create", actor=admin).count() == 1
    with pytest.raises(CommandError):
        call_command("create_root_unit", code="TD-DN", name="X", actor="root-admin")
    assert Unit.objects.count() == 1


def test_dissolve_refuses_a_unit_that_still_has_members(world, today):
    from doanso.members.tests.factories import MemberFactory

    MemberFactory(unit=world.B1)
    before = state()
    with pytest.raises(ValidationError) as exc:
        services.dissolve_unit(world.B1, actor=world.admin, effective=today, reason="QĐ số 9")
    assert "1" in exc.value.message_dict["unit"][0]
    assert state() == before
