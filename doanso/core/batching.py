"""Work of concurrent requests done together: a thread of this process takes every item handed in while it was
busy and runs them as one batch (one statement and one commit, one round trip to Redis), then wakes each request
with its own result.

Why: at a contest round's peak the answer saves are the busiest requests, and one save alone is a round trip and
a commit whose cost (the protocol, the commit's WAL record, the request thread's share of both) is many times
that of the row it writes. Batched, those costs are shared by every save in the batch; under light load a batch
holds one item and the cost is a thread hand-over (decision 0014).

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


_CLOSE = object()  # an item that asks the worker to run reset() (see Batcher.close)
_batchers: list["Batcher"] = []


def close_all() -> None:
    """Close every batcher's connection in this process (tests, before their database is dropped)."""
    for batcher in _batchers:
        batcher.close()


class _Slot:
    __slots__ = ("done", "error", "item", "result")

    def __init__(self, item):
        self.item = item
        self.done = threading.Event()
        self.result = None
        self.error: BaseException | None = None


class Batcher:
    """Hands items from request threads to one worker thread that runs ``work(items) -> results`` (one result
    per item, in order) on everything queued; ``reset()`` runs after a failed batch (to drop a connection that
    may be broken).

    The worker starts on first use in each process: a thread started before gunicorn forks its workers would
    not exist in them.
    """

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
        self._ready = threading.Condition()
        self._queue: list[_Slot] = []
        self._pid: int | None = None
        _batchers.append(self)

    def run(self, item) -> Any:
        """The result of ``item`` once its batch is done; BatchFailed if the batch failed or took too long."""
        slot = _Slot(item)
        with self._ready:
            if self._pid != os.getpid():
                self._start()
            self._queue.append(slot)
            self._ready.notify()
        if not slot.done.wait(self._timeout):
            # Late: the batch may still write it. The caller's own path then finds it written (or refuses it as
            # not newer), never the reverse: a result is only reported from a batch that committed.
            raise BatchFailed(f"{self.name}: no result within {self._timeout} s")
        if slot.error is not None:
            raise BatchFailed(f"{self.name}: {slot.error}") from slot.error
        return slot.result

    def close(self) -> None:
        """Have the worker run reset() between two batches; nothing to do if it never started here."""
        if self._pid != os.getpid() or self._reset is None:
            return
        slot = _Slot(_CLOSE)
        with self._ready:
            self._queue.append(slot)
            self._ready.notify()
        slot.done.wait(self._timeout)

    def _start(self) -> None:
        self._pid = os.getpid()
        self._queue = []  # items of the parent process are not ours to run
        threading.Thread(target=self._loop, name=f"batch-{self.name}", daemon=True).start()

    def _loop(self) -> None:
        while True:
            with self._ready:
                while not self._queue:
                    self._ready.wait()
                batch, self._queue = self._queue[: self._max_items], self._queue[self._max_items :]
            closing = [slot for slot in batch if slot.item is _CLOSE]
            if closing:
                batch = [slot for slot in batch if slot.item is not _CLOSE]
            try:
                results = self._work([slot.item for slot in batch]) if batch else []
                for slot, result in zip(batch, results, strict=True):
                    slot.result = result
            except Exception as exc:  # every item learns of it and takes its own path
                logger.warning("%s: a batch of %d failed: %r", self.name, len(batch), exc)
                for slot in batch:
                    slot.error = exc
                if self._reset is not None:
                    try:
                        self._reset()
                    except Exception:
                        logger.exception("%s: reset failed", self.name)
            if closing and self._reset is not None:
                self._reset()
            for slot in batch + closing:
                slot.done.set()
