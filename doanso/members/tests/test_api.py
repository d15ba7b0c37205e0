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
