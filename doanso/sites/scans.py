"""Counting QR scans per site and day, without anything about the visitor (no IP, no cookie, no user agent).

The page reached by a scan must cost no database write, or the busiest hour at a site would queue on the
database's write lock. Each process adds scans up in memory and writes them in one transaction at most every
``FLUSH_SECONDS`` (or every ``FLUSH_SCANS`` scans, and at exit): a crash loses at most that many seconds of counts,
which a statistic can afford. docs/decisions/0006-scan-counting.md explains the choice.
"""

import atexit
import logging
import threading
import time
from collections import Counter

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

logger = logging.getLogger(__name__)

FLUSH_SECONDS = 30.0
FLUSH_SCANS = 500

_lock = threading.Lock()
_pending: Counter = Counter()
_last_flush = time.monotonic()


_day: tuple[float, object] = (0.0, None)  # (when the current local day ends, as time.time(); the day)


def _today():
    """The local date, recomputed only when the day is over: the scan path runs on every QR request."""
    global _day
    now = time.time()
    ends, day = _day
    if now >= ends:
        local = timezone.localtime()
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        day = local.date()
        _day = (midnight.timestamp() + 86400, day)
    return day


def count_scan(site_id: int) -> None:
    key = (site_id, _today())
    with _lock:
        _pending[key] += 1
        due = _pending.total() >= FLUSH_SCANS or time.monotonic() - _last_flush >= FLUSH_SECONDS
    if due:
        flush()


def pending() -> int:
    with _lock:
        return _pending.total()


def flush() -> int:
    """Write the scans counted so far; returns how many. Safe to call from any thread at any time."""
    global _last_flush
    from .models import ScanCount

    with _lock:
        items = list(_pending.items())
        _pending.clear()
        _last_flush = time.monotonic()
    if not items:
        return 0
    from .models import Site

    try:
        with transaction.atomic():
            # Scans of a site deleted in the meantime are dropped rather than failing the whole batch.
            existing = set(
                Site.objects.filter(pk__in={site for (site, _day), _n in items}).values_list("pk", flat=True)
            )
            for (site_id, day), n in sorted(items):
                if site_id not in existing:
                    continue
                if ScanCount.objects.filter(site_id=site_id, day=day).update(count=F("count") + n):
                    continue
                try:
                    with transaction.atomic():
                        ScanCount.objects.create(site_id=site_id, day=day, count=n)
                except IntegrityError:
                    # Another process created the row in between, or the site no longer exists.
                    ScanCount.objects.filter(site_id=site_id, day=day).update(count=F("count") + n)
    except Exception:
        logger.exception("could not write %d QR scan counts; they are kept for the next attempt", len(items))
        with _lock:
            _pending.update(dict(items))
        return 0
    return sum(n for _key, n in items)


def _flush_at_exit() -> None:
    try:
        flush()
    except Exception:  # at interpreter exit the database may already be gone
        logger.warning("QR scan counts lost at exit", exc_info=True)


def discard() -> None:
    """Forget the counts not yet written (tests, whose database rolls back under the buffer)."""
    with _lock:
        _pending.clear()


if not getattr(settings, "TESTING", False):
    atexit.register(_flush_at_exit)
