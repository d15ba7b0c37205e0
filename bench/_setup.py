"""Shared start-up for benchmarks: Django on a throw-away test database of whatever DATABASE_URL names."""

import math
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "doanso.settings")
os.environ.setdefault("DEBUG", "1")


def setup_database(keep: bool = False):
    import django

    django.setup()
    from django.db import connection

    # A separate database (test_<name>), created and migrated here and dropped at the end (kept with keep=True,
    # so that a second run can skip loading the data).
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=keep)
    return connection


def teardown_database(connection, old_name=None):
    connection.creation.destroy_test_db(old_name or connection.settings_dict["NAME"], verbosity=0)


def checkpoint(connection) -> None:
    """Write out what earlier steps left dirty before a timed run, so that a checkpoint they made due (by time
    or by the volume of WAL written) does not land in it: on one machine PostgreSQL had made 89 checkpoints on
    request in 90 minutes of benchmarks and tests. Needs a superuser (or pg_checkpoint); without the right the
    runs take their chances."""
    from django.db import DatabaseError

    try:
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError as exc:
        print(f"(no CHECKPOINT before this run: {exc})")


def timed(fn, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def percentile(samples, q: float) -> float:
    """The nearest-rank percentile: the smallest sample with a share ``q`` of the samples at or below it (the 190th
    of 200 for the p95)."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(len(ordered) * q) - 1)]


def summary(samples: list[float]) -> str:
    ms = [s * 1000 for s in samples]
    return f"median {statistics.median(ms):.2f} ms, p95 {percentile(ms, 0.95):.2f} ms, n={len(ms)}"


def _processes() -> dict[int, tuple[str, int, int, int]]:
    """pid → (name, parent pid, CPU ticks of its own, CPU ticks of its children it has reaped), from Linux's /proc
    (elsewhere: empty)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, rest = stat.read_text().split(" (", 1)[1].rsplit(")", 1)
        except OSError:  # the process ended meanwhile
            continue
        fields = rest.split()
        found[int(stat.parent.name)] = (
            name,
            int(fields[1]),
            int(fields[11]) + int(fields[12]),
            int(fields[13]) + int(fields[14]),
        )
    return found


def _group_ticks(processes, members) -> int:
    """CPU ticks of the processes in ``members`` (pids), those that have ended included: a member's reaped
    children are counted when its parent is not a member (the group's root, as the postmaster or a server's
    master process, whose children's ended workers it reaps)."""
    return sum(
        own + (reaped if parent not in members else 0)
        for pid, (_n, parent, own, reaped) in processes.items()
        if pid in members
    )


def postgres_cpu() -> float:
    """CPU seconds of all postgres processes so far, those that have ended included."""
    processes = _processes()
    members = {pid for pid, (name, *_rest) in processes.items() if name == "postgres"}
    return _group_ticks(processes, members) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU time spent between start() and stop() by a server (a process and its workers), by PostgreSQL (every
    postgres process) and by this process, and the machine's idle share, read from Linux's /proc (elsewhere:
    nothing). A ratio of throughputs is a ratio of CPU per request only while the machine is busy: the idle share
    tells whether it was."""

    def __init__(self, server_pid: int):
        self.server_pid = server_pid
        self._start: dict[str, float] | None = None

    def _snapshot(self) -> dict[str, float] | None:
        if not os.path.exists("/proc/stat"):
            return None
        with open("/proc/stat") as f:
            cpu = [int(v) for v in f.readline().split()[1:]]
        processes = _processes()
        server = {pid for pid, (_n, parent, *_t) in processes.items() if self.server_pid in (pid, parent)}
        database = {pid for pid, (name, *_rest) in processes.items() if name == "postgres"}
        tick = os.sysconf("SC_CLK_TCK")
        own = os.times()
        return {
            "total": sum(cpu[:8]),
            "idle": cpu[3] + cpu[4],
            "server": _group_ticks(processes, server) / tick,
            "database": _group_ticks(processes, database) / tick,
            "client": own.user + own.system,
        }

    def start(self) -> None:
        self._start = self._snapshot()

    def stop(self) -> dict[str, float] | None:
        """Seconds of CPU per group over the interval, and "idle": the machine's idle share (0–1)."""
        end = self._snapshot()
        if end is None or self._start is None:
            return None
        used = {k: end[k] - self._start[k] for k in ("server", "database", "client")}
        used["idle"] = (end["idle"] - self._start["idle"]) / max(1, end["total"] - self._start["total"])
        return used
