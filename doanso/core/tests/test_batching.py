"""core.batching: items handed in while a batch runs go together into the next one, each gets its own result, and
a failed batch fails each of its items (which then take their own path)."""

import threading

import pytest

from doanso.core.batching import Batcher, BatchFailed


def run_in_threads(batcher, items):
    results, errors = {}, {}

    def one(item):
        try:
            results[item] = batcher.run(item)
        except BatchFailed as exc:
            errors[item] = exc

    threads = [threading.Thread(target=one, args=(item,)) for item in items]
    for t in threads:
        t.start()
    return threads, results, errors


def test_items_that_arrive_during_a_batch_run_together_in_the_next():
    first_running, release, batches = threading.Event(), threading.Event(), []

    def work(items):
        batches.append(list(items))
        if len(batches) == 1:
            first_running.set()
            release.wait(10)
        return [item * 10 for item in items]

    batcher = Batcher("test", work)
    first, results, errors = run_in_threads(batcher, [1])
    assert first_running.wait(10)
    rest, more_results, _ = run_in_threads(batcher, [2, 3, 4, 5, 6])
    while len(batcher._queue) < 5:  # all five queued behind the running batch
        threading.Event().wait(0.01)
    release.set()
    for t in first + rest:
        t.join(10)
    assert batches[0] == [1]
    assert sorted(batches[1]) == [2, 3, 4, 5, 6] and len(batches) == 2
    assert {**results, **more_results} == {1: 10, 2: 20, 3: 30, 4: 40, 5: 50, 6: 60}
    assert errors == {}


def test_a_failed_batch_fails_each_of_its_items_and_the_next_batch_runs():
    resets = []

    def work(items):
        if "bad" in items:
            raise RuntimeError("connection lost")
        return [item.upper() for item in items]

    batcher = Batcher("test", work, reset=lambda: resets.append(1))
    with pytest.raises(BatchFailed, match="connection lost"):
        batcher.run("bad")
    assert resets == [1]
    assert batcher.run("good") == "GOOD"


def test_a_request_alone_runs_its_own_item_in_its_own_thread():
    threads_seen = []
    batcher = Batcher("test", lambda items: threads_seen.append(threading.current_thread()) or list(items))
    assert batcher.run("x") == "x"
    assert threads_seen == [threading.current_thread()]


def test_close_runs_reset_between_batches_only():
    resets, running, release = [], threading.Event(), threading.Event()

    def work(items):
        running.set()
        release.wait(10)
        return list(items)

    batcher = Batcher("test", work, reset=lambda: resets.append(1))
    batcher.close()  # idle: reset now
    assert resets == [1]
    threads, results, _errors = run_in_threads(batcher, ["a"])
    assert running.wait(10)
    batcher.close()  # a batch is using the connection: left alone
    assert resets == [1]
    release.set()
    threads[0].join(10)
    assert results == {"a": "a"}


def test_a_request_that_waits_too_long_takes_its_own_path_and_the_queue_goes_on():
    running, release = threading.Event(), threading.Event()

    def work(items):
        if "slow" in items:
            running.set()
            release.wait(10)
        return [item.upper() for item in items]

    batcher = Batcher("test", work, timeout=0.2)
    first, results, _ = run_in_threads(batcher, ["slow"])
    assert running.wait(10)
    with pytest.raises(BatchFailed, match="no result within"):
        batcher.run("late")  # queued behind the slow batch, gives up, leaves the queue
    assert batcher._queue == []
    release.set()
    first[0].join(10)
    assert results == {"slow": "SLOW"}
    assert batcher.run("next") == "NEXT"  # nobody is left leading a batch that will not come


def test_an_exception_that_is_not_an_error_still_leaves_the_queue_a_leader():
    """KeyboardInterrupt and the like go up through the request that led the batch; the requests queued behind
    it still get a leader, and later ones are not left waiting for a batch that never comes."""

    class Abort(BaseException):
        pass

    running, release = threading.Event(), threading.Event()

    def work(items):
        if "abort" in items:
            running.set()
            release.wait(10)
            raise Abort
        return [item.upper() for item in items]

    batcher = Batcher("test", work, timeout=5)
    raised = []

    def lead():
        try:
            batcher.run("abort")
        except Abort:
            raised.append("abort")

    leader = threading.Thread(target=lead)
    leader.start()
    assert running.wait(10)
    queued, results, errors = run_in_threads(batcher, ["b"])
    while len(batcher._queue) < 1:
        threading.Event().wait(0.01)
    release.set()
    leader.join(10)
    queued[0].join(10)
    assert raised == ["abort"] and results == {"b": "B"} and errors == {}
    assert batcher.run("c") == "C"
