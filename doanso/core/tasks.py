"""Background work with a progress bar that people can watch.

A module defines its work as a ``django.tasks`` task decorated with :func:`tracked`, and starts it with
:func:`start_task`, which creates the :class:`TaskRun` row that the task page polls. The task reports with
the :class:`Progress` it receives. The queue is whatever ``TASKS`` configures: the database by default,
Redis (RQ) when ``REDIS_URL`` is set, inline in tests.
"""

import csv
import functools
import io
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import TaskRun

logger = logging.getLogger(__name__)


def start_task(task, *, kind: str, title: str, owner, unit=None, **kwargs) -> TaskRun:
    """Record a TaskRun and enqueue ``task`` once the current transaction commits. The task runs in the language
    active now (the request's), so that its files and messages read as the page that started it."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    run = TaskRun.objects.create(kind=kind, title=title, owner=owner, unit=unit, language=language)
    transaction.on_commit(lambda: task.enqueue(run_id=str(run.pk), **kwargs))
    return run


class Progress:
    """Progress of one TaskRun. Writes at most about twice a second, so a tight loop stays fast."""

    min_interval = 0.5

    def __init__(self, run: TaskRun):
        self.run = run
        self._last_write = 0.0
        self._side: Any = None  # PostgreSQL: a connection of its own, see _save

    def start(self, total: int, message: str = "") -> None:
        self.run.total = total
        self.run.message = message
        self._save(force=True)

    def advance(self, done: int | None = None, step: int = 1, message: str | None = None) -> None:
        self.run.done = done if done is not None else self.run.done + step
        if message is not None:
            self.run.message = message
        self._save()

    def _save(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last_write >= self.min_interval:
            values = {"done": self.run.done, "total": self.run.total, "message": self.run.message[:500]}
            # Inside a long transaction (an import writes everything in one) the row would only change for others
            # at the commit: the progress goes through a connection of its own, committed at once. A row that
            # connection cannot see (created in this very transaction, as in tests) is updated here instead.
            aside = connection.vendor == "postgresql" and connection.in_atomic_block and self._save_aside(values)
            if not aside:
                TaskRun.objects.filter(pk=self.run.pk).update(**values)
            self._last_write = now

    def _save_aside(self, values: dict) -> bool:
        """Update the row through a connection of its own; False when that connection does not see the row."""
        if self._side is None:
            self._side = connection.get_new_connection(connection.get_connection_params())
            self._side.autocommit = True
            with self._side.cursor() as cursor:
                # Never wait for this transaction's own lock on the row: it would wait for ever.
                cursor.execute("SET lock_timeout = '2s'")
        table = connection.ops.quote_name(TaskRun._meta.db_table)
        assignments = ", ".join(f"{connection.ops.quote_name(k)} = %s" for k in values)
        try:
            with self._side.cursor() as cursor:
                cursor.execute(f"UPDATE {table} SET {assignments} WHERE id = %s", [*values.values(), self.run.pk])  # noqa: S608
                return cursor.rowcount == 1
        except Exception:
            logger.warning("progress of task %s not written", self.run.pk, exc_info=True)
            return True  # only the bar lags; the import goes on

    def close(self) -> None:
        if self._side is not None:
            self._side.close()
            self._side = None

    def attach_result(self, filename: str, content: bytes) -> None:
        self.run.result_file.save(filename, ContentFile(content), save=False)

    def attach_errors(self, errors: Iterable[dict], filename: str = "loi.csv") -> int:
        """Save an error report: one CSV row per problem (row, column, value, message)."""
        rows = list(errors)
        if rows:
            self.run.error_report.save(filename, ContentFile(error_report_csv(rows)), save=False)
        self.run.error_count = len(rows)
        return len(rows)


def error_report_csv(rows: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_("Row"), _("Column"), _("Value"), _("Message")])
    for row in rows:
        writer.writerow([row.get("row", ""), row.get("column", ""), row.get("value", ""), row.get("message", "")])
    # The byte-order mark makes Excel read the file as UTF-8, so Vietnamese shows correctly.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def tracked(func: Callable) -> Callable:
    """Wrap a task function ``func(progress, **kwargs) -> dict`` with the TaskRun life cycle."""

    @functools.wraps(func)
    def wrapper(*, run_id: str, **kwargs):
        run = TaskRun.objects.get(pk=run_id)
        with translation.override(run.language):
            return _run(func, run, kwargs)

    return wrapper


def _run(func: Callable, run: TaskRun, kwargs: dict) -> dict:
    """The TaskRun life cycle around ``func``: running, then finished with its result, or failed."""
    run.status = TaskRun.Status.RUNNING
    run.started_at = timezone.now()
    run.save(update_fields=["status", "started_at"])
    progress = Progress(run)
    try:
        result = func(progress, **kwargs) or {}
    except Exception as exc:
        progress.close()
        logger.exception("task %s failed", run.pk)
        run.refresh_from_db(fields=["done", "total"])
        run.status = TaskRun.Status.FAILED
        run.message = _("The task stopped because of an unexpected error: {error}").format(error=exc.__class__.__name__)
        run.finished_at = timezone.now()
        run.save()
        raise
    progress.close()
    run.status = TaskRun.Status.SUCCEEDED
    run.result = result
    run.done = max(run.done, run.total)
    run.finished_at = timezone.now()
    run.save()
    return result


def queue_health() -> str:
    from django.tasks import task_backends

    backend = task_backends["default"]
    name = type(backend).__name__
    try:
        if name == "DatabaseBackend":
            from django_tasks_db.models import DBTaskResult

            waiting = DBTaskResult.objects.filter(status="READY").count()
            return f"ok ({waiting} waiting)"
        if name == "RQBackend":
            import django_rq

            django_rq.get_connection("default").ping()
            return "ok (redis)"
        return f"ok ({name})"
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"
