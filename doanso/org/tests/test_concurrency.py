"""Structural writes are serialised: two cadres acting at the same moment cannot build a cycle.

Runs real threads with their own database connections, so it needs PostgreSQL (SQLite in-memory test
databases are one connection); CI runs the suite on both.
"""

import threading

import pytest
from django.db import close_old_connections, connection

from doanso.org import services
from doanso.org.models import Unit

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections (PostgreSQL)"),
]


def run_together(*jobs):
    barrier = threading.Barrier(len(jobs))
    outcomes = [None] * len(jobs)

    def runner(i, job):
        try:
            barrier.wait()
            job()
            outcomes[i] = "ok"
        except Exception as exc:  # the test inspects what each side got
            outcomes[i] = exc
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return outcomes


def test_crossing_moves_cannot_make_a_cycle(world):
    # C1 under C2 and C2 under C1 at the same time: exactly one may win.
    outcomes = run_together(
        lambda: services.move_unit(
            Unit.objects.get(pk=world.C1.pk), actor=world.admin, new_parent=Unit.objects.get(pk=world.C2.pk)
        ),
        lambda: services.move_unit(
            Unit.objects.get(pk=world.C2.pk), actor=world.admin, new_parent=Unit.objects.get(pk=world.C1.pk)
        ),
    )
    # The loser gets the ordinary Vietnamese validation message, not a deadlock or a database error.
    assert sorted(type(o).__name__ for o in outcomes) == ["ValidationError", "str"]
    c1, c2 = Unit.objects.get(pk=world.C1.pk), Unit.objects.get(pk=world.C2.pk)
    assert (c1.parent_id == c2.pk) != (c2.parent_id == c1.pk)
    # Every path still matches the parent chain.
    for unit in Unit.objects.all():
        expected = f"{unit.parent.path if unit.parent else '/'}{unit.pk}/"
        assert unit.path == expected


def test_double_submitted_merge_happens_once(world):
    def merge():
        services.merge_units(
            [Unit.objects.get(pk=world.C1.pk)], actor=world.admin, into=Unit.objects.get(pk=world.C2.pk)
        )

    outcomes = run_together(merge, merge)
    assert sorted(type(o).__name__ for o in outcomes) == ["ValidationError", "str"]
    assert Unit.objects.get(pk=world.C1.pk).versions.filter(change="merged").count() == 1


def test_moves_in_overlapping_subtrees_keep_paths_consistent(world):
    # One cadre moves C1 (with B1) under C2 while another moves B3 under B1: both may succeed, in some order,
    # but every materialised path must still match the parent chain afterwards.
    for _round in range(5):
        c1, c2, b1, b3 = (Unit.objects.get(pk=u.pk) for u in (world.C1, world.C2, world.B1, world.B3))
        target_c1 = c2 if c1.parent_id != c2.pk else world.P
        target_b3 = b1 if b3.parent_id != b1.pk else c2
        run_together(
            lambda c1=c1, to=target_c1: services.move_unit(c1, actor=world.admin, new_parent=to),
            lambda b3=b3, to=target_b3: services.move_unit(b3, actor=world.admin, new_parent=to),
        )
        for unit in Unit.objects.select_related("parent"):
            assert unit.path == f"{unit.parent.path if unit.parent else '/'}{unit.pk}/", unit.code
