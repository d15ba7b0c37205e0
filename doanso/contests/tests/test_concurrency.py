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

    run_together(*[worker] * n)
    return results, errors


def run_together(*targets):
    """Run each of ``targets`` in a thread of its own and wait for all of them."""
    threads = [threading.Thread(target=target) for target in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


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


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers (PostgreSQL)")
def test_a_save_racing_a_submit_is_either_graded_or_refused(round_, register):
    """A save that arrives after the submit has graded the answers but before it commits must not be
    acknowledged: it waits for the submit and is then refused, so every acknowledged answer is graded."""
    import time

    from django.db import transaction

    from doanso.contests.models import AttemptQuestion, AttemptStatus

    attempt = taking.start_attempt(round_, register())
    answer_all(attempt, right=3)
    graded, outcome = threading.Event(), {}

    def submit():
        try:
            with transaction.atomic():
                taking.finalise_attempt(attempt)
                graded.set()
                time.sleep(1.0)  # graded, not yet committed
        finally:
            connection.close()

    def save():
        graded.wait(10)
        q = AttemptQuestion.objects.filter(attempt=attempt, position=10).values_list("option_order", flat=True)[0]
        try:
            taking.save_answer(attempt.key, 10, [q[-1]], 1000)
            outcome["saved"] = True
        except taking.AttemptRefused as exc:
            outcome["refused"] = {e.code for errors in exc.error_dict.values() for e in errors}
        finally:
            connection.close()

    run_together(submit, save)
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUBMITTED
    assert outcome == {"refused": {"submitted"}}
    assert AttemptQuestion.objects.get(attempt=attempt, position=10).seq < 1000


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers (PostgreSQL)")
def test_a_submit_racing_a_save_grades_the_save(round_, register):
    """A submit that arrives while an acknowledged save is still committing waits for it and grades it: the
    database's submit function locks the attempt first and reads the answers in a later statement (a statement
    that locked and read at once would read the answers as they were before it waited)."""
    import time

    from django.db import transaction

    from doanso.contests.models import AttemptQuestion

    attempt = taking.start_attempt(round_, register())
    answer_all(attempt, right=3)
    aq = AttemptQuestion.objects.select_related("version").get(attempt=attempt, position=10)
    saved, result = threading.Event(), {}

    def save():
        try:
            with transaction.atomic():
                taking.save_answer(attempt.key, 10, aq.version.correct, 1000)
                saved.set()
                time.sleep(1.0)  # written and holding the attempt, not yet committed
        finally:
            connection.close()

    def submit():
        try:
            saved.wait(10)
            result["correct"] = taking.submit_attempt(attempt.key).correct
        finally:
            connection.close()

    run_together(save, submit)
    assert result == {"correct": 4}
    assert Attempt.objects.get(pk=attempt.pk).correct == 4
