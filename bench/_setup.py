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
