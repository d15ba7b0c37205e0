"""The API for mobile clients: register, start, resume, save, submit, results — and the refusals' codes."""

import pytest
from django.urls import reverse

from doanso.contests.models import AttemptQuestion, Participant
from doanso.contests.services import results

pytestmark = pytest.mark.django_db


def post(client, url, data=None, **headers):
    return client.post(url, data or {}, content_type="application/json", headers=headers)


def test_the_whole_attempt_over_the_api(client, contest, round_, world):
    reg = post(
        client,
        reverse("api:register_participant", args=[contest.pk]),
        {"full_name": "Lê Thị Hồng", "date_of_birth": "2004-09-02", "phone": "0912345678", "unit": "b2"},
    )
    assert reg.status_code == 201, reg.content
    token = reg.json()["token"]
    assert reg.json()["unit"] == world.B2.name

    assert post(client, reverse("api:start_attempt", args=[round_.pk])).status_code == 401
    started = post(client, reverse("api:start_attempt", args=[round_.pk]), **{"X-Participant-Token": token})
    assert started.status_code == 201
    body = started.json()
    assert len(body["questions"]) == 10 and 595 <= body["remaining_seconds"] <= 600
    assert "correct" not in started.content.decode()
    key = body["key"]

    q1 = AttemptQuestion.objects.select_related("version").get(attempt__key=key, position=1)
    save = reverse("api:save_answer", args=[key])
    assert post(client, save, {"position": 1, "chosen": q1.version.correct, "seq": 1}).json() == {"ok": True, "seq": 1}
    replay = post(client, save, {"position": 1, "chosen": [99], "seq": 2})
    assert (replay.status_code, replay.json()["code"]) == (409, "bad_option")
    assert post(client, save, {"prediction": "321", "seq": 3}).status_code == 200

    resumed = client.get(reverse("api:attempt_detail", args=[key])).json()
    assert resumed["questions"][0]["chosen"] == q1.version.correct and resumed["prediction"] == 321

    first = post(client, reverse("api:submit_attempt", args=[key])).json()
    again = post(client, reverse("api:submit_attempt", args=[key])).json()
    assert first == again and first["correct"] == 1
    late = post(client, save, {"position": 2, "chosen": [1], "seq": 9})
    assert (late.status_code, late.json()["code"]) == (410, "submitted")


def test_registration_refusals_over_the_api(client, contest, register):
    register(phone="0912345678")
    url = reverse("api:register_participant", args=[contest.pk])
    dup = post(
        client, url, {"full_name": "Ai Đó Khác", "date_of_birth": "2000-01-01", "phone": "0912345678", "unit": "B1"}
    )
    assert dup.status_code == 422 and "phone" in dup.json()["errors"]
    outside = post(
        client, url, {"full_name": "Ai Đó", "date_of_birth": "2000-01-01", "phone": "0912000000", "unit": "B3"}
    )
    assert outside.status_code == 422 and "unit" in outside.json()["errors"]
    assert Participant.objects.count() == 1


def test_published_results(client, contest, round_, register, world):
    import datetime

    from doanso.contests.services import taking

    a = taking.start_attempt(round_, register())
    mine = reverse("api:attempt_result", args=[a.key])
    assert (client.get(mine).status_code, client.get(mine).json()["code"]) == (409, "in_progress")
    taking.submit_attempt(a.key)
    results.rank_round(round_, actor=world.manager_C1, now=round_.closes_at + datetime.timedelta(seconds=5))
    url = reverse("api:round_results", args=[round_.pk])
    assert client.get(url).status_code == 404
    before = client.get(mine).json()
    assert (before["results_published"], before["standing"], before["question_total"]) == (False, None, 10)
    results.publish_results(round_, actor=world.manager_C1)
    assert [w["prize"] for w in client.get(url).json()] == ["first"]
    standing = client.get(mine).json()["standing"]
    assert standing == {"position": 1, "rank": 1, "prize": "first", "after": None}
    assert client.get(reverse("api:attempt_result", args=["x" * 32])).status_code == 404
