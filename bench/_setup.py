"""Shared start-up for benchmarks: Django on a throw-away test database of whatever DATABASE_URL names."""

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


def summary(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    return f"median {statistics.median(ms):.2f} ms, p95 {p95:.2f} ms, n={len(ms)}"


class CpuMeter:
    """CPU time spent between start() and stop() by groups of processes, and the machine's idle share, read
    from Linux's /proc (elsewhere: nothing). The groups are a process and its children (a server's workers),
    the processes of a name ("postgres"), and this process. A ratio of throughputs is a ratio of CPU per
    request only while the machine is busy: the idle share tells whether it was."""

    def __init__(self, server_pid: int | None = None, names: tuple[str, ...] = ("postgres",)):
        self.server_pid = server_pid
        self.names = names
        self.ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    @staticmethod
    def _stat(pid) -> tuple[str, int, float] | None:
        """(name, parent pid, user+system seconds) of one process, or None if it is gone."""
        try:
            with open(f"/proc/{pid}/stat") as f:
                text = f.read()
        except OSError:
            return None
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        return name, int(fields[1]), int(fields[11]) + int(fields[12])

    def _snapshot(self) -> dict[str, float] | None:
        if not os.path.exists("/proc/stat"):
            return None
        with open("/proc/stat") as f:
            cpu = [int(v) for v in f.readline().split()[1:]]
        groups = {"server": 0, "database": 0}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            stat = self._stat(entry)
            if stat is None:
                continue
            name, parent, ticks = stat
            if self.server_pid is not None and self.server_pid in (int(entry), parent):
                groups["server"] += ticks
            elif name in self.names:
                groups["database"] += ticks
        own = os.times()
        return {
            "total": sum(cpu[:8]),
            "idle": cpu[3] + cpu[4],
            "server": groups["server"] / self.ticks,
            "database": groups["database"] / self.ticks,
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
