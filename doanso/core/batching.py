"""Work of concurrent requests done together: the items that request threads of this process hand in while a
batch is running wait, and the next batch runs all of them at once (one statement and one commit, say); each
request gets its own result.

Why: at a contest round's peak the answer saves are the busiest requests, and one save alone is a round trip and
a commit whose cost (the protocol, the planning, the commit's WAL record) is many times that of the row it
writes. Batched, those costs are shared by every save in the batch (decision 0014).

No thread of its own ("flat combining"): the request that finds no batch running runs one itself, with whatever
is queued; requests that arrive meanwhile queue and sleep, and when the batch ends the first of them is woken to
run the next. Under light load every request runs its own item at once, without waking another thread (a
hand-over to a worker thread and back cost more CPU than the batching saved at two or three items a batch).

A batch that fails (a lost connection, a deadlock) fails for each of its items: the caller then takes its
ordinary, one-by-one path, so nothing is lost and nothing is acknowledged that was not written.
"""

import logging
import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

logger = logging.getLogger(__name__)


class BatchFailed(Exception):
    """The batch holding this item failed, or was not done in time; the caller takes its one-by-one path."""


_batchers: list["Batcher"] = []


def close_all() -> None:
    """Run every batcher's reset() in this process (tests: close connections before the database is dropped)."""
    for batcher in _batchers:
        batcher.close()


class _Slot:
    __slots__ = ("done", "error", "finished", "item", "leads", "result")

    def __init__(self, item):
        self.item = item
        self.done = threading.Event()  # set when the result is in, or when this slot's request is to lead
        self.leads = False
        self.finished = False  # a batch has run it
        self.result = None
        self.error: BaseException | None = None


class Batcher:
    """Runs ``work(items) -> results`` (one result per item, in order) on the items handed in together;
    ``reset()`` runs after a failed batch (to drop a connection that may be broken) and on close().
    Batches of one batcher never overlap, so ``work`` may keep one connection."""

    def __init__(
        self,
        name: str,
        work: Callable[[Sequence[Any]], Sequence[Any]],
        *,
        reset: Callable[[], None] | None = None,
        max_items: int = 500,
        timeout: float = 30.0,
    ):
        self.name = name
        self._work = work
        self._reset = reset
        self._max_items = max_items
        self._timeout = timeout
        self._lock = threading.Lock()
        self._queue: list[_Slot] = []
        self._running = False
        self._pid = os.getpid()
        _batchers.append(self)

    def run(self, item) -> Any:
        """The result of ``item`` once its batch is done; BatchFailed if the batch failed or took too long."""
        slot = _Slot(item)
        with self._lock:
            if self._pid != os.getpid():  # a forked worker: the parent's queue and batch are not ours
                self._pid, self._queue, self._running = os.getpid(), [], False
            self._queue.append(slot)
            slot.leads = not self._running
            self._running = True
        if not slot.leads:
            woken = slot.done.wait(self._timeout)
            with self._lock:
                # Promotion to lead happens under this lock (leads and done together), so a request that gives up
                # at that very moment sees it and leads instead of leaving the queue without a leader.
                if not woken and not slot.done.is_set():
                    if slot in self._queue:
                        self._queue.remove(slot)  # never run
                    # else a batch is running it: the caller's own path finds it written or not
                    raise BatchFailed(f"{self.name}: no result within {self._timeout} s")
        if slot.leads:
            self._lead(slot)
        if slot.error is not None:
            raise BatchFailed(f"{self.name}: {slot.error}") from slot.error
        return slot.result

    def _lead(self, own: _Slot) -> None:
        """Run batches until ``own`` is done, then wake the first of those who queued meanwhile to lead; whatever
        happens (even an exception that is not an Exception), the queue is left with a leader or none running."""
        try:
            while not own.finished:
                with self._lock:
                    batch, self._queue = self._queue[: self._max_items], self._queue[self._max_items :]
                self._run_batch(batch, own)
        finally:
            with self._lock:
                if self._queue:
                    successor = self._queue[0]
                    successor.leads = True
                    successor.done.set()
                else:
                    self._running = False

    def _run_batch(self, batch: list[_Slot], own: _Slot) -> None:
        try:
            results = self._work([slot.item for slot in batch])
            for slot, result in zip(batch, results, strict=True):
                slot.result = result
        except BaseException as exc:  # every item learns of it and takes its own path
            logger.warning("%s: a batch of %d failed: %r", self.name, len(batch), exc)
            for slot in batch:
                slot.error = exc
            if self._reset is not None:
                try:
                    self._reset()
                except Exception:
                    logger.exception("%s: reset failed", self.name)
            if not isinstance(exc, Exception):
                raise  # (after the others are woken, below)
        finally:
            for slot in batch:
                slot.finished = True
                if slot is not own:
                    slot.done.set()

    def close(self) -> None:
        """Run reset() now, between batches (tests, before their database is dropped)."""
        if self._reset is None:
            return
        with self._lock:
            if self._running:
                return  # a batch is under way in another thread; its connection stays
            self._reset()
