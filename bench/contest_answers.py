"""Contestants' hot path under load: gunicorn (the production server, gthread workers) on PostgreSQL.

1. Saving an answer and submitting an attempt (the API the phones use) against a trivial Django view served the
   same way: throughput ≥ 0.5× the trivial view's, p99 ≤ 2× its p99. Closed-loop clients on keep-alive
   connections, measured for the same duration each.
2. A 10-second burst at 10× the rate of single-row INSERTs (measured first on the same database from one
   connection): every request saves a different question; afterwards the answers stored must equal the answers
   acknowledged (an acknowledged save is never lost; a refused or timed-out one is not counted as stored
   unless the database has it).

Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/doanso_bench .venv/bin/python bench/contest_answers.py
Options: --seconds S (default 6 per run), --rounds R (default 3: the trivial view, the save and the submit measured
in turn R times, each path's runs pooled), --clients N (default 16), --workers W, --threads T.
"""

import argparse
import datetime
import http.client
import json
import os
import queue
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _setup import CpuMeter, checkpoint, percentile, setup_database, teardown_database

PORT = int(os.environ.get("BENCH_PORT", 8201))
HERE = Path(__file__).resolve().parent


def prepare(n_attempts: int):
    """A published contest with a 40-question bank, an open round of 20 questions, and ``n_attempts`` started
    attempts (through the services, as phones would)."""
    from django.utils import timezone

    from doanso.accounts.models import User
    from doanso.contests.models import AttemptQuestion
    from doanso.contests.services import setup, taking
    from doanso.org.models import UnitKind
    from doanso.org.services import UnitData, create_unit

    admin = User.objects.create_superuser("bench", password="bench-password-1")
    root = create_unit(
        UnitData(code="ROOT", name="Thành đoàn", kind=UnitKind.PROVINCE),
        actor=admin,
        parent=None,
        active_from=datetime.date(2020, 1, 1),
    )
    branches = [
        create_unit(
            UnitData(code=f"B{i}", name=f"Chi đoàn {i}", kind=UnitKind.BRANCH),
            actor=admin,
            parent=root,
            active_from=datetime.date(2020, 1, 1),
        )
        for i in range(20)
    ]
    contest = setup.create_contest(actor=admin, organiser=root, title="Đo tải", audience="public", is_published=True)
    for i in range(40):
        setup.create_question(
            contest,
            actor=admin,
            text=f"Câu {i}?",
            options=["A", "B", "C", "D"],
            correct=[i % 4],
            topic="Chung",
            audit_it=False,
        )
    now = timezone.now()
    round_ = setup.create_round(
        contest,
        actor=admin,
        opens_at=now - datetime.timedelta(hours=1),
        closes_at=now + datetime.timedelta(days=1),
        question_count=20,
        prediction_kind="none",
        time_limit=4 * 3600,
    )
    keys = []
    for i in range(n_attempts):
        p = taking.register_participant(
            contest,
            full_name=f"Người Thử {i}",
            date_of_birth=datetime.date(2000, 1, 1),
            phone=f"0905{i:06d}",
            unit=branches[i % 20],
        )
        # Every attempt has its phone's address, as on the site: a thousand addresses, six attempts each (phones
        # behind a carrier's shared address, a school's network), so the identical-sheet rule runs for every submit.
        keys.append(taking.start_attempt(round_, p, ip=f"100.64.{i % 1000 // 250}.{i % 250 + 1}").key)
    options = {}
    for key, position, order in AttemptQuestion.objects.filter(attempt__round=round_).values_list(
        "attempt__key", "position", "option_order"
    ):
        options[(key, position)] = order
    return keys, options


def start_server(db_name: str, workers: int, threads: int):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "_contest_settings",
        "PYTHONPATH": f"{HERE}:{HERE.parent}",
        "DEBUG": "0",
        "SECRET_KEY": "bench-secret-key-not-for-production-0123456789abcdef",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + db_name,
        "CONN_MAX_AGE": "600",
    }
    cmd = [
        str(HERE.parent / ".venv/bin/gunicorn"),
        "doanso.wsgi:application",
        "--bind",
        f"127.0.0.1:{PORT}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--keep-alive",
        "30",
        "--log-level",
        "warning",
        "--timeout",
        "120",
    ]
    # stderr to a file, not a pipe nobody reads: the log lines of refused requests (409, 429) would fill the
    # pipe's buffer during a long run and block the server.
    log = tempfile.TemporaryFile()  # noqa: SIM115 — open as long as the server runs
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=log)
    for _ in range(100):
        try:
            c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
            c.request("GET", "/bench/trivial")
            if c.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    log.seek(0)
    raise SystemExit("gunicorn did not start: " + log.read().decode()[-2000:])


def run_load(make_request, seconds: float, clients: int, meter: CpuMeter | None = None):
    """Closed loop: each client sends its next request when the previous answer arrives, until ``seconds`` have
    passed or ``make_request`` returns None. Returns (requests per second, latencies in ms, status counts, CPU
    used: CpuMeter.stop() or None)."""
    latencies, statuses = [], {}
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def client(i):
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
        mine, codes = [], {}
        n = 0
        while time.perf_counter() < stop:
            request = make_request(i, n)
            if request is None:
                break
            method, path, body = request
            n += 1
            t = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
                r = conn.getresponse()
                r.read()
                code = r.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
                code = "error"
            mine.append((time.perf_counter() - t) * 1000)
            codes[code] = codes.get(code, 0) + 1
        with lock:
            latencies.extend(mine)
            for k, v in codes.items():
                statuses[k] = statuses.get(k, 0) + v

    if meter is not None:
        meter.start()
    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, latencies, statuses, meter.stop() if meter is not None else None


def pooled(results):
    """Runs of one path as one measurement: all their requests over all their time, latencies, statuses and CPU
    (the idle share weighted by each run's time)."""
    latencies = [ms for _rate, run, _statuses, _cpu in results for ms in run]
    seconds = [len(run) / rate if run else 0.0 for rate, run, _statuses, _cpu in results]
    statuses = {}
    for _rate, _run, codes, _cpu in results:
        for code, n in codes.items():
            statuses[code] = statuses.get(code, 0) + n
    cpus = [cpu for _rate, _run, _statuses, cpu in results]
    cpu = None
    if None not in cpus:
        cpu = {k: sum(c[k] for c in cpus) for k in ("server", "database", "client")}
        cpu["idle"] = sum(c["idle"] * s for c, s in zip(cpus, seconds, strict=True)) / sum(seconds)
    return len(latencies) / sum(seconds), latencies, statuses, cpu


def reopen_attempts(keys):
    """Put the submitted attempts of ``keys`` back in progress, as they were before their submit (their flags and
    their sheets' counts gone, their participants not yet submitted; the unit tallies keep counting), for the next
    round of submits."""
    from django.db import connection

    from doanso.contests.models import Attempt, AttemptFlag, Participant, SheetCount

    attempts = Attempt.objects.filter(key__in=keys)
    AttemptFlag.objects.filter(attempt__in=attempts).delete()
    SheetCount.objects.filter(round_id__in=attempts.values("round_id")).delete()
    Participant.objects.filter(attempts__in=attempts).update(first_submitted_at=None)
    attempts.update(
        status="in_progress", submitted_at=None, correct=None, duration_ms=None, is_first=False, fingerprint=""
    )
    with connection.cursor() as cursor:
        # Rewritten as they were after their insertion, pages full (fill factor allowing), not with the room the
        # first round's row versions leave behind: at a round's close each submit finds its attempt's page filled
        # by the attempts started after it.
        cursor.execute(
            "VACUUM (FULL, ANALYZE) contests_attempt, contests_participant, contests_attemptflag, contests_sheetcount"
        )
    checkpoint(connection)
    connection.close()


def p99(values):
    return percentile(values, 0.99)


def report(name, result, base=None):
    rate, lat, statuses, cpu = result
    line = f"{name}: {rate:,.0f} req/s, median {statistics.median(lat):.1f} ms, p99 {p99(lat):.1f} ms, {statuses}"
    if base is not None:
        line += f" → throughput {rate / base[0]:.2f}× the trivial view, p99 {p99(lat) / p99(base[1]):.2f}×"
    print(line)
    if cpu is not None:
        per = {k: cpu[k] * 1000 / len(lat) for k in ("server", "database", "client")}
        print(
            f"  CPU per request: gunicorn {per['server']:.2f} ms, PostgreSQL {per['database']:.2f} ms, "
            f"load clients {per['client']:.2f} ms; machine idle {cpu['idle']:.0%}"
        )


def insert_rate(seconds: float = 3.0) -> float:
    """Single-row INSERTs, one statement and one commit each, from one connection."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_single_insert (id bigserial primary key, v int)")
        n, stop = 0, time.perf_counter() + seconds
        started = time.perf_counter()
        while time.perf_counter() < stop:
            cursor.execute("INSERT INTO bench_single_insert (v) VALUES (%s)", [n])
            n += 1
        return n / (time.perf_counter() - started)


def burst(keys, options, rate: float, seconds: float, clients: int):
    """Open loop at ``rate`` requests per second for ``seconds``: each request saves a different question (seq 1).
    Returns (sent, acknowledged (key, position) set, statuses)."""
    todo = queue.Queue()
    pairs = [(k, p) for k in keys for p in range(1, 21)]
    total = min(len(pairs), int(rate * seconds))
    for pair in pairs[:total]:
        todo.put(pair)
    acked, statuses, lock = set(), {}, threading.Lock()
    start = time.perf_counter()
    counter = iter(range(total))
    counter_lock = threading.Lock()

    sent = [0]

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
        while True:
            with counter_lock:
                i = next(counter, None)
                if i is not None and time.perf_counter() < start + seconds:
                    sent[0] += 1
                else:
                    i = None
            if i is None:
                return
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            key, position = todo.get()
            body = json.dumps({"position": position, "chosen": [options[(key, position)][0]], "seq": 1})
            try:
                conn.request(
                    "POST",
                    f"/api/v1/contests/attempts/{key}/answers",
                    body=body,
                    headers={"Content-Type": "application/json"},
                )
                r = conn.getresponse()
                r.read()
                code = r.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
                code = "error"
            with lock:
                statuses[code] = statuses.get(code, 0) + 1
                if code == 200:
                    acked.add((key, position))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sent[0], time.perf_counter() - start, acked, statuses


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=6, help="of each run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)  # as deploy/gunicorn.conf.py
    parser.add_argument("--attempts", type=int, default=6000)
    args = parser.parse_args()
    connection = setup_database()
    db_name = connection.settings_dict["NAME"]
    server = None
    try:
        if connection.vendor != "postgresql":
            raise SystemExit("This benchmark measures PostgreSQL: set DATABASE_URL=postgres://…")
        sys.path.insert(0, str(HERE))
        t = time.perf_counter()
        keys, options = prepare(args.attempts)
        print(f"prepared {len(keys):,} attempts of 20 questions in {time.perf_counter() - t:.1f} s")
        save_keys, submit_keys, burst_keys = keys[:500], keys[500:-500], keys[-500:]
        # The attempts of a real round are started over hours, and autovacuum has seen the tables by its close.
        # Here they were written a moment ago: without this, autovacuum's first pass over them and the checkpoint
        # their writes made due would fall into the measurements.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
        checkpoint(connection)
        connection.close()
        server = start_server(db_name, args.workers, args.threads)
        print(f"gunicorn: {args.workers} workers × {args.threads} threads (gthread), {args.clients} clients")
        meter = CpuMeter(server.pid)

        def trivial(i, n):
            return "GET", "/bench/trivial", None

        seqs = {}

        def save(i, n):
            key = save_keys[(i * 7919 + n) % len(save_keys)]
            position = 1 + (n * 13 + i) % 20
            seq = seqs[(key, position)] = seqs.get((key, position), 0) + 1
            body = json.dumps({"position": position, "chosen": [options[(key, position)][n % 4]], "seq": seq})
            return "POST", f"/api/v1/contests/attempts/{key}/answers", body

        submit_state = {"keys": iter(submit_keys)}
        submit_lock = threading.Lock()

        def submit(i, n):
            with submit_lock:
                key = next(submit_state["keys"], None)
            return None if key is None else ("POST", f"/api/v1/contests/attempts/{key}/submit", "{}")

        # Every path warmed before it is measured: the workers, their connections (the batches' own included) and
        # the database's plans of the statements are made once in a server's life.
        run_load(trivial, 2, args.clients)
        run_load(save, 1, args.clients)
        run_load(submit, 0.2, args.clients)
        # The three paths measured in turn, round after round, and each compared with all the trivial view's runs
        # together: on a shared machine the speed drifts by a fifth within minutes, and one window for each path
        # compared a path with the machine of another moment. Each submit takes a different attempt (a repeated
        # submit takes another path); between rounds the submitted attempts are put back in progress, and a run
        # stops early if the prepared attempts run out.
        runs = {"trivial view": [], "save an answer": [], "submit an attempt": []}
        for number in range(1, args.rounds + 1):
            if number > 1:
                reopen_attempts(submit_keys)
                submit_state["keys"] = iter(submit_keys)
            for name, make in zip(runs, (trivial, save, submit), strict=True):
                runs[name].append(run_load(make, args.seconds, args.clients, meter))
            trivial_rate = runs["trivial view"][-1][0]
            print(
                f"round {number}: trivial {trivial_rate:,.0f} req/s, save {runs['save an answer'][-1][0]:,.0f} "
                f"({runs['save an answer'][-1][0] / trivial_rate:.2f}×), submit {runs['submit an attempt'][-1][0]:,.0f}"
                f" ({runs['submit an attempt'][-1][0] / trivial_rate:.2f}×)"
            )
        base = pooled(runs["trivial view"])
        report(f"trivial view ({args.rounds} runs)", base)
        saves, subs = pooled(runs["save an answer"]), pooled(runs["submit an attempt"])
        report(f"save an answer ({args.rounds} runs)", saves, base)
        report(f"submit an attempt ({args.rounds} runs)", subs, base)
        for name, result in (("save", saves), ("submit", subs)):
            ok = result[0] >= 0.5 * base[0] and p99(result[1]) <= 2 * p99(base[1])
            print(f"target {name} (≥ 0.5× throughput, p99 ≤ 2×): {'MET' if ok else 'NOT MET'}")

        from django.db import connection as conn

        single = insert_rate()
        target_rate = 10 * single
        sent, took, acked, statuses = burst(burst_keys, options, target_rate, 10, max(args.clients, 64))
        from doanso.contests.models import AttemptQuestion

        stored = set(
            AttemptQuestion.objects.filter(attempt__key__in=burst_keys, seq__gt=0).values_list(
                "attempt__key", "position"
            )
        )
        lost = acked - stored
        print(
            f"single-row INSERTs: {single:,.0f}/s → burst scheduled at {target_rate:,.0f}/s for 10 s: {sent:,} sent, "
            f"all answered within {took:.1f} s ({sent / took:,.0f}/s served), statuses {statuses}"
        )
        print(f"acknowledged {len(acked):,}, stored {len(stored):,}, acknowledged but not stored {len(lost)}")
        print(f"target burst (stored = acknowledged): {'MET' if not lost and len(stored) == len(acked) else 'NOT MET'}")
        conn.close()
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        from django.db import connection as conn

        conn.close()
        teardown_database(conn, db_name)


if __name__ == "__main__":
    main()
