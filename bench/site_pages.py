"""Public site pages and the map's GeoJSON (PostgreSQL).

1. A site page reached by its QR code (/q/<code>), served from the page cache, against two baselines served the
   same way (gunicorn, the project's whole middleware stack, measured in the same run):
   - a trivial Django view that returns "ok": target ≥ 0.8× its throughput;
   - the same page rendered on every request (cache cleared before each): target ≥ 10× its throughput.
   The page is a realistic one: a border marker with three photos, an audio guide, a video link, an adopting
   unit with ten activities (with photos) and three condition reports.
2. The GeoJSON of 10,000 published sites, rendered uncached through the view: target median ≤ 200 ms.

Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/doanso_bench .venv/bin/python bench/site_pages.py
Options: --sites N (default 10,000), --requests N per measured URL (default 2,000), --clients N (default 4).
"""

import argparse
import datetime
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _setup import setup_database, summary, teardown_database, timed

ROOT = Path(__file__).resolve().parent.parent


def make_page_site():
    from django.core.files.uploadedfile import SimpleUploadedFile

    from doanso.accounts.models import User
    from doanso.org import services as org
    from doanso.org.models import AdministrativeDivision, UnitKind
    from doanso.sites import services
    from doanso.sites.tests.support import jpeg

    admin = User.objects.create_superuser("bench-admin", password="x")
    reviewer = User.objects.create_superuser("bench-reviewer", password="x")
    past = datetime.date(2020, 1, 1)
    province = org.create_unit(
        org.UnitData(code="P", name="Thành đoàn", kind=UnitKind.PROVINCE), actor=admin, parent=None, active_from=past
    )
    commune = org.create_unit(
        org.UnitData(code="C", name="Đoàn xã Tây Giang", kind=UnitKind.COMMUNE),
        actor=admin,
        parent=province,
        active_from=past,
    )
    site = services.create_site(
        actor=admin,
        unit=province,
        marker={"number": 678, "border_section": "Quảng Nam – Sê Kông", "lao_province": "Sê Kông"},
        name="Cột mốc 678",
        summary="Cột mốc biên giới Việt Nam – Lào trên địa bàn xã Tây Giang." * 3,
        history="<p>" + "Lịch sử cột mốc. " * 120 + "</p>",
        visiting_hours="Theo lịch của đồn biên phòng",
        division=AdministrativeDivision.objects.get(code="20455"),
        latitude="15.95",
        longitude="107.38",
        video_url="https://www.youtube.com/watch?v=abcdef",
    )
    for i in range(3):
        services.add_photo(site, jpeg((1600, 1200), (40 * i, 90, 120)), actor=admin, alt=f"Ảnh {i + 1}")
    audio = SimpleUploadedFile("thuyet-minh.mp3", b"ID3\x04\x00" + b"\x00" * 5000)
    services.add_media(site, audio, actor=admin, kind="audio", title="Thuyết minh")
    services.submit_site(site, actor=admin)
    services.publish_site(site, actor=reviewer)
    today = datetime.date.today()
    adoption = services.adopt_site(site, actor=admin, unit=commune, since=today - datetime.timedelta(days=200))
    for i in range(10):
        services.log_activity(
            adoption,
            actor=admin,
            date=today - datetime.timedelta(days=10 * i),
            kind="patrol",
            participants=10 + i,
            description="Tuần tra cùng đồn biên phòng",
            photos=[jpeg((800, 600))],
        )
    for i in range(3):
        services.report_condition(
            site.marker, actor=admin, date=today - datetime.timedelta(days=30 * i), condition="good"
        )
    return site


def load_sites(n: int):
    """n published sites with coordinates (bulk, as an import of a large province's list would leave them)."""
    from django.utils import timezone

    from doanso.accounts.models import User
    from doanso.core.text import fold, vn_sort_key
    from doanso.org.models import AdministrativeDivision, Unit
    from doanso.sites.models import Site, new_code

    reviewer = User.objects.get(username="bench-reviewer")
    unit = Unit.objects.get(code="P")
    communes = list(AdministrativeDivision.objects.filter(level="commune", province__code="48"))
    now = timezone.now()
    kinds = ["red_address", "relic", "youth_work", "memorial", "other"]
    rows = []
    codes = set(Site.objects.values_list("code", flat=True))
    for i in range(n):
        name = f"Địa điểm số {i}"
        code = new_code()
        while code in codes:  # the service retries on a collision; a bulk insert must avoid them itself
            code = new_code()
        codes.add(code)
        rows.append(
            Site(
                code=new_code(),
                kind=kinds[i % 5],
                name=name,
                summary="Tóm tắt",
                unit=unit,
                status="published",
                reviewer=reviewer,
                reviewed_at=now,
                published_at=now,
                division=communes[i % len(communes)],
                latitude=f"{15 + (i % 1000) / 1000:.6f}",
                longitude=f"{107 + (i // 1000) / 10:.6f}",
                search_name=fold(name),
                sort_key=vn_sort_key(name),
            )
        )
    Site.objects.bulk_create(rows, batch_size=2000)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hammer(port: int, path: str, requests: int, clients: int) -> float:
    """Requests per second from ``clients`` threads, each on its own connection per request (gunicorn's sync
    workers close after every response, as behind nginx)."""
    per_client = requests // clients
    errors = []

    def run():
        for _ in range(per_client):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", path, headers={"Accept-Language": "vi"})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                errors.append(response.status)
            conn.close()

    threads = [threading.Thread(target=run) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    assert not errors, f"{path}: {errors[:5]}"
    return per_client * clients / elapsed


def http_get(port: int, path: str) -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path)
    body = conn.getresponse().read()
    conn.close()
    return body


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    connection = setup_database()
    from django.conf import settings
    from django.core.cache import cache
    from django.test import Client

    db = connection.settings_dict
    try:
        site = make_page_site()
        load_sites(args.sites)

        # 2. GeoJSON through the view, the cache cleared before each request.
        client = Client(HTTP_HOST="127.0.0.1")

        def geojson():
            cache.clear()
            response = client.get("/dia-diem/ban-do.geojson")
            assert response.status_code == 200

        geojson()
        samples = timed(geojson, 15)
        import json

        count = len(json.loads(client.get("/dia-diem/ban-do.geojson").content)["features"])
        print(f"GeoJSON of {count} sites, uncached, through the view: {summary(samples)} (target: median ≤ 200 ms)")
        cached = timed(lambda: client.get("/dia-diem/ban-do.geojson"), 15)
        print(f"GeoJSON of {count} sites, from the cache (what the map gets between edits): {summary(cached)}")

        # 1. Pages through gunicorn with the project's middleware, on the benchmark's database.
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "DEBUG": "0",
            "SECRET_KEY": "bench-secret-key-bench-secret-key-bench",
            "ALLOWED_HOSTS": "127.0.0.1",
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "PYTHONPATH": str(ROOT / "bench") + os.pathsep + str(ROOT),
            # Production static storage (hashed names from the manifest), collected into a throw-away folder.
            "STATIC_ROOT": tempfile.mkdtemp(prefix="doanso-bench-static-"),
        }
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
        )
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "_site_wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.workers),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
        try:
            for _ in range(100):
                try:
                    http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/bench/trivial/")
                    break
                except OSError:
                    time.sleep(0.1)
            paths = {
                "trivial view": "/bench/trivial/",
                "page by QR, cached": f"/q/{site.code}",
                "page, rendered uncached": f"/bench/uncached/{site.code}/",
            }
            for path in paths.values():  # warm every worker's cache and connections
                hammer(port, path, 100, args.clients)
            # Rounds that alternate the three URLs, so that a change in the shared machine's load between two
            # measurements does not read as a difference between them; the ratio is the median over rounds.
            rounds = 5
            ratios_trivial, ratios_uncached, rates = [], [], {label: [] for label in paths}
            for _round in range(rounds):
                result = {}
                for label, path in paths.items():
                    n = args.requests // rounds // (10 if "uncached" in label else 1)
                    result[label] = hammer(port, path, max(n, 40), args.clients)
                    rates[label].append(result[label])
                ratios_trivial.append(result["page by QR, cached"] / result["trivial view"])
                ratios_uncached.append(result["page by QR, cached"] / result["page, rendered uncached"])
            for label, values in rates.items():
                print(f"{label:28} {statistics.median(values):8.0f} requests/s (median of {rounds} rounds)")
            print(
                f"cached page / trivial view: {statistics.median(ratios_trivial):.2f}× (target ≥ 0.8×), "
                f"rounds {', '.join(f'{r:.2f}' for r in ratios_trivial)}"
            )
            print(
                f"cached page / uncached page: {statistics.median(ratios_uncached):.1f}× (target ≥ 10×), "
                f"rounds {', '.join(f'{r:.1f}' for r in ratios_uncached)}"
            )
            size = len(http_get(port, paths["page by QR, cached"]))
            print(f"page size: {size / 1024:.1f} KB of HTML")
        finally:
            server.terminate()
            server.wait(10)
    finally:
        teardown_database(connection)


if __name__ == "__main__":
    main()
