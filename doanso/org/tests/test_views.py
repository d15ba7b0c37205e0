import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from doanso.org.models import Unit, UnitKind

pytestmark = pytest.mark.django_db


def test_move_shows_a_preview_then_moves(client, world):
    client.force_login(world.manager_P)
    url = reverse("org:unit_move", args=[world.B1.pk])
    data = {"new_parent": f"{world.C2.name} — {world.C2.code}", "effective": "01/07/2025", "note": "QĐ 12"}
    preview = client.post(url, data)
    html = preview.content.decode()
    assert preview.status_code == 200
    assert preview.context["plan"].new_parent == world.C2
    assert Unit.objects.get(pk=world.B1.pk).parent == world.C1  # nothing written yet
    assert 'name="confirm"' in html
    done = client.post(url, {**data, "confirm": "1"})
    assert done.status_code == 302
    assert Unit.objects.get(pk=world.B1.pk).parent == world.C2


def test_move_form_reports_a_descendant_target_at_the_field(client, world):
    client.force_login(world.manager_P)
    response = client.post(
        reverse("org:unit_move", args=[world.C1.pk]),
        {"new_parent": world.B1.code, "effective": "01/07/2025", "confirm": "1"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["new_parent"]
    assert Unit.objects.get(pk=world.C1.pk).parent == world.P


def test_move_form_rejects_a_forged_code_from_another_subtree(client, world):
    client.force_login(world.manager_C1)
    response = client.post(
        reverse("org:unit_move", args=[world.B1.pk]),
        {"new_parent": world.C2.code, "effective": "01/07/2025", "confirm": "1"},
    )
    assert response.status_code == 200
    assert "C2" in response.context["form"].errors["new_parent"][0]
    assert Unit.objects.get(pk=world.B1.pk).parent == world.C1


@pytest.mark.parametrize("bad_date", ["31/02/2025", "2025-13-01", "hôm qua", ""])
def test_move_form_rejects_bad_dates(client, world, bad_date):
    client.force_login(world.manager_P)
    response = client.post(
        reverse("org:unit_move", args=[world.B1.pk]),
        {"new_parent": world.C2.code, "effective": bad_date, "confirm": "1"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["effective"]
    assert Unit.objects.get(pk=world.B1.pk).parent == world.C1


def test_merge_through_the_form(client, world):
    client.force_login(world.manager_P)
    url = reverse("org:unit_merge", args=[world.C1.pk])
    data = {"others": [], "mode": "into", "into": world.C2.code, "effective": "01/07/2025"}
    preview = client.post(url, data)
    assert preview.context["plan"].target == world.C2
    assert [c.code for c in preview.context["plan"].children] == ["B1", "B2"]
    done = client.post(url, {**data, "confirm": "1"})
    assert done.status_code == 302 and done.url == reverse("org:unit_detail", args=[world.C2.pk])
    assert Unit.objects.get(pk=world.C1.pk).successor == world.C2


def test_merge_into_itself_through_the_form_is_refused(client, world):
    client.force_login(world.manager_P)
    response = client.post(
        reverse("org:unit_merge", args=[world.C1.pk]),
        {"mode": "into", "into": world.C1.code, "effective": "01/07/2025", "confirm": "1"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["into"]
    assert Unit.objects.get(pk=world.C1.pk).active_to is None


def test_create_form_reports_duplicate_code(client, world):
    client.force_login(world.manager_C1)
    response = client.post(
        reverse("org:unit_create", args=[world.C1.pk]),
        {"code": "b1", "name": "Chi đoàn mới", "kind": UnitKind.BRANCH, "org": "doan", "active_from": "01/01/2024"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["code"]
    assert Unit.objects.filter(name="Chi đoàn mới").count() == 0


def test_split_through_the_form(client, world):
    client.force_login(world.manager_P)
    url = reverse("org:unit_split", args=[world.C1.pk])
    data = {
        "part-TOTAL_FORMS": "2",
        "part-INITIAL_FORMS": "0",
        "part-MIN_NUM_FORMS": "1",
        "part-MAX_NUM_FORMS": "6",
        "part-0-code": "C1B",
        "part-0-name": "Đoàn xã Mới",
        "part-0-kind": "commune",
        "part-0-children": [world.B2.pk],
        "part-1-code": "",
        "part-1-name": "",
        "part-1-kind": "commune",
        "effective": "01/07/2025",
    }
    preview = client.post(url, data)
    assert preview.status_code == 200 and preview.context["plan"]
    done = client.post(url, {**data, "confirm": "1"})
    assert done.status_code == 302
    assert Unit.objects.get(pk=world.B2.pk).parent.code == "C1B"


def test_tree_page_query_count_does_not_grow_with_the_tree(client, world, make_unit):
    client.force_login(world.manager_P)
    url = reverse("org:tree")
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    for i in range(30):
        make_unit(f"X{i}", parent=world.C1 if i % 2 else world.C2, actor=world.admin)
    with CaptureQueriesContext(connection) as large:
        client.get(url)
    assert len(large) == len(small)
    assert len(small) <= 8


def test_unit_page_query_count_does_not_grow_with_the_tree(client, world, make_unit):
    client.force_login(world.manager_P)
    url = reverse("org:unit_detail", args=[world.C1.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    for i in range(30):
        make_unit(f"Y{i}", parent=world.C1, actor=world.admin)
    with CaptureQueriesContext(connection) as large:
        response = client.get(url)
    assert "Y29" in response.content.decode()
    assert len(large) == len(small)
    assert len(small) <= 16  # the unit, its ancestors, children, twinnings, rights, member statistics


def test_tree_search_ignores_diacritics(client, world):
    client.force_login(world.manager_P)
    response = client.get(
        reverse("org:tree"), {"q": "hai chau"}, headers={"HX-Request": "true", "HX-Target": "unit-search-results"}
    )
    assert "Đoàn phường Hải Châu" in response.content.decode()
    assert "<html" not in response.content.decode()


def test_tree_as_of_a_date_shows_former_names(client, world):
    from doanso.org import services

    services.update_unit(
        world.C1, actor=world.admin, name="Đoàn xã Hòa Vang Mới", effective=__import__("datetime").date(2025, 7, 1)
    )
    client.force_login(world.manager_P)
    html = client.get(reverse("org:tree_as_of"), {"on": "01/01/2025"}).content.decode()
    assert "Đoàn xã Hòa Vang<" in html or "Đoàn xã Hòa Vang</a>" in html
    assert "Hòa Vang Mới" not in html


def test_unit_suggest_lists_codes(client, world):
    client.force_login(world.manager_C1)
    html = client.get(reverse("org:unit_suggest"), {"q": "thon"}).content.decode()
    assert 'value="Chi đoàn thôn 1 — B1"' in html
    assert "tổ 5" not in html


def test_create_shows_a_preview_then_creates(client, world):
    client.force_login(world.manager_C1)
    url = reverse("org:unit_create", args=[world.C1.pk])
    data = {
        "code": "b9",
        "name": "Chi đoàn thôn 9",
        "kind": UnitKind.BRANCH,
        "org": "doan",
        "active_from": "01/01/2024",
    }
    preview = client.post(url, data)
    lines = preview.context["preview"]
    assert len(lines) == 2 and "Chi đoàn thôn 9 (B9)" in lines[0] and "Đoàn xã Hòa Vang" in lines[0]
    assert "01/01/2024" in lines[1]
    assert not Unit.objects.filter(code="B9").exists()
    done = client.post(url, {**data, "confirm": "1"})
    assert done.status_code == 302
    assert Unit.objects.get(code="B9").parent == world.C1


def test_edit_preview_lists_each_change(client, world):
    client.force_login(world.manager_C1)
    url = reverse("org:unit_edit", args=[world.B1.pk])
    data = {
        "code": "B1",
        "name": "Chi đoàn thôn Một",
        "kind": UnitKind.BRANCH,
        "org": "doan",
        "effective": "01/07/2025",
    }
    lines = client.post(url, data).context["preview"]
    assert len(lines) == 2
    assert "Chi đoàn thôn 1 → Chi đoàn thôn Một" in lines[0]
    assert "01/07/2025" in lines[1]
    assert Unit.objects.get(pk=world.B1.pk).name == "Chi đoàn thôn 1"
    client.post(url, {**data, "confirm": "1"})
    assert Unit.objects.get(pk=world.B1.pk).name == "Chi đoàn thôn Một"


def test_dissolve_preview_then_confirm(client, world, today):
    from doanso.org import services

    services.twin_units(world.B1, world.B3, actor=world.admin)
    client.force_login(world.manager_C1)
    url = reverse("org:unit_dissolve", args=[world.B1.pk])
    data = {"effective": today.strftime("%d/%m/%Y"), "reason": "Quyết định 15/QĐ"}
    lines = client.post(url, data).context["preview"]
    assert len(lines) == 3 and "1" in lines[1]
    assert Unit.objects.get(pk=world.B1.pk).active_to is None
    client.post(url, {**data, "confirm": "1"})
    assert Unit.objects.get(pk=world.B1.pk).active_to == today


def test_dissolve_with_active_children_shows_the_reason_on_the_form(client, world, today):
    client.force_login(world.manager_P)
    response = client.post(
        reverse("org:unit_dissolve", args=[world.C1.pk]),
        {"effective": today.strftime("%d/%m/%Y"), "reason": "QĐ", "confirm": "1"},
    )
    assert response.status_code == 200
    assert "2" in response.context["form"].non_field_errors()[0]
    assert Unit.objects.get(pk=world.C1.pk).active_to is None


def test_twin_preview_then_confirm(client, world):
    from doanso.org.models import Twinning

    client.force_login(world.manager_C1)
    url = reverse("org:unit_twin", args=[world.B1.pk])
    data = {"other": world.B3.code, "since": "01/01/2025"}
    assert "01/01/2025" in client.post(url, data).context["preview"][0]
    assert not Twinning.objects.exists()
    client.post(url, {**data, "confirm": "1"})
    assert Twinning.objects.get().since.isoformat() == "2025-01-01"
