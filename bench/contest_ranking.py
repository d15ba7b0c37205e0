"""The official ranking and participation by unit over 1,000,000 attempts (PostgreSQL).

1. Ranking a round of 1,000,000 submitted attempts by 700,000 people (each person's best attempt, the four keys
   of the official rule, ties shared, prizes assigned): ≤ 10 s. Timed twice: the ranking statement alone
   (``rank_round_sql``) and the whole ``rank_round`` service an organiser runs (expired attempts, true figure,
   ranking, prizes, audit). The overall ranking that publication adds is timed too.
2. Participation by unit (participants, attempts, rate, quota for the province and each commune, added up a
   10,000-unit tree): ≤ 1.5× a plain ``GROUP BY unit_id`` over the round's attempts (the baseline). Timed from
   the tallies that submits maintain (what the pages read) and recounted from the attempts (the repair path).

Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/doanso_bench .venv/bin/python bench/contest_ranking.py
Options: --attempts N (default 1,000,000), --keep.
"""

import argparse
import datetime
import statistics
import time

import _tree
from _setup import setup_database, summary, teardown_database, timed


def load(n_attempts: int, leaves: list[int]):
    from django.db import connection
    from django.utils import timezone

    from doanso.accounts.models import User
    from doanso.contests.models import Contest, Round
    from doanso.contests.services import setup
    from doanso.org.models import Unit

    admin = User.objects.filter(username="bench").first() or User.objects.create_superuser(
        "bench", password="bench-password-1"
    )
    root = Unit.objects.get(code="ROOT")
    contest = Contest.objects.first() or setup.create_contest(
        actor=admin, organiser=root, title="Cuộc thi đo tốc độ", audience="public", is_published=True
    )
    now = timezone.now()
    round_ = Round.objects.filter(contest=contest).first() or setup.create_round(
        contest,
        actor=admin,
        opens_at=now - datetime.timedelta(days=8),
        closes_at=now - datetime.timedelta(days=1),
        question_count=20,
        prediction_kind="participants",
        prediction_text="Bao nhiêu người?",
        prizes={"first": 1, "second": 2, "third": 3, "consolation": 50},
        attempt_cap=3,
    )
    people = int(n_attempts * 0.7)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.31)")
        cursor.execute(
            """
            INSERT INTO contests_participant (contest_id, full_name, search_name, date_of_birth, phone, citizen_id,
                unit_id, occupation, created_at)
            SELECT %s, 'Người dự thi ' || i, 'nguoi du thi ' || i, DATE '1995-01-01' + (i %% 5000),
                   '+849' || lpad(i::text, 8, '0'), NULL, (%s::int[])[1 + i %% %s], '', now()
            FROM generate_series(1, %s) AS i
            """,
            [contest.pk, leaves, len(leaves), people],
        )
        # Everyone's first attempt, then a second one for the first 3/7 of them: n_attempts in all.
        for number, share in ((1, people), (2, n_attempts - people)):
            cursor.execute(
                """
                INSERT INTO contests_attempt (round_id, participant_id, unit_id, number, key, status, started_at,
                    deadline, submitted_at, question_total, correct, prediction, prediction_seq, duration_ms,
                    is_first, disqualified, fingerprint)
                SELECT %s, p.id, p.unit_id, %s, md5(p.id::text || '-' || %s), 'submitted', s.t,
                       s.t + interval '10 minutes', s.t + s.d * interval '1 millisecond', 20,
                       (random() * 20)::int, CASE WHEN random() < 0.9 THEN (random() * 1500000)::int END, 1,
                       s.d, %s, false, ''
                FROM (SELECT id, unit_id FROM contests_participant WHERE contest_id = %s ORDER BY id LIMIT %s) p,
                LATERAL (SELECT %s::timestamptz + random() * interval '6 days' AS t,
                                (30000 + random() * 570000)::int AS d, p.id AS pid) s
                """,
                [round_.pk, number, number, number == 1, contest.pk, share, now - datetime.timedelta(days=8)],
            )
        # The tallies that the submits would have maintained (one row per unit), and the contest-wide rows.
        cursor.execute(
            """
            INSERT INTO contests_unittally (contest_id, round_id, unit_id, shard, participants, attempts)
            SELECT %s, %s, unit_id, 0, COUNT(*) FILTER (WHERE is_first), COUNT(*)
            FROM contests_attempt WHERE round_id = %s GROUP BY unit_id
            """,
            [contest.pk, round_.pk, round_.pk],
        )
        cursor.execute(
            """
            INSERT INTO contests_unittally (contest_id, round_id, unit_id, shard, participants, attempts)
            SELECT %s, NULL, unit_id, 0, COUNT(*) FILTER (WHERE is_first), 0
            FROM contests_attempt WHERE round_id = %s GROUP BY unit_id
            """,
            [contest.pk, round_.pk],
        )
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


def check_order(round_):
    """The first 5,000 positions are in the order of the rule, with ranks shared exactly by ties."""
    from doanso.contests.models import RoundResult

    rows = list(
        RoundResult.objects.filter(round=round_, position__lte=5000)
        .order_by("position")
        .values_list("rank", "position", "correct", "distance", "duration_ms", "submitted_at")
    )
    big = 10**18
    keys = [(-c, d if d is not None else big, t, s) for _r, _p, c, d, t, s in rows]
    assert keys == sorted(keys), "ranking out of order"
    for i, (rank, position, *_rest) in enumerate(rows):
        assert rank == (position if i == 0 or keys[i] != keys[i - 1] else rows[i - 1][0])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--attempts", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    connection = setup_database(keep=args.keep)
    old_name = connection.settings_dict["NAME"]
    try:
        if connection.vendor != "postgresql":
            raise SystemExit("This benchmark measures PostgreSQL: set DATABASE_URL=postgres://…")
        from django.db.models import Count

        from doanso.accounts.models import User
        from doanso.contests import selectors
        from doanso.contests.models import Attempt, Contest, Round, RoundResult
        from doanso.contests.services import results
        from doanso.org.models import Unit

        if not Attempt.objects.exists():
            _tree.build_tree(10_000)
            leaves = list(Unit.objects.filter(depth=3).order_by("id").values_list("id", flat=True))
            seconds = load(args.attempts, leaves)
            print(f"loaded {args.attempts:,} attempts in a 10,000-unit tree in {seconds:.1f} s")
        contest, round_ = Contest.objects.get(), Round.objects.get()
        admin = User.objects.get(username="bench")
        n = Attempt.objects.filter(round=round_).count()

        round_.prediction_value = results.true_figure(round_)
        sql_times = timed(lambda: results.rank_round_sql(round_), 2)
        check_order(round_)
        ranked = round_.prediction_value  # the true figure of a "participants" question: people ranked
        stored = RoundResult.objects.filter(round=round_).count()
        service_times = timed(lambda: results.rank_round(round_, actor=admin), 2)
        check_order(round_)
        Round.objects.filter(pk=round_.pk).update(results_published=True)
        overall = timed(lambda: results.rank_overall_sql(contest), 1)
        worst = max(service_times)
        print(f"ranking statement ({n:,} attempts → {ranked:,} people, first {stored:,} stored): {summary(sql_times)}")
        print(f"rank_round service (expired attempts, true figure, ranking, prizes, audit): {summary(service_times)}")
        print(f"overall ranking at publication: {summary(overall)}")
        print(f"target ranking (≤ 10 s, slowest run {worst:.2f} s): {'MET' if worst <= 10 else 'NOT MET'}")

        root = Unit.objects.get(code="ROOT")

        def plain():
            return dict(
                Attempt.objects.filter(round=round_, status="submitted")
                .values_list("unit_id")
                .annotate(n=Count("id"))
                .order_by()
            )

        def live():
            return selectors.participation(contest, root, round_)

        def recounted():
            direct = selectors.recount(contest, round_)
            paths = dict(Unit.objects.values_list("id", "path"))
            return selectors._roll_up(direct, paths)

        rows = live()
        assert rows[0].attempts == n and rows[0].participants == ranked, (rows[0], n, ranked)
        assert recounted()[root.pk] == [ranked, n]
        plain(), live(), recounted()
        base = timed(plain, 7)
        ours = timed(live, 7)
        again = timed(recounted, 5)
        ratio = statistics.median(ours) / statistics.median(base)
        ratio_recount = statistics.median(again) / statistics.median(base)
        print(f"baseline GROUP BY unit_id over the round's attempts: {summary(base)}")
        print(f"participation page (tallies added up the tree, {len(rows)} rows): {summary(ours)}")
        print(f"recount from the attempts + roll-up: {summary(again)}")
        print(f"ratio page/baseline (median): {ratio:.2f}x; recount/baseline: {ratio_recount:.2f}x")
        print(f"target participation (≤ 1.5x): {'MET' if ratio <= 1.5 else 'NOT MET'}")
    finally:
        from django.db import connection as conn

        if not args.keep:
            teardown_database(conn, old_name)


if __name__ == "__main__":
    main()
