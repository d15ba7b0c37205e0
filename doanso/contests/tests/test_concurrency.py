"""Fifty simultaneous submits of one attempt give one result, and simultaneous starts respect the attempt cap.
Real threads on real connections: meaningful on PostgreSQL (SQLite serialises writers anyway)."""

import threading

import pytest
from django.db import connection

from doanso.contests.models import Attempt, AttemptFlag, UnitTally
from doanso.contests.services import taking

from .support import answer_all

pytestmark = pytest.mark.django_db(transaction=True)


def run_parallel(fn, n):
    barrier = threading.Barrier(n)
    results, errors = [], []

    def worker():
        try:
            barrier.wait()
            results.append(fn())
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers (PostgreSQL)")
def test_fifty_parallel_submits_count_once(round_, register):
    attempt = taking.start_attempt(round_, register())
    answer_all(attempt, right=7)
    results, errors = run_parallel(lambda: taking.submit_attempt(attempt.key), 50)
    assert errors == []
    assert {(a.pk, a.correct, a.submitted_at) for a in results} == {(attempt.pk, 7, results[0].submitted_at)}
    tally = UnitTally.objects.get(round=round_, unit=attempt.unit)
    assert (tally.participants, tally.attempts) == (1, 1)
    assert UnitTally.objects.get(round=None, unit=attempt.unit).participants == 1
    assert not AttemptFlag.objects.exclude(kind="too_fast").exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers (PostgreSQL)")
def test_parallel_starts_make_one_attempt(round_, register):
    person = register()
    results, errors = run_parallel(lambda: taking.start_attempt(round_, person).pk, 20)
    assert errors == []
    assert len(set(results)) == 1
    assert Attempt.objects.filter(participant=person).count() == 1
