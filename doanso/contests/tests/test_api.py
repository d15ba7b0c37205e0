"""The API for mobile clients: register, start, resume, save, submit, results — and the refusals' codes."""

import json

import pytest
from django.urls import reverse
from ninja.renderers import JSONRenderer

from doanso.contests.api import ResultOut
from doanso.contests.models import Attempt, AttemptQuestion, Participant
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
    # Written by hand (the busiest moment of a round is its close): exactly what ninja makes of the schema.
    stored = ResultOut.model_validate(Attempt.objects.get(key=key), from_attributes=True).model_dump()
    assert first == json.loads(JSONRenderer().render(None, stored, response_status=200))
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


def registration(**changes):
    return {"full_name": "Lê Thị Hồng", "date_of_birth": "2004-09-02", "phone": "0912345678", "unit": "b2", **changes}


def started_attempt(client, contest, round_):
    reg = post(client, reverse("api:register_participant", args=[contest.pk]), registration())
    token = reg.json()["token"]
    return post(client, reverse("api:start_attempt", args=[round_.pk]), **{"X-Participant-Token": token}).json()


def test_malformed_requests_are_refused_in_vietnamese_never_a_server_error(client, contest, round_, settings):
    # Found by a test pass: each of these was a 500 on PostgreSQL, or an English message from the framework.
    url = reverse("api:register_participant", args=[contest.pk])
    vi = {"Accept-Language": "vi"}
    masked = post(client, url, registration(phone="0912***222", citizen_id="048303***111"), **vi)
    assert masked.status_code == 422
    assert masked.json()["errors"] == {
        "phone": ["Hãy ghi đủ số điện thoại, không che chữ số nào."],
        "citizen_id": ["Hãy ghi đủ số CCCD, không che chữ số nào."],
    }
    long_phone = post(client, url, registration(phone="09" * 2500), **vi).json()["errors"]["phone"]
    assert long_phone == ["Quá dài đối với một số điện thoại."]
    invisible = post(client, url, registration(full_name="\u200b\u200b \u200b"), **vi)
    assert invisible.status_code == 422 and "full_name" in invisible.json()["errors"]
    bad_date = post(client, url, registration(date_of_birth="2005-02-31"), **vi)
    assert (bad_date.status_code, bad_date.json()) == (
        422,
        {"errors": {"date_of_birth": ["Hãy nhập một ngày hợp lệ (năm-tháng-ngày)."]}},
    )
    missing = post(client, url, {"full_name": "Lê Thị Hồng"}, **vi).json()["errors"]
    assert set(missing) == {"date_of_birth", "phone", "unit"} and missing["phone"] == ["Bạn cần nhập mục này."]
    nul = post(client, url, registration(full_name="Lê\u0000 Thị Hồng"), **vi)
    assert (nul.status_code, nul.json()["code"]) == (400, "bad_request")
    broken = client.post(url, "{not json", content_type="application/json", headers=vi)
    assert (broken.status_code, broken.json()["code"]) == (400, "bad_request")
    assert "JSON" in broken.json()["error"]
    unknown = client.get(reverse("api:contest_detail", args=[999_999]), headers=vi)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")
    for path in ("/api/v1/contests/attempts/ab%00cd", "/api/v1/contests/attempts/ab%00cd/result"):
        assert client.get(path).status_code == 400
    assert client.get("/api/v1/members/?q=%00").status_code == 400
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    big = post(client, reverse("api:save_answer", args=["xyz"]), {"seq": 1, "position": 1, "chosen": [1] * 2000})
    assert (big.status_code, big.json()["code"]) == (413, "too_large")
    assert Participant.objects.count() == 0


def test_a_save_that_would_wipe_or_block_an_answer_is_refused(client, contest, round_):
    key = started_attempt(client, contest, round_)["key"]
    save = reverse("api:save_answer", args=[key])
    assert post(client, save, {"position": 1, "chosen": [2], "seq": 5}).status_code == 200
    for body in ({"position": 1, "seq": 6}, {"position": 1, "chosen": None, "seq": 6}):
        refused = post(client, save, body)
        assert (refused.status_code, refused.json()["code"]) == (409, "bad_option")
    for seq in (0, -5, 2**31, 10**40):
        refused = post(client, save, {"position": 1, "chosen": [3], "seq": seq})
        assert (refused.status_code, refused.json()["code"]) == (409, "bad_seq"), seq
    assert AttemptQuestion.objects.get(attempt__key=key, position=1).chosen == [2]
    assert post(client, save, {"position": 1, "chosen": [], "seq": 7}).status_code == 200  # cleared on purpose
    assert AttemptQuestion.objects.get(attempt__key=key, position=1).chosen == []


def test_the_save_reads_its_own_body_and_refuses_bad_ones_like_every_route(client, contest, round_):
    """The save parses and validates its body itself (the hot path, without ninja's parameter handling): bad
    bodies get the API's usual 400 and 422 answers, in Vietnamese, and the OpenAPI document still describes it."""
    key = started_attempt(client, contest, round_)["key"]
    save = reverse("api:save_answer", args=[key])
    vi = {"Accept-Language": "vi"}
    for raw in (b"{not json", b"", b'{"position": 1, "chosen": [1], "seq": 2, "x": "\\u0000"}', b"[" * 100_000):
        refused = client.post(save, raw, content_type="application/json", headers=vi)
        assert (refused.status_code, refused.json()["code"]) == (400, "bad_request"), raw
    wrong = post(client, save, {"position": "một", "chosen": "A", "seq": "hai"}, **vi)
    assert wrong.status_code == 422
    assert set(wrong.json()["errors"]) == {"position", "chosen", "seq"}
    assert post(client, save, {"position": 1, "chosen": [1]}, **vi).json() == {
        "errors": {"seq": ["Bạn cần nhập mục này."]}
    }
    assert AttemptQuestion.objects.get(attempt__key=key, position=1).seq == 0
    for forged in ("x" * 33, "abc$", "a b"):  # never a key: refused before any query
        missing = post(client, reverse("api:save_answer", args=[forged]), {"position": 1, "chosen": [1], "seq": 3})
        assert (missing.status_code, missing.json()["code"]) == (404, "not_found"), forged
    ok = post(client, save, {"position": 1, "chosen": [1], "seq": 3})
    assert (ok.status_code, ok["Content-Type"], ok.json()) == (
        200,
        "application/json; charset=utf-8",
        {"ok": True, "seq": 3},
    )
    documented = client.get("/api/v1/openapi.json").json()["paths"]["/api/v1/contests/attempts/{key}/answers"]["post"]
    assert set(documented["requestBody"]["content"]["application/json"]["schema"]["properties"]) == {
        "seq",
        "position",
        "chosen",
        "prediction",
    }


def test_predictions_are_whole_numbers_as_people_write_them(client, contest, round_):
    from doanso.contests.models import Attempt

    key = started_attempt(client, contest, round_)["key"]
    save = reverse("api:save_answer", args=[key])
    for seq, (sent, kept) in enumerate(
        [("1.250.000", 1_250_000), ("2 500", 2500), (1235, 1235), ("1,5", None), ("1.5", None), ("٣٤", None)],
        start=1,
    ):
        response = post(client, save, {"prediction": sent, "seq": seq})
        if kept is None:
            assert (response.status_code, response.json()["code"]) == (409, "bad_prediction"), sent
        else:
            assert response.status_code == 200, sent
            assert Attempt.objects.get(key=key).prediction == kept


def test_a_submitted_attempt_has_no_time_left(client, contest, round_):
    key = started_attempt(client, contest, round_)["key"]
    post(client, reverse("api:submit_attempt", args=[key]))
    assert client.get(reverse("api:attempt_detail", args=[key])).json()["remaining_seconds"] == 0


def test_a_member_app_starts_an_attempt_with_its_api_token(client, contest, round_, world):
    from doanso.accounts.services import create_api_token
    from doanso.members.tests.factories import MemberFactory

    user = world.manager_C1
    MemberFactory(unit=world.B2, user=user)
    _token, raw = create_api_token(user, actor=user)
    bearer = {"Authorization": f"Bearer {raw}"}
    joined = post(client, reverse("api:join_contest", args=[contest.pk]), **bearer)
    assert joined.status_code == 200, joined.content
    started = post(client, reverse("api:start_attempt", args=[round_.pk]), **bearer)
    assert started.status_code == 201, started.content
    assert post(client, reverse("api:start_attempt", args=[round_.pk])).status_code == 401
    anonymous = post(client, reverse("api:join_contest", args=[contest.pk]))
    assert anonymous.status_code in (401, 403) and anonymous.json()["code"] in ("unauthorized", "forbidden")


LANE = "doanso.contests.middleware.ContestantLaneMiddleware"


def _answers_in_both_ways(contest, round_, settings, requests):
    """``requests(key)``: (method, path, body or raw bytes, headers) to send for one attempt. Sent for one attempt
    through the contestants' lane and for another through the whole middleware and ninja's dispatch: what each
    answered (status, body, every header), with the attempt's own key and times taken out, and whether the lane
    served it."""
    from django.test import Client

    answers = {}
    for lane, phone in ((True, "0912345671"), (False, "0912345672")):
        settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if lane or m != LANE]
        client = Client(raise_request_exception=False)
        key = post(client, reverse("api:register_participant", args=[contest.pk]), registration(phone=phone)).json()
        key = post(client, reverse("api:start_attempt", args=[round_.pk]), **{"X-Participant-Token": key["token"]})
        key = key.json()["key"]
        seen = []
        for method, path, body, headers in requests(key):
            if method == "GET":
                response = client.get(path, headers=headers)
            elif isinstance(body, bytes):
                response = client.post(path, body, content_type="application/json", headers=headers)
            else:
                response = post(client, path, body, **headers)
            content = None  # a page (its nonce differs every time): its status and headers are compared
            if response["Content-Type"].startswith("application/json"):
                content = response.json()
                if isinstance(content, dict):
                    for drawn in ("submitted_at", "duration_ms", "correct"):  # (each attempt draws its questions)
                        content.pop(drawn, None)
                    content = json.loads(json.dumps(content).replace(key, "KEY"))
            # The whole stack also varies on the cookie (the second-factor check reads the session); these POST
            # answers are never cached, and nothing in them depends on a session.
            vary = {v.strip() for v in response.get("Vary", "").split(",")} - {"Cookie", ""}
            headers = {k: v for k, v in response.items() if k not in ("Vary", "Content-Length")}
            headers["length"] = response.has_header("Content-Length")
            assert int(response.get("Content-Length", len(response.content))) == len(response.content)
            # Taken into the lane, and not resolved on the ordinary way after all.
            served = hasattr(response.wsgi_request, "contestant_lane") and response.wsgi_request.resolver_match is None
            seen.append((response.status_code, content, headers, sorted(vary), served))
        answers[lane] = seen
    return answers[True], answers[False]


def test_the_contestants_lane_answers_exactly_as_the_whole_stack_would(contest, round_, settings, monkeypatch):
    """The two busiest routes skip most of the middleware and ninja's dispatch (decision 0016): every answer of
    theirs — refusals, other languages, a bad host, a server error — is the one the ordinary way gives."""
    from doanso.contests.services import taking

    save_answer = taking.save_answer

    def broken_at_seven(key, position, chosen, seq, **kwargs):
        if position == 7:
            raise RuntimeError("a bug")
        return save_answer(key, position, chosen, seq, **kwargs)

    monkeypatch.setattr(taking, "save_answer", broken_at_seven)

    def requests(key):
        save, submit = reverse("api:save_answer", args=[key]), reverse("api:submit_attempt", args=[key])
        en, cookie = {"Accept-Language": "en"}, {"Cookie": "django_language=en"}
        return [
            ("POST", save, {"position": 1, "chosen": [1], "seq": 1}, {}),
            ("POST", save, {"position": 1, "chosen": [2], "seq": 1}, {}),  # stale: an older save
            ("POST", save, {"position": 1, "seq": 2}, en),  # no options: refused, in English
            ("POST", save, {"position": 1, "seq": 2}, cookie),  # the language chosen on the site
            ("POST", save, b"{not json", {}),
            ("POST", save, {"position": "một", "chosen": "A", "seq": "hai"}, en),
            ("POST", save, {"position": 99, "chosen": [1], "seq": 3}, {}),
            ("POST", save, {"position": 2, "chosen": [1], "seq": 3}, {"Host": "evil.example"}),
            ("POST", save, {"position": 7, "chosen": [1], "seq": 3}, {}),  # a bug: the error page
            ("GET", save, None, {}),  # not the lane's: ninja refuses the method
            ("POST", reverse("api:save_answer", args=["no-such-key"]), {"position": 1, "chosen": [1], "seq": 1}, {}),
            ("POST", save + "/", {"position": 1, "chosen": [1], "seq": 1}, {}),
            ("POST", submit, {}, {}),
            ("POST", submit, {}, en),  # repeated: the same result
            ("POST", save, {"position": 2, "chosen": [1], "seq": 4}, {}),  # too late
            ("POST", reverse("api:submit_attempt", args=["x" * 40]), {}, en),
        ]

    lane, whole = _answers_in_both_ways(contest, round_, settings, requests)
    assert [answer[:4] for answer in lane] == [answer[:4] for answer in whole]
    statuses = [answer[0] for answer in lane]
    assert statuses == [200, 409, 409, 409, 400, 422, 409, 400, 500, 405, 404, 404, 200, 200, 410, 404]
    assert [answer[2]["Content-Language"] for answer in lane[:4]] == ["vi", "vi", "en", "en"]
    assert lane[2][1]["error"].startswith("Send") and lane[0][2]["X-Frame-Options"] == "DENY"
    # The lane served every POST to the two routes, and only those; the whole stack none.
    assert [answer[4] for answer in lane] == [True] * 9 + [False, True, False] + [True] * 4
    assert not any(answer[4] for answer in whole)


def test_the_lanes_middleware_are_a_part_of_the_sites_in_the_same_order(settings):
    lane = settings.CONTESTANT_LANE_MIDDLEWARE
    assert [m for m in settings.MIDDLEWARE if m in lane] == lane
    assert settings.MIDDLEWARE.index(LANE) < min(settings.MIDDLEWARE.index(m) for m in lane)
