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


def run_parallel_each(fn, n):
    """``fn(i)`` for i in range(n), each in a thread of its own, started together."""
    barrier = threading.Barrier(n)
    results, errors = [], []

    def worker(i):
        try:
            barrier.wait()
            results.append(fn(i))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


def run_together(*targets):
    """Run each of ``targets`` in a thread of its own and wait for all of them."""
    threads = [threading.Thread(target=target) for target in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def fail_after_commit(batcher, monkeypatch) -> list:
    """Make ``batcher``'s batches fail after doing their work (the connection drops before the answer arrives);
    the results of the work done go to the list returned."""
    real_work, written = batcher._work, []

    def work_then_fail(items):
        written.append(real_work(items))
        raise OSError("connection lost after the commit")

    monkeypatch.setattr(batcher, "_work", work_then_fail)
    return written


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


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers (PostgreSQL)")
def test_saves_arriving_together_are_written_together_each_with_its_own_outcome(round_, register, monkeypatch):
    """Outside a transaction the saves of the moment share one statement and one commit (core.batching): each
    valid one is applied, a forged option and an old sequence number are refused as if sent alone, and of two
    saves of one question the newer wins."""
    from doanso.contests.models import AttemptQuestion

    attempts = [taking.start_attempt(round_, register()) for _ in range(4)]
    orders = {
        (aq.attempt_id, aq.position): aq.option_order for aq in AttemptQuestion.objects.filter(attempt__in=attempts)
    }
    saves = []
    for a in attempts:
        for position in range(1, 11):
            saves.append((a.key, position, [orders[(a.pk, position)][0]], 5))
    a0 = attempts[0]
    saves.append((a0.key, 1, [orders[(a0.pk, 1)][1]], 9))  # the same question again, newer: wins
    saves.append((attempts[1].key, 3, [999999], 6))  # not one of the options
    outcomes, sizes = {}, []
    real_write = taking._save_batcher._work

    def slow_first_write(batch):
        # The first batch takes a moment, so that the others queue behind it and go together.
        sizes.append(len(batch))
        if len(sizes) == 1:
            threading.Event().wait(0.5)
        return real_write(batch)

    monkeypatch.setattr(taking._save_batcher, "_work", slow_first_write)

    def save(i):
        key, position, chosen, seq = saves[i]
        try:
            taking.save_answer(key, position, chosen, seq)
            outcomes[i] = "ok"
        except taking.AttemptRefused as exc:
            outcomes[i] = next(e.code for errors in exc.error_dict.values() for e in errors)

    _results, errors = run_parallel_each(save, len(saves))
    assert errors == []
    assert sum(sizes) == len(saves) and max(sizes) > 1, sizes
    # The save of seq 5 to a0's first question is refused as stale if the one of seq 9 came first.
    assert outcomes.pop(0) in ("ok", "stale")
    assert [outcomes[i] for i in range(1, 41)] == ["ok"] * 40
    assert outcomes[41] == "bad_option"
    with pytest.raises(taking.AttemptRefused) as old:
        taking.save_answer(a0.key, 2, [orders[(a0.pk, 2)][1]], 3)
    assert old.value.error_dict["seq"][0].code == "stale"
    stored = {
        (aq.attempt_id, aq.position): (aq.chosen, aq.seq) for aq in AttemptQuestion.objects.filter(attempt__in=attempts)
    }
    assert stored[(a0.pk, 1)] == ([orders[(a0.pk, 1)][1]], 9)
    assert stored[(a0.pk, 2)] == ([orders[(a0.pk, 2)][0]], 5)
    assert stored[(attempts[1].pk, 3)] == ([orders[(attempts[1].pk, 3)][0]], 5)
    assert sum(1 for chosen, seq in stored.values() if seq >= 5) == 40


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers (PostgreSQL)")
def test_a_save_whose_batch_failed_after_writing_it_is_acknowledged(round_, register, monkeypatch):
    """A batch can fail after its commit (the connection drops before the answer arrives): the save then takes
    the one-by-one path, which finds it already written and acknowledges it instead of calling it stale."""
    from doanso.contests.models import AttemptQuestion

    attempt = taking.start_attempt(round_, register())
    order = AttemptQuestion.objects.get(attempt=attempt, position=4).option_order
    real_write = taking._save_batcher._work
    written = fail_after_commit(taking._save_batcher, monkeypatch)
    taking.save_answer(attempt.key, 4, [order[2]], 7)
    assert written == [[True]]  # the batch did write it
    monkeypatch.setattr(taking._save_batcher, "_work", real_write)
    with pytest.raises(taking.AttemptRefused):  # the same save again is a replay: stale
        taking.save_answer(attempt.key, 4, [order[2]], 7)
    aq = AttemptQuestion.objects.get(attempt=attempt, position=4)
    assert (aq.chosen, aq.seq) == ([order[2]], 7)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers (PostgreSQL)")
def test_submits_arriving_together_are_recorded_together_each_with_its_own_result(round_, register, monkeypatch):
    """Outside a transaction the submits of the moment share one call of the database function (decision 0015):
    each attempt gets its own grade, the tallies add up, and a key sent twice counts once."""
    attempts = []
    for right in range(8):
        a = taking.start_attempt(round_, register())
        answer_all(a, right=right)
        attempts.append(a)
    keys = [a.key for a in attempts] + [attempts[0].key, attempts[1].key]
    sizes = []
    real_write = taking._submit_batcher._work

    def slow_first_write(batch):
        sizes.append(len(batch))
        if len(sizes) == 1:
            threading.Event().wait(0.5)  # the others queue behind the first batch and go together
        return real_write(batch)

    monkeypatch.setattr(taking._submit_batcher, "_work", slow_first_write)
    results, errors = run_parallel_each(lambda i: (i, taking.submit_attempt(keys[i])), len(keys))
    assert errors == []
    assert sum(sizes) <= len(keys) and max(sizes) > 1, sizes
    got = {i: (a.pk, a.status, a.correct) for i, a in results}
    assert got == {i: (attempts[i % 8].pk, "submitted", i % 8) for i in range(len(keys))}
    stored = Attempt.objects.filter(pk__in=[a.pk for a in attempts])
    assert sorted(stored.values_list("correct", "is_first")) == [(right, True) for right in range(8)]
    tallies = UnitTally.objects.filter(round=round_)
    assert (sum(t.participants for t in tallies), sum(t.attempts for t in tallies)) == (8, 8)
    assert sum(t.participants for t in UnitTally.objects.filter(round=None)) == 8


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers (PostgreSQL)")
def test_a_submit_whose_batch_failed_after_recording_it_gets_the_recorded_result(round_, register, monkeypatch):
    """A batch can fail after its commit (the connection drops before the answer arrives): the submit then takes
    the ORM path, which finds the attempt submitted and returns it; nothing is counted twice."""
    attempt = taking.start_attempt(round_, register())
    answer_all(attempt, right=4)
    written = fail_after_commit(taking._submit_batcher, monkeypatch)
    result = taking.submit_attempt(attempt.key)
    assert [[a.correct for a in batch] for batch in written] == [[4]]  # the batch did record it
    assert (result.status, result.correct) == ("submitted", 4)
    tally = UnitTally.objects.get(round=round_, unit=attempt.unit)
    assert (tally.participants, tally.attempts) == (1, 1)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers (PostgreSQL)")
def test_a_key_in_two_batches_does_not_deadlock_with_a_batch_that_flags_it(round_, register):
    """A submit retried to two web processes puts one key in two batches. Batch X submits it; batch B waits for
    X on that key, and once X commits finds it submitted but keeps it locked until B ends. Meanwhile batch A, which
    bumped the tally row B needs, flags that attempt as an identical sheet: the flag's foreign-key check must not
    wait for B's lock (it did when the batches locked FOR UPDATE, and B waited for A's tally row: a deadlock).
    Found by a review; the timing is forced with connections held open."""
    import datetime
    import time

    from doanso.contests.services.fairplay import IDENTICAL_BULK, identical_template, too_fast_template

    def own():
        conn = connection.get_new_connection(connection.get_connection_params())
        conn.autocommit = True
        return conn

    def call(conn, keys, shard):
        too_fast = taking._sql_format(too_fast_template(), questions="%1$s", seconds="%2$s.%3$s")
        identical = taking._sql_format(identical_template(), count="%1$s", ip="%2$s")
        now = datetime.datetime.now(datetime.UTC)
        return conn.execute(
            "SELECT key FROM contests_submit_attempts(%s, %s, %s, %s, %s, %s)",
            [keys, [now] * len(keys), shard, too_fast, identical, IDENTICAL_BULK],
        ).fetchall()

    round_.topic_quotas = {}
    round_.question_count = 30  # every attempt the same questions
    round_.save()

    def sheet(ip):
        a = taking.start_attempt(round_, register(), ip=ip)
        for aq in a.questions.all():
            taking.save_answer(a.key, aq.position, [min(aq.option_order)], 1)
        return a

    for a in [sheet("203.0.113.9") for _ in range(IDENTICAL_BULK - 2)]:
        taking.submit_attempt(a.key, now=a.started_at + datetime.timedelta(minutes=5))
    k, a, b = sheet("203.0.113.9"), sheet("203.0.113.9"), sheet("198.51.100.1")
    connection.close()
    holder, x, first, second = own(), own(), own(), own()
    try:
        # Only for the timing: an unfinished flag of a makes batch A pause between its tally and its flags.
        holder.autocommit = False
        holder.execute(
            "INSERT INTO contests_attemptflag (attempt_id, kind, detail, status, note, created_at)"
            " VALUES (%s, 'too_fast', '', 'open', '', now())",
            [a.pk],
        )
        x.autocommit = False
        call(x, [k.key], shard=1)  # batch X submits k, not yet committed
        errors = []

        def run(conn, keys):
            try:
                call(conn, keys, shard=0)
            except Exception as exc:
                errors.append(exc)

        batch_a = threading.Thread(target=run, args=(first, [a.key]))
        batch_a.start()
        time.sleep(0.5)  # A holds the tally row (round, B1, shard 0) and waits for the holder
        batch_b = threading.Thread(target=run, args=(second, [k.key, b.key]))
        batch_b.start()
        time.sleep(0.5)  # B waits for X on k
        x.commit()  # B goes on with k locked, then waits for A's tally row
        time.sleep(0.5)
        holder.rollback()  # A flags k (the fifth identical sheet) and commits
        batch_a.join(15)
        batch_b.join(15)
    finally:
        for conn in (holder, x, first, second):
            conn.close()
    assert errors == []
    assert set(Attempt.objects.filter(pk__in=[k.pk, a.pk, b.pk]).values_list("status", flat=True)) == {"submitted"}
    assert AttemptFlag.objects.filter(attempt=k, kind="identical_bulk").exists()
