"""Importing members from XLSX, end to end (issue: item 5 of the member registry).

Targets, measured in the same run on the same PostgreSQL (each side of each comparison measured twice, the faster
run of each compared):
1. 100,000 rows in our layout, end to end (read, check, resolve units and addresses, write, fill the search
   columns, timeline rows, audit) ≤ 3 × (python-calamine parsing the same file + psycopg COPY of the same rows
   into a bare table of text columns).
2. 10,000 rows ≥ 30 × faster than django-import-export's default ``ModelResource`` importing the same people
   from an XLSX with the model's field names as headers.
3. Peak memory of the 100,000-row import under 1 GB (ru_maxrss of a process that does only the import).

Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/doanso_bench .venv/bin/python bench/import_members.py
"""

import datetime
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _setup import checkpoint, postgres_cpu, setup_database, teardown_database

ROWS = 100_000
REPEAT = 2  # runs of the baseline and of the 100,000-row import, the faster of each kept
SMALL = 10_000
BRANCHES = 60
HERE = Path(__file__).resolve().parent

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Alăng"]
MIDDLE = ["Văn", "Thị", "Đức", "Ngọc", "Minh", "Thanh", "Hữu", "Quốc", "Thị Kim", ""]
GIVEN = ["An", "Bình", "Chi", "Dũng", "Hà", "Khánh", "Lan", "Minh", "Nam", "Oanh", "Phúc", "Quân", "Sơn", "Trang"]
PLACES = [
    "Xã Cà Dy, Huyện Nam Giang, Tỉnh Quảng Nam",
    "Phường Hải Châu, Thành phố Đà Nẵng",
    "Thôn 2, Xã Hòa Vang, Thành phố Đà Nẵng",
    "Tỉnh Quảng Nam",
    "Xã Hòa Liên, Huyện Hòa Vang, Thành phố Đà Nẵng",
    "Phường An Hải, Thành phố Đà Nẵng",
]
OCCUPATIONS = ["Sinh viên", "Học sinh", "Công nhân", "Nông dân", "Kinh doanh", ""]


def person(i: int, rnd: random.Random) -> dict:
    female = i % 2 == 1
    dob = datetime.date(1996, 1, 1) + datetime.timedelta(days=rnd.randrange(3650))
    century = 2 if dob.year >= 2000 else 0
    return {
        "family": rnd.choice(FAMILY),
        "middle": "Thị" if female else rnd.choice(MIDDLE[:-2]),
        "given": rnd.choice(GIVEN),
        "dob": dob,
        "female": female,
        "cid": f"048{century + female}{dob.year % 100:02d}{i:06d}",
        "phone": rnd.choice(["090", "091", "093", "094", "097", "098", "086", "035", "077"])
        + f"{rnd.randrange(10**7):07d}",
        "joined": dob.replace(year=dob.year + 16) + datetime.timedelta(days=30),
        "branch": f"B{i % BRANCHES:02d}",
        "hometown": rnd.choice(PLACES),
        "occupation": rnd.choice(OCCUPATIONS),
    }


def write_our_layout(path: Path, count: int, first: int = 0) -> None:
    """An XLSX as the national templates look: a title block, then our headers, then one member a row."""
    from openpyxl import Workbook

    from doanso.members.importing import OUR_LAYOUT

    rnd = random.Random(7)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Danh sách")
    ws.append(["THÀNH ĐOÀN ĐÀ NẴNG"])
    ws.append(["DANH SÁCH ĐOÀN VIÊN"])
    ws.append([])
    ws.append(OUR_LAYOUT)
    for i in range(first, first + count):
        p = person(i, rnd)
        values = {
            "Họ và tên": " ".join(x for x in (p["family"], p["middle"], p["given"]) if x),
            "Họ": p["family"],
            "Tên đệm": p["middle"],
            "Tên": p["given"],
            "Ngày sinh": p["dob"],
            "Giới tính": "Nữ" if p["female"] else "Nam",
            "Dân tộc": "Kinh" if i % 7 else "Cơ Tu",
            "Tôn giáo": "Không",
            "Số CCCD": p["cid"],
            "Số điện thoại": p["phone"],
            "Email": f"dv{i}@example.vn",
            "Quê quán": p["hometown"],
            "Nơi ở hiện nay": "Phường Hải Châu, Thành phố Đà Nẵng",
            "Địa chỉ": f"{i % 300} Lê Lợi",
            "Nghề nghiệp": p["occupation"],
            "Có lương": "x" if p["occupation"] == "Công nhân" else "",
            "Trình độ học vấn": "12/12",
            "Chuyên môn": "Đại học" if i % 3 else "",
            "Lý luận chính trị": "Sơ cấp" if i % 5 == 0 else "",
            "Ngoại ngữ": "Tiếng Anh B1" if i % 4 == 0 else "",
            "Tin học": "Cơ bản",
            "Ngày vào Đoàn": p["joined"].strftime("%d/%m/%Y"),
            "Nơi kết nạp": "Chi đoàn trường THPT Phan Châu Trinh",
            "Số thẻ đoàn viên": f"DV{i:08d}",
            "Ngày vào Đảng": "",
            "Đơn vị (mã)": p["branch"],
            "Đơn vị": "",
            "Ghi chú": "",
        }
        ws.append([values[h] for h in OUR_LAYOUT])
    wb.save(path)


def write_import_export_layout(path: Path, count: int, unit_ids: dict[str, int]) -> None:
    """The same people, with the model's field names as headers: what a default ModelResource expects."""
    from openpyxl import Workbook

    rnd = random.Random(7)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Sheet")
    header = [
        "id",
        "family_name",
        "middle_name",
        "given_name",
        "date_of_birth",
        "sex",
        "ethnicity",
        "citizen_id",
        "phone",
        "email",
        "joined_on",
        "card_number",
        "unit",
        "search_name",
        "search_text",
        "sort_name",
    ]
    ws.append(header)
    for i in range(count):
        p = person(i + 500_000, rnd)
        ws.append(
            [
                "",
                p["family"],
                p["middle"],
                p["given"],
                p["dob"],
                "female" if p["female"] else "male",
                "Kinh",
                p["cid"],
                "+84" + p["phone"][1:],
                f"ie{i}@example.vn",
                p["joined"],
                f"IE{i:08d}",
                unit_ids[p["branch"]],
                "",
                "",
                "",
            ]
        )
    wb.save(path)


def baseline(path: Path, connection) -> float:
    """python-calamine reads the sheet into Python rows; psycopg COPYs them into a bare table of text columns."""
    import python_calamine

    start = time.perf_counter()
    sheet = python_calamine.load_workbook(str(path)).get_sheet_by_index(0)
    rows = sheet.to_python()
    header_at = 3
    width = len(rows[header_at])
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_bare")
        cursor.execute(f"CREATE TABLE bench_bare ({', '.join(f'c{i} text' for i in range(width))})")
        with cursor.cursor.copy(f"COPY bench_bare ({', '.join(f'c{i}' for i in range(width))}) FROM STDIN") as copy:
            for row in rows[header_at + 1 :]:
                copy.write_row([None if v == "" else str(v) for v in row])
    elapsed = time.perf_counter() - start
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bench_bare")
        assert cursor.fetchone()[0] == len(rows) - header_at - 1
        cursor.execute("DROP TABLE bench_bare")
    return elapsed


def run_import(path: Path, unit_code: str) -> dict:
    """The import as the background task runs it, minus the task bookkeeping: read, then check and write."""
    from doanso.members.importing import ImportOptions, paused_gc, read_for_import
    from doanso.members.services.imports import import_member_sheet
    from doanso.org.models import Unit

    unit = Unit.objects.get(code=unit_code)
    start = time.perf_counter()
    options = ImportOptions(unit_id=unit.pk, filename=path.name)
    with paused_gc():
        sheet, _report = read_for_import(path.read_bytes(), options)
        read = time.perf_counter()
        _plan, counts = import_member_sheet(sheet, options, actor=None, unit=unit)
    end = time.perf_counter()
    return {"seconds": end - start, "read_seconds": read - start, "write_seconds": end - read, **counts}


def child(path: str, unit_code: str) -> None:
    """Runs in its own process, so that its peak memory is the import's alone."""
    import resource

    import django

    django.setup()
    from django.db import connection

    connection.ensure_connection()
    usage, server = resource.getrusage(resource.RUSAGE_SELF), postgres_cpu()
    result = run_import(Path(path), unit_code)
    after = resource.getrusage(resource.RUSAGE_SELF)
    result["peak_mb"] = after.ru_maxrss / 1024
    # CPU seconds of this process (Python, all threads) and of PostgreSQL during the import: every postgres
    # process, since the lookups run on a connection of their own that has ended by now.
    result["python_cpu"] = after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime
    result["server_cpu"] = postgres_cpu() - server
    print(json.dumps(result))


def database_floor(connection) -> float:
    """The database's own share of an import: the members and timeline rows the import wrote, read back as COPY
    text and written again into the same tables (all indexes, the trigram GIN, foreign keys checked at the commit).
    No import can write these rows faster; the tables end as they were."""
    from django.db import transaction

    from doanso.members.models import Member, MemberEvent

    tables = [m._meta.db_table for m in (Member, MemberEvent)]
    data = {}
    with connection.cursor() as cursor:
        for table in tables:
            with cursor.cursor.copy(f"COPY {table} TO STDOUT") as copy:
                data[table] = b"".join(bytes(block) for block in copy)
        cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for table in tables:
            with cursor.cursor.copy(f"COPY {table} FROM STDIN") as copy:
                copy.write(data[table])
    return time.perf_counter() - start


def import_export_seconds(path: Path) -> tuple[float, int]:
    import tablib
    from import_export import resources

    from doanso.members.models import Member

    class MemberResource(resources.ModelResource):
        class Meta:
            model = Member

    # Timed from the file, as ours is: reading the XLSX is part of an import.
    start = time.perf_counter()
    with open(path, "rb") as handle:
        dataset = tablib.Dataset().load(handle.read(), format="xlsx")
    result = MemberResource().import_data(dataset, dry_run=False, raise_errors=True)
    elapsed = time.perf_counter() - start
    return elapsed, result.totals["new"]


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
        return
    connection = setup_database()
    old_name = connection.settings_dict["NAME"]
    try:
        if connection.vendor != "postgresql":
            raise SystemExit("This benchmark measures PostgreSQL: set DATABASE_URL=postgres://…")
        from doanso.accounts.models import User
        from doanso.members.models import Member, MemberEvent
        from doanso.org import services
        from doanso.org.models import UnitKind

        admin = User.objects.create_superuser("bench", password="bench-password-1")
        start = datetime.date(2020, 1, 1)
        province = services.create_unit(
            services.UnitData(code="DN", name="Thành đoàn Đà Nẵng", kind=UnitKind.PROVINCE),
            actor=admin,
            parent=None,
            active_from=start,
        )
        commune = services.create_unit(
            services.UnitData(code="HC", name="Đoàn phường Hải Châu", kind=UnitKind.COMMUNE),
            actor=admin,
            parent=province,
            active_from=start,
        )
        unit_ids = {}
        for b in range(BRANCHES):
            unit = services.create_unit(
                services.UnitData(code=f"B{b:02d}", name=f"Chi đoàn tổ {b}", kind=UnitKind.BRANCH),
                actor=admin,
                parent=commune,
                active_from=start,
            )
            unit_ids[unit.code] = unit.pk

        # BENCH_IMPORT_DIR keeps the generated files between runs (writing them takes a minute).
        tmp = Path(os.environ.get("BENCH_IMPORT_DIR") or tempfile.mkdtemp(prefix="bench-import-"))
        tmp.mkdir(parents=True, exist_ok=True)
        big, small, theirs = tmp / "100k.xlsx", tmp / "10k.xlsx", tmp / "10k-import-export.xlsx"
        made = time.perf_counter()
        if not big.exists():
            write_our_layout(big, ROWS)
        if not small.exists():
            write_our_layout(small, SMALL, first=200_000)  # other people than the 100,000
        if not theirs.exists():
            write_import_export_layout(theirs, SMALL, unit_ids)
        print(
            f"files ready in {time.perf_counter() - made:.1f} s ({big.stat().st_size / 1e6:.1f} MB for {ROWS:,} rows)"
        )

        # Each side measured twice, the faster run kept, the baseline and the import in turn: on this shared
        # machine a run is only ever slowed by something else (one slowed run said 3.4x where the others said
        # 3.0x), and the machine's speed drifts within minutes (calamine's parse alone took 2.9 s, then 4.7 s an
        # hour later), so all the baselines first and the imports after compared two different machines.
        # The import runs in a child process on the same test database; the registry emptied between runs.
        env = {**os.environ, "DATABASE_URL": _test_database_url(connection)}
        bases, runs = [], []
        for run in range(REPEAT):
            checkpoint(connection)
            bases.append(baseline(big, connection))
            if run:
                with connection.cursor() as cursor:
                    cursor.execute(f"TRUNCATE {Member._meta.db_table}, {MemberEvent._meta.db_table} CASCADE")
            checkpoint(connection)
            runs.append(_child(big, env))
            assert runs[-1]["created"] == ROWS and runs[-1]["errors"] == 0, runs[-1]
        base = min(bases)
        print(
            f"baseline: calamine parse + COPY into a bare table, {ROWS:,} rows: {base:.2f} s "
            f"(runs: {', '.join(f'{b:.2f}' for b in bases)})"
        )
        result = min(runs, key=lambda r: r["seconds"])
        assert Member.objects.filter(search_text="").count() == 0
        ratio = result["seconds"] / base
        times = ", ".join(f"{r['seconds']:.2f}" for r in runs)
        print(
            f"import, {ROWS:,} rows end to end: {result['seconds']:.2f} s (read {result['read_seconds']:.2f} s, "
            f"check and write {result['write_seconds']:.2f} s; runs: {times}), "
            f"peak memory {max(r['peak_mb'] for r in runs):.0f} MB"
        )
        print(f"ratio import / baseline: {ratio:.2f}x (target ≤ 3)")
        print(
            f"CPU during the import: Python {result['python_cpu']:.2f} s (all threads), PostgreSQL "
            f"{result['server_cpu']:.2f} s (all its processes: the writes, the lookups' connection, the background "
            f"writers), out of {os.cpu_count() * result['seconds']:.2f} s of {os.cpu_count()} cores"
        )
        floor = database_floor(connection)
        print(
            f"the database's own share (the same rows COPYed again into the real tables, commit): {floor:.2f} s = "
            f"{floor / base:.2f}x the baseline"
        )

        second = _child(big, env)
        assert (second["created"], second["updated"], second["unchanged"]) == (0, 0, ROWS), second
        print(f"the same file again: {second['seconds']:.2f} s, {second['unchanged']:,} unchanged, nothing written")

        # A worker that has imported before: the address tables are loaded once per process (~0.8 s, while its
        # first import reads the file), not per import, so a first small import warms them, as
        # django-import-export is warmed by nothing it needs.
        warm = tmp / "warm.xlsx"
        write_our_layout(warm, 5, first=900_000)
        run_import(warm, "HC")
        # Each side twice too, the faster run kept; the members each run adds are removed before the next.
        last = Member.objects.order_by("-id").values_list("id", flat=True).first()
        ours_runs, theirs_runs = [], []
        for _ in range(REPEAT):
            checkpoint(connection)
            ours = run_import(small, "HC")
            assert ours["created"] == SMALL, ours
            ours_runs.append(ours["seconds"])
            _remove_members_after(connection, last)
            checkpoint(connection)
            theirs_seconds, theirs_new = import_export_seconds(theirs)
            assert theirs_new == SMALL
            theirs_runs.append(theirs_seconds)
            _remove_members_after(connection, last)
        speedup = min(theirs_runs) / min(ours_runs)
        print(
            f"{SMALL:,} rows: ours {min(ours_runs):.2f} s, django-import-export {min(theirs_runs):.2f} s: "
            f"{speedup:.1f}x faster (target ≥ 30; runs: ours {', '.join(f'{t:.2f}' for t in ours_runs)}, "
            f"theirs {', '.join(f'{t:.2f}' for t in theirs_runs)})"
        )

        met = ratio <= 3 and speedup >= 30 and max(r["peak_mb"] for r in runs) < 1024
        print(f"targets (≤ 3x baseline, ≥ 30x import-export, < 1 GB): {'MET' if met else 'NOT MET'}")
    finally:
        from django.db import connection as conn

        conn.close()
        teardown_database(conn, old_name)


def _remove_members_after(connection, last_id: int) -> None:
    """Delete the members with an id above ``last_id`` and their timeline, then vacuum, so that the next run
    starts from the same registry."""
    from doanso.members.models import Member, MemberEvent

    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {MemberEvent._meta.db_table} WHERE member_id > %s", [last_id])
        cursor.execute(f"DELETE FROM {Member._meta.db_table} WHERE id > %s", [last_id])
        cursor.execute(f"VACUUM (ANALYZE) {Member._meta.db_table}, {MemberEvent._meta.db_table}")


def _child(path: Path, env: dict) -> dict:
    out = subprocess.run(
        [sys.executable, str(HERE / "import_members.py"), "--child", str(path), "HC"],
        env=env,
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise SystemExit(f"the import failed:\n{out.stderr[-5000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _test_database_url(connection) -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


if __name__ == "__main__":
    main()
