import datetime

import pytest

from doanso.accounts.services import create_api_token

from .factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def get(client):
    def call(user, path, **params):
        _token, raw = create_api_token(user, actor=user)
        return client.get(f"/api/v1{path}", params, headers={"Authorization": f"Bearer {raw}"})

    return call


def test_members_api_searches_within_scope_and_masks(get, world):
    an = MemberFactory(
        unit=world.B1,
        family_name="Nguyễn",
        middle_name="Văn",
        given_name="An",
        citizen_id="048203001234",
        date_of_birth=datetime.date(2003, 5, 1),
        sex="male",
    )
    MemberFactory(unit=world.B3, family_name="Nguyễn", middle_name="Thị", given_name="Ba")
    body = get(world.manager_C1, "/members/", q="nguyen").json()
    assert [m["full_name"] for m in body["items"]] == ["Nguyễn Văn An"]
    assert body["items"][0]["citizen_id_masked"] == "048*******34"
    assert "citizen_id" not in body["items"][0]
    assert get(world.manager_P, "/members/", q="nguyen", unit="C2").json()["count"] == 1
    assert get(world.manager_C1, "/members/", unit="C2").status_code == 404
    assert get(world.manager_C1, f"/members/{an.pk}").json()["unit_code"] == "B1"
    assert get(world.manager_C2, f"/members/{an.pk}").status_code == 404


def post_json(client, user, path, body):
    _token, raw = create_api_token(user, actor=user)
    return client.post(
        f"/api/v1{path}", body, content_type="application/json", headers={"Authorization": f"Bearer {raw}"}
    )


def test_transfer_through_the_api(client, world):
    member = MemberFactory(unit=world.B1, date_of_birth=datetime.date(2003, 5, 1))
    sent = post_json(client, world.manager_C1, f"/members/{member.pk}/transfers", {"to_unit": "b3"})
    assert sent.status_code == 201
    body = sent.json()
    assert (body["from_unit_code"], body["to_unit_code"], body["status"]) == ("B1", "B3", "sent")
    # Sending twice is refused with the message at the field, and nothing changes.
    again = post_json(client, world.manager_C1, f"/members/{member.pk}/transfers", {"to_unit": "B3"})
    assert again.status_code == 422 and again.json()["errors"]
    inbox = client.get(
        "/api/v1/members/transfers/inbox",
        headers={"Authorization": f"Bearer {create_api_token(world.manager_C2, actor=world.manager_C2)[1]}"},
    )
    assert [t["id"] for t in inbox.json()] == [body["id"]]
    received = post_json(client, world.manager_C2, f"/members/transfers/{body['id']}/receive", {})
    assert received.status_code == 200 and received.json()["unit_code"] == "B3"


def test_end_membership_rejects_an_unknown_kind(client, world):
    member = MemberFactory(unit=world.B1)
    response = post_json(client, world.manager_C1, f"/members/{member.pk}/end", {"reason_kind": "vanish"})
    assert response.status_code == 422 and "reason_kind" in response.json()["errors"]


def test_import_over_the_api_runs_a_dry_run_then_the_import(
    client, world, tmp_path, django_capture_on_commit_callbacks
):
    from doanso.members.models import Member

    from .import_files import HEADER, people, write_xlsx

    path = write_xlsx(tmp_path / "ds.xlsx", [HEADER, *people(2)], title=[["DANH SÁCH"], []])
    _token, raw = create_api_token(world.manager_C1, actor=world.manager_C1)
    headers = {"Authorization": f"Bearer {raw}"}

    def start(**fields):
        with path.open("rb") as f, django_capture_on_commit_callbacks(execute=True):
            return client.post("/api/v1/members/imports", {"file": f, "unit": "C1", **fields}, headers=headers)

    response = start()
    assert response.status_code == 202
    status = client.get(response.json()["status_url"], headers=headers).json()
    assert (status["kind"], status["status"], status["error_count"]) == ("members.import_preview", "succeeded", 0)
    assert Member.objects.count() == 0
    response = start(dry_run="false")
    status = client.get(response.json()["status_url"], headers=headers).json()
    assert (status["kind"], status["status"]) == ("members.import_commit", "succeeded")
    assert Member.objects.filter(unit=world.B1).count() == 2
    # Out of scope: a unit of another commune is a 404; a file that is no spreadsheet is a 422 at "file".
    with path.open("rb") as f:
        assert client.post("/api/v1/members/imports", {"file": f, "unit": "C2"}, headers=headers).status_code == 404
    bad = tmp_path / "ghi-chu.txt"
    bad.write_bytes(b"%PDF-1.4 not a sheet")
    with bad.open("rb") as f:
        response = client.post("/api/v1/members/imports", {"file": f, "unit": "C1"}, headers=headers)
    assert response.status_code == 422 and "file" in response.json()["errors"]
