"""Fair play: rate limits per address and per person, flags for the impossible, and the organisers' review.

Rate limits count in the cache (Redis in production, so every web node shares them): a fixed window per key.
On Redis each process counts in memory and adds its counts to Redis a few times a second (_SharedCounts).
Flags are raised when an attempt is submitted:
- too fast: less than the contest's plausible minimum per question (2 s by default);
- identical in bulk: the same answers, in the same order of questions, from the same address, several times
  within the round (scripted entries rarely vary; people sharing a school's Wi-Fi draw different questions).
"""

import datetime
import functools
import logging
import os
import threading
import time

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from doanso.accounts.scope import can
from doanso.core import audit

from ..models import Attempt, AttemptFlag, FlagKind, FlagStatus, SheetCount
from ..permissions import MANAGE_CONTESTS

logger = logging.getLogger(__name__)

# Requests allowed per window (seconds), by kind of action; settings.CONTEST_RATE_LIMITS overrides.
# An address is not a person: a school takes part together behind one address (a union branch's contest session
# in the hall, 200 students), and mobile carriers put many phones behind one IPv4 address (CGNAT). The limits per
# address only stop floods; scripted entries are caught by the one-person rule, the optional challenge and the
# fair-play flags, and a person's own requests by the limits per attempt.
DEFAULT_LIMITS = {
    "register": (300, 600),  # per address
    "start": (600, 600),  # per address (the attempt cap limits each person)
    "save": (240, 60),  # per attempt: one tap a quarter of a second, sustained
    "save_ip": (10_000, 60),  # per address: 300 people answering at once, with retries
    "submit": (600, 60),  # per address
}
IDENTICAL_BULK = 5  # the same answer sequence from one address this many times raises a flag


class RateLimited(Exception):
    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(_("Too many requests; wait {seconds} seconds and try again.").format(seconds=retry_after))


def limits() -> dict:
    return {**DEFAULT_LIMITS, **getattr(settings, "CONTEST_RATE_LIMITS", {})}


def throttle(*checks: tuple[str, str]) -> None:
    """Count one request for each (kind, who) of ``checks`` (``who`` an address or a person); raise RateLimited
    when any of them is past its limit. On Redis the counts are kept in this process and added to Redis together
    a few times a second (_SharedCounts); elsewhere (tests, the demo) they are counted in the cache."""
    now = int(timezone.now().timestamp())
    counters = []
    for kind, who in checks:
        limit, window = limits()[kind]
        counters.append((f"contests:rl:{kind}:{who}:{now // window}", limit, window))
    client = _redis_client()
    if client is not None:
        # make_key, not make_and_validate_key: our keys are short ASCII, and the check scans every character.
        counts = [_shared_counts.hit(client, cache.make_key(key), window + 5) for key, _limit, window in counters]
    else:
        counts = [_count(key, window) for key, _limit, window in counters]
    # Every counter counts the request, refused or not, before any refuses it.
    for count, (_key, limit, window) in zip(counts, counters, strict=True):
        if count > limit:
            raise RateLimited(window - now % window)


# Add each key's new requests and give the key its expiry when this addition created it; the totals come back.
_ADD_LUA = """
local totals = {}
for i, key in ipairs(KEYS) do
    local added = tonumber(ARGV[2 * i - 1])
    totals[i] = redis.call('INCRBY', key, added)
    if totals[i] == added then redis.call('EXPIRE', key, ARGV[2 * i]) end
end
return totals
"""
FLUSH_SECONDS = 0.1


@functools.cache
def _add_script(client):
    # Registered once per client (kept by the cache, so never confused with another): later calls send EVALSHA
    # with the script's hash, not its text.
    return client.register_script(_ADD_LUA)


class _SharedCounts:
    """Rate-limit counters kept in this process and added to Redis every FLUSH_SECONDS by a thread of its own.

    A request is counted in memory, without a round trip (waiting for Redis was a third of an answer save's time
    under load). It is judged by the total Redis gave at the last flush, which holds every process's requests
    until then, plus this process's requests since. Other processes' newest requests arrive within a flush, so a
    limit can be passed by what they let through in that tenth of a second: the limits stop floods, and the
    one-person rule, not these counts, stops a person from entering twice.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()  # one flush at a time (the thread's, or a test's)
        self._pid: int | None = None
        self._generation = 0
        self._clear()

    def reset(self) -> None:
        """Forget every count (tests); a flush under way when this runs keeps nothing."""
        with self._lock:
            self._clear()

    def _clear(self) -> None:
        self._generation += 1
        # key -> [requests not yet in Redis, expiry in seconds, client, when the key's counting began]
        self._pending: dict[str, list] = {}
        self._flushing: dict[str, list] = {}  # the same, while a flush sends them
        self._totals: dict[str, tuple[int, float]] = {}  # key -> (Redis's total at the last flush, forget after)

    def hit(self, client, key: str, expiry: int) -> int:
        """Count one request for ``key``; the count to judge it by."""
        with self._lock:
            if self._pid != os.getpid():
                self._start()
            entry = self._pending.get(key)
            if entry is None:
                entry = self._pending[key] = [0, expiry, client, time.monotonic()]
            entry[0] += 1
            count = entry[0]
            if (sending := self._flushing.get(key)) is not None:
                count += sending[0]
            if (total := self._totals.get(key)) is not None:
                count += total[0]
            return count

    def _start(self) -> None:
        # First use in this process (gunicorn forks its workers after loading the code: a thread of the parent
        # would not exist here).
        self._pid = os.getpid()
        self._clear()
        threading.Thread(target=self._loop, name="rate-limit-counts", daemon=True).start()

    def _loop(self) -> None:
        failing = False
        while True:
            time.sleep(FLUSH_SECONDS)
            try:
                self.flush()
            except Exception:  # Redis away: the counts wait in memory, and limits still apply in this process
                if not failing:  # once, not ten times a second
                    logger.warning("rate limits: could not add the counts to Redis", exc_info=True)
                failing = True
            else:
                if failing:
                    logger.warning("rate limits: the counts reach Redis again")
                failing = False

    def flush(self) -> None:
        """Add the counts of this process to Redis and take back the totals."""
        with self._flush_lock:
            self._flush()

    def _flush(self) -> None:
        with self._lock:
            self._flushing, self._pending = self._pending, {}
            sending, generation = self._flushing, self._generation
        totals: dict[str, int] = {}
        try:
            by_client: dict[int, tuple] = {}
            for key, (added, expiry, client, _began) in sending.items():
                _client, keys, args = by_client.setdefault(id(client), (client, [], []))
                keys.append(key)
                args += [added, expiry]
            for client, keys, args in by_client.values():
                totals.update(zip(keys, _add_script(client)(keys=keys, args=args), strict=True))
        except Exception:
            now = time.monotonic()
            with self._lock:  # keep them for the next flush, unless their window has passed meanwhile
                if generation != self._generation:
                    raise
                for key, (added, expiry, client, began) in sending.items():
                    if began + expiry > now:
                        self._pending.setdefault(key, [0, expiry, client, began])[0] += added
                self._flushing = {}
            raise
        now = time.monotonic()
        with self._lock:
            if generation != self._generation:
                return
            for key, total in totals.items():
                self._totals[key] = (total, now + sending[key][1])
            self._flushing = {}
            for key in [key for key, (_total, until) in self._totals.items() if until < now]:
                del self._totals[key]


_shared_counts = _SharedCounts()


def _redis_client():
    """The raw Redis client under django-redis, or None for another cache (tests and the demo use memory)."""
    get_client = getattr(getattr(cache, "client", None), "get_client", None)
    return get_client(write=True) if get_client is not None else None


def _count(key: str, window: int) -> int:
    if cache.add(key, 1, window + 5):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, window + 5)
        return 1


def _flag(attempt: Attempt, kind: str, detail: str) -> None:
    try:
        with transaction.atomic():
            AttemptFlag.objects.create(attempt=attempt, kind=kind, detail=detail[:255])
    except IntegrityError:
        pass  # already flagged for this


# The flags' texts are stored for the organisers: in the site's language, whichever language the contestant
# whose submit raised them uses (submits are graded in batches of several contestants').
def too_fast_template() -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return _("{questions} questions in {seconds} s")


def identical_template() -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return _("{count} identical attempts from {ip}")


def check_attempt(attempt: Attempt) -> None:
    """Called inside the submit's transaction (the database function of taking._fast_submit does the same)."""
    minimum = attempt.round.contest.min_seconds_per_question * attempt.question_total * 1000
    if attempt.duration_ms is not None and attempt.duration_ms < minimum and attempt.question_total:
        # Seconds with one decimal, cut rather than rounded (the SQL version does the same with integers).
        seconds = f"{attempt.duration_ms // 1000}.{attempt.duration_ms % 1000 // 100}"
        _flag(attempt, FlagKind.TOO_FAST, too_fast_template().format(questions=attempt.question_total, seconds=seconds))
    if attempt.ip and attempt.fingerprint:
        # The sheet's count, locked until the submit commits (as the database function's upsert locks it).
        sheet, created = SheetCount.objects.select_for_update().get_or_create(
            round_id=attempt.round_id,
            ip=attempt.ip,
            fingerprint=attempt.fingerprint,
            defaults={"count": 1, "first_ids": [attempt.pk]},
        )
        earlier = [pk for pk in sheet.first_ids if pk != attempt.pk]
        if not created:
            sheet.count += 1
            if len(sheet.first_ids) < IDENTICAL_BULK - 1:
                sheet.first_ids.append(attempt.pk)
            sheet.save(update_fields=["count", "first_ids"])
        if sheet.count >= IDENTICAL_BULK:
            detail = identical_template().format(count=sheet.count, ip=attempt.ip)
            # The one that reaches the threshold brings the earlier ones with it (those that still exist); each
            # later one is flagged alone.
            flagged = [attempt.pk]
            if sheet.count == IDENTICAL_BULK:
                flagged += Attempt.objects.filter(pk__in=earlier).order_by("pk").values_list("pk", flat=True)
            for pk in flagged:
                _flag(Attempt(pk=pk), FlagKind.IDENTICAL_BULK, detail)


@transaction.atomic
def review_flag(flag: AttemptFlag, *, actor, decision: str, note: str = "") -> AttemptFlag:
    """Clear a flag, or disqualify the attempt (it leaves the ranking at the next ranking run)."""
    flag = AttemptFlag.objects.select_for_update().select_related("attempt__round__contest__organiser").get(pk=flag.pk)
    organiser = flag.attempt.round.contest.organiser
    if not can(actor, MANAGE_CONTESTS, organiser):
        raise PermissionDenied
    if decision not in (FlagStatus.CLEARED, FlagStatus.DISQUALIFIED):
        raise ValidationError({"decision": _("Choose to clear the attempt or to disqualify it.")})
    if decision == FlagStatus.DISQUALIFIED and not note.strip():
        raise ValidationError({"note": _("Give the reason for disqualifying the attempt.")})
    before = {"status": flag.status, "disqualified": flag.attempt.disqualified}
    flag.status, flag.note, flag.reviewed_by, flag.reviewed_at = decision, note.strip(), actor, timezone.now()
    flag.save(update_fields=["status", "note", "reviewed_by", "reviewed_at"])
    attempt = flag.attempt
    if decision == FlagStatus.DISQUALIFIED and not attempt.disqualified:
        attempt.disqualified = True
        attempt.save(update_fields=["disqualified"])
    elif (
        decision == FlagStatus.CLEARED
        and attempt.disqualified
        and not attempt.flags.filter(status=FlagStatus.DISQUALIFIED).exists()
    ):
        attempt.disqualified = False
        attempt.save(update_fields=["disqualified"])
    audit.record(
        actor=actor,
        action="contests.review_flag",
        obj=flag,
        object_repr=str(attempt),
        unit=organiser,
        before=before,
        after={"status": decision, "disqualified": attempt.disqualified, "note": flag.note},
    )
    return flag


def challenge_pair(seed: str) -> tuple[int, int]:
    """The numbers of the registration challenge for a form (the answer is checked against the same seed)."""
    digest = int.from_bytes(datetime.date.today().isoformat().encode() + seed.encode(), "big")
    return 2 + digest % 7, 3 + (digest // 7) % 6
