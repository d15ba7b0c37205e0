"""Fair play: rate limits per address and per person, flags for the impossible, and the organisers' review.

Rate limits count in the cache (Redis in production, so every web node shares them): a fixed window per key.
On Redis the counts of the requests that arrive together move in one command (core.batching): exact counts, one
round trip for many requests.
Flags are raised when an attempt is submitted:
- too fast: less than the contest's plausible minimum per question (2 s by default);
- identical in bulk: the same answers, in the same order of questions, from the same address, several times
  within the round (scripted entries rarely vary; people sharing a school's Wi-Fi draw different questions).
"""

import datetime
import functools

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from doanso.accounts.scope import can
from doanso.core import audit
from doanso.core.batching import Batcher, BatchFailed

from ..models import Attempt, AttemptFlag, FlagKind, FlagStatus
from ..permissions import MANAGE_CONTESTS

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
    when any of them is past its limit. On Redis all the counters move in one command (a Lua script), together
    with those of the other requests of the moment: an answer save checks two, and counting them with add and
    incr took a third of its time."""
    now = int(timezone.now().timestamp())
    counters = []
    for kind, who in checks:
        limit, window = limits()[kind]
        counters.append((f"contests:rl:{kind}:{who}:{now // window}", limit, window))
    client = _redis_client()
    if client is not None:
        # make_key, not make_and_validate_key: these keys are ours (ASCII, short); the check scans every character.
        keys = [cache.make_key(key) for key, _limit, _window in counters]
        expiries = [window + 5 for _key, _limit, window in counters]
        try:
            counts = _count_batcher.run((client, keys, expiries))
        except BatchFailed:
            counts = _count_script(client)(keys=keys, args=expiries)
    else:
        counts = [_count(key, window) for key, _limit, window in counters]
    for count, (_key, limit, window) in zip(counts, counters, strict=True):
        if count > limit:
            raise RateLimited(window - now % window)


# Every counter of a request in one command: INCR each key, and give it its expiry when the INCR created it.
_COUNT_LUA = """
local counts = {}
for i, key in ipairs(KEYS) do
    counts[i] = redis.call('INCR', key)
    if counts[i] == 1 then redis.call('EXPIRE', key, ARGV[i]) end
end
return counts
"""


@functools.cache
def _count_script(client):
    # Registered once per client (kept by the cache, so never confused with another): later calls send EVALSHA
    # with the script's hash, not its text.
    return client.register_script(_COUNT_LUA)


def _count_together(requests) -> list[list[int]]:
    """The counts of several requests' counters (client, keys, expiries), one script call per Redis client."""
    by_client: dict = {}
    for client, keys, expiries in requests:
        merged = by_client.setdefault(id(client), (client, [], []))
        merged[1].extend(keys)
        merged[2].extend(expiries)
    counts = {
        key: _count_script(client)(keys=keys, args=expiries) for key, (client, keys, expiries) in by_client.items()
    }
    results, taken = [], dict.fromkeys(by_client, 0)
    for client, keys, _expiries in requests:
        start = taken[id(client)]
        results.append(counts[id(client)][start : start + len(keys)])
        taken[id(client)] = start + len(keys)
    return results


_count_batcher = Batcher("rate-limits", _count_together)


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


def too_fast_template() -> str:
    return _("{questions} questions in {seconds} s")


def identical_template() -> str:
    return _("{count} identical attempts from {ip}")


def check_attempt(attempt: Attempt) -> None:
    """Called inside the submit's transaction (the database function of taking._fast_submit does the same)."""
    minimum = attempt.round.contest.min_seconds_per_question * attempt.question_total * 1000
    if attempt.duration_ms is not None and attempt.duration_ms < minimum and attempt.question_total:
        # Seconds with one decimal, cut rather than rounded (the SQL version does the same with integers).
        seconds = f"{attempt.duration_ms // 1000}.{attempt.duration_ms % 1000 // 100}"
        _flag(attempt, FlagKind.TOO_FAST, too_fast_template().format(questions=attempt.question_total, seconds=seconds))
    if attempt.ip and attempt.fingerprint:
        same = Attempt.objects.filter(
            round_id=attempt.round_id, ip=attempt.ip, fingerprint=attempt.fingerprint, status="submitted"
        )
        count = same.count()
        if count >= IDENTICAL_BULK:
            detail = identical_template().format(count=count, ip=attempt.ip)
            for other in same.exclude(flags__kind=FlagKind.IDENTICAL_BULK).only("id")[:100]:
                _flag(other, FlagKind.IDENTICAL_BULK, detail)


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
