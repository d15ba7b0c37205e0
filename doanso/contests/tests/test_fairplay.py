"""Fair play: rate limits, flags for the impossible, the review queue and what a disqualification does."""

import datetime
import importlib
import os

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from doanso.contests.models import Attempt, AttemptFlag, FlagKind, FlagStatus, RoundResult, SheetCount
from doanso.contests.services import fairplay, results, taking

from .support import answer_all

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    fairplay._shared_counts.reset()
    yield
    cache.clear()
    fairplay._shared_counts.reset()


def test_saves_past_the_limit_are_refused_with_429(client, round_, register, settings):
    settings.CONTEST_RATE_LIMITS = {"save": (3, 60)}
    a = taking.start_attempt(round_, register())
    url = reverse("contests:answer_save", args=[a.key])
    codes = [
        client.post(
            url, {"position": 1, "chosen": "1", "seq": str(i)}, headers={"accept": "application/json"}
        ).status_code
        for i in range(1, 6)
    ]
    assert codes == [200, 200, 200, 429, 429]


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_each_counter_of_a_throttle_stops_at_its_own_limit(settings, backend):
    # Production counts in the process and adds the counts to Redis a few times a second; tests elsewhere count
    # in the cache. Both must refuse the same requests, and Redis must let the counters expire.
    if backend == "redis":
        settings.CACHES = {
            "default": {
                "BACKEND": "django_redis.cache.RedisCache",
                "LOCATION": os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/13"),
                "KEY_PREFIX": f"test-{os.getpid()}",
            }
        }
    cache.clear()
    settings.CONTEST_RATE_LIMITS = {"save": (3, 60), "save_ip": (4, 60)}
    outcomes = []
    for i in range(6):
        try:
            fairplay.throttle(("save", "attempt-1" if i < 5 else "attempt-2"), ("save_ip", "10.0.0.1"))
            outcomes.append("ok")
        except fairplay.RateLimited as exc:
            assert 0 < exc.retry_after <= 60
            outcomes.append("limited")
    # The attempt's counter stops the 4th and 5th; the address's (4 a minute) stops the 5th and 6th.
    assert outcomes == ["ok", "ok", "ok", "limited", "limited", "limited"]
    if backend == "redis":
        fairplay._shared_counts.flush()
        client = fairplay._redis_client()
        keys = client.keys(f"test-{os.getpid()}:*contests:rl:*")
        assert len(keys) == 3
        assert all(0 < client.ttl(k) <= 65 for k in keys)
        cache.clear()


def test_on_redis_each_process_counts_at_once_and_learns_the_others_counts_at_the_flush(settings):
    """60 simultaneous requests against a limit of 40 give exactly 40 through in the process; the flush adds them
    to Redis, and the requests another process counted there are counted here from the next flush on."""
    import threading

    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/13"),
            "KEY_PREFIX": f"test-shared-{os.getpid()}",
        }
    }
    cache.clear()
    settings.CONTEST_RATE_LIMITS = {"save": (100, 60), "save_ip": (40, 60)}
    outcomes, barrier = [], threading.Barrier(60)

    def one(i):
        barrier.wait()
        try:
            fairplay.throttle(("save", f"attempt-{i % 20}"), ("save_ip", "10.0.0.9"))
            outcomes.append("ok")
        except fairplay.RateLimited:
            outcomes.append("limited")

    threads = [threading.Thread(target=one, args=(i,)) for i in range(60)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcomes.count("ok") == 40 and outcomes.count("limited") == 20
    fairplay._shared_counts.flush()
    client = fairplay._redis_client()
    prefix = f"test-shared-{os.getpid()}:"
    counts = {k.decode().split(":")[-2]: int(client.get(k)) for k in client.keys(prefix + "*contests:rl:save:*")}
    assert counts == {f"attempt-{i}": 3 for i in range(20)}
    assert int(client.get(client.keys(prefix + "*contests:rl:save_ip:*")[0])) == 60

    # Another process counted 97 requests of attempt-99; this one knows from its next flush.
    fairplay.throttle(("save", "attempt-99"))
    fairplay._shared_counts.flush()
    client.incrby(client.keys(prefix + "*contests:rl:save:attempt-99:*")[0], 97)
    fairplay.throttle(("save", "attempt-99"))  # 99th; judged as the 2nd until the flush
    fairplay._shared_counts.flush()
    fairplay.throttle(("save", "attempt-99"))  # 100th
    with pytest.raises(fairplay.RateLimited):
        fairplay.throttle(("save", "attempt-99"))
    cache.clear()


def test_when_redis_is_away_the_counts_wait_and_the_limits_still_apply(settings, monkeypatch):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/13"),
            "KEY_PREFIX": f"test-away-{os.getpid()}",
        }
    }
    cache.clear()
    settings.CONTEST_RATE_LIMITS = {"save": (3, 60)}

    def away(client):
        raise ConnectionError("Redis is away")

    monkeypatch.setattr(fairplay, "_add_script", away)
    for _ in range(2):
        fairplay.throttle(("save", "attempt-1"))
    with pytest.raises(ConnectionError):
        fairplay._shared_counts.flush()
    fairplay.throttle(("save", "attempt-1"))
    with pytest.raises(fairplay.RateLimited):
        fairplay.throttle(("save", "attempt-1"))
    monkeypatch.undo()
    fairplay._shared_counts.flush()  # back: the four requests arrive at once
    client = fairplay._redis_client()
    assert [int(client.get(k)) for k in client.keys(f"test-away-{os.getpid()}:*")] == [4]
    cache.clear()


def test_a_school_taking_part_from_one_address_is_not_refused(client, contest, round_, world):
    """A union branch's contest session: a class registers, starts and submits from the school's one address
    within a few minutes, under the default limits."""
    from doanso.contests.models import Attempt

    statuses = set()
    for i in range(45):
        client.cookies.clear()
        registered = client.post(
            reverse("contests:register", args=[contest.pk]),
            {"full_name": f"Học Sinh {i}", "date_of_birth": "01/01/2008", "phone": f"0905{i:06d}", "unit": "— B1"},
        )
        started = client.post(reverse("contests:start", args=[round_.pk]))
        statuses |= {registered.status_code, started.status_code}
        key = started.url.rstrip("/").split("/")[-1]
        statuses.add(client.post(reverse("contests:attempt_submit", args=[key])).status_code)
    assert statuses == {302}
    assert Attempt.objects.filter(status="submitted").count() == 45


def test_registrations_per_address_are_limited(client, contest, settings):
    settings.CONTEST_RATE_LIMITS = {"register": (2, 600)}
    url = reverse("contests:register", args=[contest.pk])
    statuses = [
        client.post(
            url, {"full_name": "Lê An", "date_of_birth": "01/01/2000", "phone": f"090500000{i}", "unit": "— B1"}
        ).status_code
        for i in range(3)
    ]
    assert statuses == [302, 302, 429]


def test_too_fast_is_flagged(round_, register):
    a = taking.start_attempt(round_, register())
    answer_all(a, right=10)
    a = taking.submit_attempt(a.key, now=a.started_at + datetime.timedelta(seconds=5))
    assert list(AttemptFlag.objects.values_list("attempt_id", "kind")) == [(a.pk, FlagKind.TOO_FAST)]


def identical_sheets(round_, register, count: int) -> list[Attempt]:
    """Scripted entries: the same questions answered the same way, from one address, ``count`` times."""
    round_.topic_quotas = {}
    round_.question_count = 30  # the whole bank, so every attempt has the same questions
    round_.save()
    made = []
    for _ in range(count):
        a = taking.start_attempt(round_, register(), ip="203.0.113.9")
        for aq in a.questions.all():
            taking.save_answer(a.key, aq.position, [min(aq.option_order)], 1)
        made.append(a)
    return made


def test_identical_sequences_in_bulk_from_one_address_are_flagged(round_, register):
    made = [
        taking.submit_attempt(a.key, now=a.started_at + datetime.timedelta(minutes=5))
        for a in identical_sheets(round_, register, 5)
    ]
    flagged = set(AttemptFlag.objects.filter(kind=FlagKind.IDENTICAL_BULK).values_list("attempt_id", "detail"))
    assert flagged == {(a.pk, "5 bài giống hệt nhau từ 203.0.113.9") for a in made}


@pytest.mark.parametrize("how", ["one_by_one", "orm", "one_batch", "orm_then_batch"])
def test_identical_sheets_are_counted_alike_however_they_are_submitted(how, round_, register):
    """Six identical sheets: five flagged when the fifth arrives ("5 …"), the sixth with its own count ("6 …"),
    whether submitted one by one (the database function, or the ORM), all in one batch (the function's count for
    each sheet is the one it would have had alone), or three by the ORM and three in a batch (the batch reaches
    the threshold and brings the three earlier ones, which the sheet's count row remembers)."""
    from django.db import connection

    made = identical_sheets(round_, register, 6)
    submits = [(a.key, a.started_at + datetime.timedelta(minutes=5)) for a in made]
    if how == "one_by_one":
        for key, now in submits:
            taking.submit_attempt(key, now=now)
    elif how == "orm":
        for a, (_key, now) in zip(made, submits, strict=True):
            taking.finalise_attempt(a, now=now)
    else:
        if connection.vendor != "postgresql":
            pytest.skip("batches are PostgreSQL's")
        if how == "orm_then_batch":
            for a, (_key, now) in zip(made[:3], submits[:3], strict=True):
                taking.finalise_attempt(a, now=now)
            submits = submits[3:]
        with connection.cursor() as cursor:
            taking._write_submits(cursor, submits)
    sheet = SheetCount.objects.get(round=round_, ip="203.0.113.9")
    assert (sheet.count, sheet.first_ids) == (6, [a.pk for a in made[:4]])
    flagged = dict(AttemptFlag.objects.filter(kind=FlagKind.IDENTICAL_BULK).values_list("attempt_id", "detail"))
    assert [flagged[a.pk] for a in made] == ["5 bài giống hệt nhau từ 203.0.113.9"] * 5 + [
        "6 bài giống hệt nhau từ 203.0.113.9"
    ]


def test_review_disqualifies_and_the_ranking_leaves_the_attempt_out(round_, register, world):
    from doanso.core.models import AuditRecord

    a = taking.start_attempt(round_, register())
    answer_all(a, right=10)
    taking.submit_attempt(a.key, now=a.started_at + datetime.timedelta(seconds=3))
    b = taking.start_attempt(round_, register())
    taking.submit_attempt(b.key)
    flag = AttemptFlag.objects.get(attempt=a)
    with pytest.raises(ValidationError) as exc:
        fairplay.review_flag(flag, actor=world.manager_C1, decision=FlagStatus.DISQUALIFIED)
    assert "note" in exc.value.message_dict
    assert not Attempt.objects.get(pk=a.pk).disqualified
    with pytest.raises(PermissionDenied):
        fairplay.review_flag(flag, actor=world.manager_C2, decision=FlagStatus.CLEARED)
    fairplay.review_flag(flag, actor=world.manager_C1, decision=FlagStatus.DISQUALIFIED, note="10 câu trong 3 giây")
    assert Attempt.objects.get(pk=a.pk).disqualified
    assert AuditRecord.objects.filter(action="contests.review_flag").count() == 1
    results.rank_round(round_, actor=world.manager_C1, now=round_.closes_at + datetime.timedelta(seconds=1))
    assert list(RoundResult.objects.filter(round=round_).values_list("attempt_id", flat=True)) == [b.pk]


def test_the_optional_challenge_is_asked_and_checked(client, contest, world):
    from doanso.contests.services import setup

    setup.update_contest(contest, actor=world.manager_C1, challenge_enabled=True)
    url = reverse("contests:register", args=[contest.pk])
    page = client.get(url, headers={"accept-language": "en"})
    a, b = page.context["form"].challenge
    data = {"full_name": "Lê An", "date_of_birth": "01/01/2000", "phone": "0905000001", "unit": "— B1"}
    wrong = client.post(url, {**data, "challenge": a + b + 1}, headers={"accept-language": "en"})
    assert "not the right sum" in wrong.content.decode()
    assert client.post(url, {**data, "challenge": a + b}).status_code == 302


def test_sheets_submitted_before_the_counts_existed_are_counted_once(round_, register):
    """Migration contests.0006 counts the identical sheets already submitted, as the submits would have."""
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    made = identical_sheets(round_, register, 6)
    for a in made:
        taking.submit_attempt(a.key, now=a.started_at + datetime.timedelta(minutes=5))
    other = taking.start_attempt(round_, register(), ip="198.51.100.7")
    taking.submit_attempt(other.key, now=other.started_at + datetime.timedelta(minutes=5))
    nowhere = taking.start_attempt(round_, register())  # no address: not counted
    taking.submit_attempt(nowhere.key, now=nowhere.started_at + datetime.timedelta(minutes=5))
    taking.start_attempt(round_, register(), ip="198.51.100.7")  # in progress: not counted
    counted = sorted(SheetCount.objects.values_list("ip", "fingerprint", "count", "first_ids"))
    SheetCount.objects.all().delete()
    migration = importlib.import_module("doanso.contests.migrations.0006_sheet_counts")
    migration.count_submitted_sheets(apps, SimpleNamespace(connection=connection))
    assert sorted(SheetCount.objects.values_list("ip", "fingerprint", "count", "first_ids")) == counted
    assert [c[2] for c in counted] == [1, 6]


def test_four_identical_sheets_raise_nothing_and_later_ones_their_own_count(round_, register):
    """Below the threshold nothing is flagged; past it, a batch of two gets the counts they would have had one by
    one (6 and 7), and the five before keep their flags."""
    from django.db import connection

    made = identical_sheets(round_, register, 7)
    for a in made[:4]:
        taking.submit_attempt(a.key, now=a.started_at + datetime.timedelta(minutes=5))
    assert not AttemptFlag.objects.exists()
    assert SheetCount.objects.get().count == 4
    taking.submit_attempt(made[4].key, now=made[4].started_at + datetime.timedelta(minutes=5))
    later = [(a.key, a.started_at + datetime.timedelta(minutes=5)) for a in made[5:]]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            taking._write_submits(cursor, later)
    else:
        for key, now in later:
            taking.submit_attempt(key, now=now)
    flagged = dict(AttemptFlag.objects.filter(kind=FlagKind.IDENTICAL_BULK).values_list("attempt_id", "detail"))
    assert [flagged[a.pk][:1] for a in made] == ["5"] * 5 + ["6", "7"]
