"""Search and counts over 1,000,000 members in a 10,000-unit tree (PostgreSQL).

1. Substring search ignoring diacritics, as the member list runs it (matching rows counted, first page of 50
   sorted by given name): p95 ≤ 50 ms, and ≥ 20× faster than the same search as a per-row `unaccent` scan
   (the baseline, measured in the same run on the same rows).
2. Member counts for every unit's whole subtree: ≤ 1.5× a plain `GROUP BY unit_id` (the baseline).

Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/doanso_bench .venv/bin/python bench/member_search.py
Options: --members N (default 1,000,000).
"""

import argparse
import datetime
import random
import statistics
import time

import _tree
from _setup import percentile, setup_database, summary, teardown_database, timed

COLUMNS = (
    "kind",
    "family_name",
    "middle_name",
    "given_name",
    "other_names",
    "date_of_birth",
    "sex",
    "ethnicity",
    "religion",
    "citizen_id",
    "phone",
    "email",
    "hometown_address",
    "residence_address",
    "occupation",
    "is_salaried",
    "schooling",
    "qualification",
    "political_theory",
    "foreign_language",
    "it_skill",
    "admitted_at",
    "notes",
    "unit_id",
    "status",
    "is_sample",
    "search_name",
    "sort_name",
    "search_text",
    "search_ids",
    "created_at",
    "updated_at",
    "photo",
)


def generate(n: int, leaves: list[int]):
    """Rows of plausible sample members (names from the demo's frequency tables), deterministic."""
    from doanso.core.text import fold, vn_sort_key
    from doanso.org import demo

    rnd = random.Random(7)
    families, family_w = demo.KINH_FAMILY
    male_mid, male_mid_w = demo.MALE_MIDDLE
    female_mid, female_mid_w = demo.FEMALE_MIDDLE
    now = datetime.datetime.now(datetime.UTC)
    provinces = [48, 49, 1, 79, 46, 51]
    for i in range(n):
        female = rnd.random() < 0.5
        family = rnd.choices(families, family_w)[0]
        middle = rnd.choices(female_mid, female_mid_w)[0] if female else rnd.choices(male_mid, male_mid_w)[0]
        middle = "" if middle == "-" else middle
        given = rnd.choice(demo.FEMALE_GIVEN if female else demo.MALE_GIVEN)
        year = rnd.randint(1995, 2010)
        dob = datetime.date(year, rnd.randint(1, 12), rnd.randint(1, 28))
        digit = (2 if year >= 2000 else 0) + (1 if female else 0)
        cid = f"{rnd.choice(provinces):03d}{digit}{year % 100:02d}{i:06d}"
        phone = f"+849{rnd.randint(10000000, 99999999)}"
        search_name = fold(f"{given} {middle} {family}")
        sort_name = "000".join(vn_sort_key(p) for p in (given, middle, family))
        search_text = " " + fold(f"{family} {middle} {given}")
        search_ids = f" {cid} 0{phone[3:]}"
        yield (
            "doan",
            family,
            middle,
            given,
            "",
            dob,
            "female" if female else "male",
            "Kinh",
            "",
            cid,
            phone,
            "",
            "",
            "",
            "",
            False,
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            rnd.choice(leaves),
            "active",
            True,
            search_name,
            sort_name,
            search_text,
            search_ids,
            now,
            now,
            "",
        )


def load_members(n: int, leaves: list[int]) -> float:
    from django.db import connection

    start = time.perf_counter()
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg 3 cursor: COPY is the fast bulk path
        with raw.copy(f"COPY members_member ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in generate(n, leaves):
                copy.write_row(row)
        # VACUUM, not only ANALYZE: it also moves the rows waiting in the GIN indexes' pending lists into the
        # indexes (autovacuum does it on a running server; a manual ANALYZE does not), which every search
        # would otherwise read in full.
        cursor.execute("VACUUM ANALYZE members_member")
    return time.perf_counter() - start


def queries(n_queries: int) -> list[str]:
    """What people type: names without accents (given, family + given, a fragment), ID and phone fragments."""
    from doanso.core.text import fold
    from doanso.members.models import Member

    rnd = random.Random(11)
    # The same members on every run over the same rows (ORDER BY random() drew other queries each time, and the
    # p95 moved with them).
    ids = rnd.sample(list(Member.objects.order_by("id").values_list("id", flat=True)), n_queries)
    by_id = Member.objects.in_bulk(ids)
    sample = [(m.family_name, m.middle_name, m.given_name, m.citizen_id, m.phone) for m in map(by_id.get, ids)]
    out = []
    for family, middle, given, cid, phone in sample:
        kind = rnd.randrange(5)
        if kind == 0:
            out.append(fold(f"{family} {middle} {given}"))
        elif kind == 1:
            out.append(fold(f"{given} {family}"))
        elif kind == 2:
            out.append(fold(f"{middle} {given}"))
        elif kind == 3:
            out.append(cid[:9])
        else:
            out.append("0" + phone[3:10])
    return out


def our_search(user, q: str):
    from doanso.members import selectors

    # Exactly what the member list does: a capped count and the first page, sorted by given name.
    page = selectors.SearchPaginator(selectors.search(user, q=q), 50, text_query=True).get_page(1)
    return page.paginator.count, [m.pk for m in page]


def unaccent_search(q: str):
    """The baseline: a per-row scan that strips accents with unaccent() on every row for every search."""
    from django.db import connection

    where, params = [], []
    for word in q.split():
        where.append(
            "unaccent(lower(family_name || ' ' || middle_name || ' ' || given_name || ' ' || coalesce(citizen_id, '')"
            " || ' 0' || substr(phone, 4))) LIKE %s"
        )
        params.append(f"%{word}%")
    sql_where = " AND ".join(where)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM members_member WHERE status = 'active' AND {sql_where}", params)
        count = cursor.fetchone()[0]
        cursor.execute(
            f"SELECT id FROM members_member WHERE status = 'active' AND {sql_where} ORDER BY sort_name, id LIMIT 50",
            params,
        )
        return count, [r[0] for r in cursor.fetchall()]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the database and reuse it on the next run")
    parser.add_argument("--show-slow", action="store_true", help="print the slowest searches")
    args = parser.parse_args()
    connection = setup_database(keep=args.keep)
    old_name = connection.settings_dict["NAME"]
    try:
        if connection.vendor != "postgresql":
            raise SystemExit("This benchmark measures PostgreSQL: set DATABASE_URL=postgres://…")
        from django.db.models import Count

        from doanso.accounts.models import User
        from doanso.members.models import Member
        from doanso.members.selectors import subtree_counts

        with connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
        from doanso.org.models import Unit

        if not Member.objects.exists():
            _tree.build_tree(10_000)
            leaves = list(Unit.objects.filter(depth=3).values_list("id", flat=True))
            loaded = load_members(args.members, leaves)
            print(f"loaded {args.members:,} members into a 10,000-unit tree in {loaded:.1f} s")
        _communes = list(Unit.objects.filter(kind="commune").order_by("id"))
        leaves = list(Unit.objects.filter(depth=3).order_by("id").values_list("id", flat=True))
        admin = User.objects.filter(username="bench").first() or User.objects.create_superuser(
            "bench", password="bench-password-1"
        )
        qs = queries(args.queries)
        # Same answers from both, on a few queries (the baseline also matches ID and phone digits).
        for q in qs[:5]:
            assert our_search(admin, q)[0] == min(unaccent_search(q)[0], 10_000), q
        for q in qs[:10]:
            our_search(admin, q)  # warm caches, as a running server has them
        ours_iter, base_iter = iter(qs), iter(qs)
        ours = timed(lambda: our_search(admin, next(ours_iter)), len(qs))
        if args.show_slow:
            for seconds, q in sorted(zip(ours, qs, strict=True), reverse=True)[:10]:
                print(f"  {seconds * 1000:7.1f} ms  {q!r}  ({our_search(admin, q)[0]} matches)")
        base_qs = qs[: max(10, len(qs) // 10)]  # the scan is slow: a tenth of the queries is enough
        base = timed(lambda: unaccent_search(next(base_iter)), len(base_qs))
        p95 = percentile(ours, 0.95) * 1000  # as summary() prints it
        speedup = statistics.median(base) / statistics.median(ours)
        print(f"search (count + first page of 50): {summary(ours)}")
        print(f"baseline per-row unaccent scan: {summary(base)}")
        print(f"ratio baseline/ours (median): {speedup:.1f}x faster")
        print(f"target search (p95 ≤ 50 ms, ≥ 20x faster): {'MET' if p95 <= 50 and speedup >= 20 else 'NOT MET'}")

        def plain():
            return dict(
                Member.objects.filter(status="active").values_list("unit_id").annotate(n=Count("id")).order_by()
            )

        counts = subtree_counts()
        assert counts[_communes[0].pk] == sum(plain().get(leaf, 0) for leaf in leaves[:32])
        plain(), subtree_counts()
        base_counts = timed(plain, 7)
        our_counts = timed(subtree_counts, 7)
        ratio = statistics.median(our_counts) / statistics.median(base_counts)
        print(f"counts for every unit's subtree: {summary(our_counts)}")
        print(f"baseline GROUP BY unit_id: {summary(base_counts)}")
        print(f"ratio ours/baseline (median): {ratio:.2f}x")
        print(f"target counts (≤ 1.5x): {'MET' if ratio <= 1.5 else 'NOT MET'}")
    finally:
        from django.db import connection as conn

        if not args.keep:
            teardown_database(conn, old_name)


if __name__ == "__main__":
    main()
