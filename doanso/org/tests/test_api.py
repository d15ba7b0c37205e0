import pytest

from doanso.accounts.services import create_api_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, world):
    def call(user, path, **params):
        headers = {}
        if user is not None:
            _token, raw = create_api_token(user, actor=user)
            headers["Authorization"] = f"Bearer {raw}"
        return client.get(f"/api/v1{path}", params, headers=headers)

    return call


def test_units_list_is_scoped_and_filters_by_parent(api, world):
    body = api(world.manager_C1, "/units/").json()
    assert [u["code"] for u in body["items"]] == ["C1", "B1", "B2"]
    body = api(world.manager_P, "/units/", parent="C2").json()
    assert [u["code"] for u in body["items"]] == ["B3"]
    assert body["items"][0]["parent_code"] == "C2"


def test_unit_detail_out_of_scope_is_404(api, world):
    assert api(world.manager_C1, "/units/C2").status_code == 404
    assert api(world.manager_C1, "/units/b1").json()["name"] == "Chi đoàn thôn 1"


def test_bad_token_is_401(client, world):
    response = client.get("/api/v1/units/", headers={"Authorization": "Bearer ds_forged"})
    assert response.status_code == 401


def test_revoked_token_is_401(client, world):
    from doanso.accounts.services import revoke_api_token

    token, raw = create_api_token(world.manager_C1, actor=world.manager_C1)
    revoke_api_token(token, actor=world.manager_C1)
    assert client.get("/api/v1/units/", headers={"Authorization": f"Bearer {raw}"}).status_code == 401


def test_tree_and_history(api, world):
    from datetime import date

    from doanso.org import services

    services.move_unit(world.B1, actor=world.admin, new_parent=world.C2, effective=date(2025, 7, 1))
    tree = api(world.manager_P, "/units/tree", on="2025-01-01").json()
    c1 = next(c for c in tree[0]["children"] if c["code"] == "C1")
    assert [c["code"] for c in c1["children"]] == ["B1", "B2"]
    history = api(world.manager_P, "/units/B1/history").json()
    assert [(h["change"], h["parent_id"]) for h in history] == [("created", world.C1.pk), ("moved", world.C2.pk)]


def test_openapi_schema_lists_the_unit_endpoints(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert {"/api/v1/units/", "/api/v1/units/tree", "/api/v1/units/{code}"} <= set(schema["paths"])
