"""Moving a commune union with 40 descendant units in a tree of 10,000 units (issue: ≤ 100 ms on PostgreSQL,
0 member rows written).

Baseline, measured in the same run on the same database: renaming one unit through the same service layer
(`update_unit`: one locked row read, one UPDATE, a history row and an audit row). The ratio says how much
more a subtree move costs than the smallest audited write. Member rows written are counted from PostgreSQL's
per-transaction statistics (pg_stat_xact_user_tables), so an UPDATE of members would show up whatever code did it.

Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/doanso_bench .venv/bin/python bench/move_subtree.py
"""

import datetime
import random

import _tree
from _setup import setup_database, summary, teardown_database, timed

UNITS = 10_000
MEMBERS = 100_000
REPEAT = 30


def build_tree(admin):
    """The 10,000-unit tree of bench/_tree.py, and 100,000 members in its groups."""
    from django.db import connection

    from doanso.members.models import Member, Sex

    communes, leaves = _tree.build_tree(UNITS)
    rnd = random.Random(1)
    Member.objects.bulk_create(
        [
            Member(
                family_name="Nguyễn",
                middle_name="Văn",
                given_name=f"A{i}",
                date_of_birth=datetime.date(2000, 1, 1),
                sex=Sex.MALE,
                unit_id=rnd.choice(leaves),
                search_name=f"a{i} van nguyen",
                is_sample=True,
            )
            for i in range(MEMBERS)
        ],
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return communes


def table_writes(cursor, table):
    cursor.execute("SELECT n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables WHERE relname = %s", [table])
    row = cursor.fetchone()
    return row[0] if row else 0


def main():
    connection = setup_database()
    old_name = connection.settings_dict["NAME"]
    try:
        if connection.vendor != "postgresql":
            raise SystemExit("This benchmark measures PostgreSQL: set DATABASE_URL=postgres://…")
        from django.db import transaction

        from doanso.accounts.models import User
        from doanso.org import services
        from doanso.org.models import Unit

        admin = User.objects.create_superuser("bench", password="bench-password-1")
        communes = build_tree(admin)
        assert Unit.objects.count() == UNITS
        moving = Unit.objects.get(pk=communes[0].pk)
        descendants = Unit.objects.filter(path__startswith=moving.path).count() - 1
        targets = [Unit.objects.get(pk=communes[1].pk), Unit.objects.get(pk=communes[2].pk)]
        effective = datetime.date.today()
        member_writes = []

        def move_once(i=[0]):  # noqa: B006 — a counter across calls
            target = targets[i[0] % 2]
            i[0] += 1
            with transaction.atomic(), connection.cursor() as cursor:
                services.move_unit(moving, actor=admin, new_parent=target, effective=effective)
                member_writes.append(table_writes(cursor, "members_member"))

        def rename_once(i=[0]):  # noqa: B006
            i[0] += 1
            services.update_unit(targets[1], actor=admin, effective=effective, name=f"Đoàn xã đổi tên {i[0]}")

        move_once(), rename_once()  # warm up caches and connections
        moves = timed(move_once, REPEAT)
        renames = timed(rename_once, REPEAT)
        import statistics

        ratio = statistics.median(moves) / statistics.median(renames)
        moved = Unit.objects.get(pk=moving.pk)
        assert Unit.objects.filter(path__startswith=moved.path).count() - 1 == descendants
        print(f"tree: {UNITS} units, {MEMBERS} members; moving unit has {descendants} descendants")
        print(f"move_unit (subtree of {descendants + 1}): {summary(moves)}")
        print(f"baseline update_unit (one unit): {summary(renames)}")
        print(f"ratio move/baseline (median): {ratio:.2f}x")
        print(f"member rows written by {len(member_writes)} moves: {sum(member_writes)}")
        worst = max(moves) * 1000
        target_ok = statistics.median(moves) * 1000 <= 100 and sum(member_writes) == 0
        print(f"target (median ≤ 100 ms, 0 member rows): {'MET' if target_ok else 'NOT MET'} (worst {worst:.1f} ms)")
    finally:
        from django.db import connection as conn

        teardown_database(conn, old_name)


if __name__ == "__main__":
    main()
