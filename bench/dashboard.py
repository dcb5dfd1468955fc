"""Dashboard latency against data size: summary, districts and microsite endpoints at a small and a large scale.

Creates its own PostgreSQL database on the server in DATABASE_URL (make bench starts one), fills it
with `generate_scale` (ABHA accounts, facilities, professionals, linked records and Scan & Share
tokens; records, professionals and tokens in proportion to the accounts at the small scale), adds
four microsites with a milestone on every metric, serves it with gunicorn (2 sync workers, production
settings) and times the API over loopback with a few concurrent clients. Prints p50/p95 per endpoint
and scale, the ratio large/small (goal <= 1.5), and the size of the database and of the counter tables.

    DATABASE_URL=postgres://... REDIS_URL=redis://... \\
        .venv/bin/python bench/dashboard.py --small 100000 --large 10000000 --records 5000000
"""

import argparse
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
COUNTER_TABLES = ("core_dailycount", "core_districtdailycount", "core_countertotal", "core_facilitytotal")
COUNTER_SIZE_SQL = "SELECT pg_size_pretty(" + " + ".join(f"pg_total_relation_size('{t}')" for t in COUNTER_TABLES) + ")"
ENDPOINTS = [
    "/api/v1/dashboard/summary/",
    "/api/v1/dashboard/districts/",
    "/api/v1/dashboard/summary/?district_lgd=443",
    "/api/v1/microsites/leaderboard/",
    "/api/v1/microsites/{bhavnagar}/",
]
# Four microsites (as in the demo) with a milestone on every metric, so the leaderboard computes them all.
MICROSITES_CODE = """
import datetime
from core.models import District, State
from microsites.enums import Category, Metric
from microsites.models import Microsite, Milestone
for name, lgd in [("Bhavnagar", 443), ("Ahmedabad", 438), ("Surat", 459), ("Rajkot", 457)]:
    site, made = Microsite.objects.get_or_create(name=name, defaults={
        "state": State.objects.get(pk=24), "category": Category.A,
        "start_date": datetime.date(2025, 1, 1), "deadline": datetime.date(2025, 10, 1)})
    site.districts.set(District.objects.filter(pk=lgd))
    for metric in Metric.values:
        Milestone.objects.get_or_create(microsite=site, metric=metric, due_date=site.deadline,
                                        defaults={"target": 1000})
print(Microsite.objects.get(name="Bhavnagar").uuid)
"""


def manage(env, *args, capture=False):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, text=True, capture_output=capture
    )


def psql(env, sql):
    code = f"from django.db import connection\nc = connection.cursor()\nc.execute({sql!r})\nprint(c.fetchone()[0])"
    return manage(env, "shell", "-c", code, capture=True).stdout.strip().splitlines()[-1]


def admin_sql(url, *statements):
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)


def settle(env):
    """VACUUM ANALYZE, then a CHECKPOINT: after a bulk load the checkpointer writes gigabytes for minutes, and a
    measurement taken meanwhile shows the server busy, not the data size (first 1-crore run: summary p95 67 ms, 40 ms
    once settled)."""
    code = (
        "from django.db import connection\n"
        "cursor = connection.cursor()\n"
        "cursor.execute('VACUUM ANALYZE')\n"
        "cursor.execute('CHECKPOINT')"
    )
    manage(env, "shell", "-c", code)


def timed_requests(base, token, path, clients=4, per_client=100):
    latencies = []
    lock = threading.Lock()

    def worker():
        for _ in range(per_client):
            request = urllib.request.Request(base + path, headers={"Authorization": f"Token {token}"})
            started = time.perf_counter()
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
                assert response.status == 200
            with lock:
                latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    return statistics.median(latencies) * 1000, latencies[int(len(latencies) * 0.95) - 1] * 1000


def measure(env, label):
    port = socket.socket()
    port.bind(("127.0.0.1", 0))
    number = port.getsockname()[1]
    port.close()
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{number}",
            "--workers",
            "2",
            "--no-control-socket",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{number}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        code = (
            "from core.models import User; from rest_framework.authtoken.models import Token\n"
            "u, _ = User.objects.get_or_create(username='bench_state', defaults={'role': 'state_official'})\n"
            "print(Token.objects.get_or_create(user=u)[0].key)"
        )
        token = manage(env, "shell", "-c", code, capture=True).stdout.strip().splitlines()[-1]
        body = json.loads(
            urllib.request.urlopen(
                urllib.request.Request(base + ENDPOINTS[0], headers={"Authorization": f"Token {token}"})
            ).read()
        )
        bhavnagar = manage(env, "shell", "-c", MICROSITES_CODE, capture=True).stdout.strip().splitlines()[-1]
        results = {
            # The microsite endpoints compute every milestone live: fewer requests keep the run short.
            path: timed_requests(
                base, token, path.format(bhavnagar=bhavnagar), per_client=25 if "microsites" in path else 100
            )
            for path in ENDPOINTS
        }
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(
        f"\n[{label}] abha_accounts={body['abha_accounts']:,} coverage={body['abha_coverage_percent']}% "
        f"records_linked={body['records_linked']:,} professionals_verified={body['professionals_verified']:,} "
        f"facilities_verified={body['facilities_verified']:,}"
    )
    for path, (p50, p95) in results.items():
        print(f"  {path:48s} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms")
    print(
        f"  database size {psql(env, 'SELECT pg_size_pretty(pg_database_size(current_database()))')}, "
        f"counter tables {psql(env, COUNTER_SIZE_SQL)} "
        f"({psql(env, 'SELECT count(*) FROM core_dailycount')} daily rows, "
        f"{psql(env, 'SELECT count(*) FROM core_districtdailycount')} district daily rows, "
        f"{psql(env, 'SELECT count(*) FROM core_facilitytotal')} facility totals)"
    )
    return results


def print_ratio(large, small):
    print("\nratio large/small p95 (goal <= 1.5):")
    for path in ENDPOINTS:
        print(f"  {path:48s} {large[path][1] / small[path][1]:.2f}")
    print("(client threads and gunicorn share the same 2 cores)")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--large", type=int, default=10_000_000)
    parser.add_argument("--facilities", type=int, default=20_000)
    parser.add_argument("--professionals", type=int, default=50_000, help="at the large scale")
    parser.add_argument("--records", type=int, default=5_000_000, help="at the large scale")
    parser.add_argument("--tokens", type=int, default=1_000_000, help="at the large scale")
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    parser.add_argument(
        "--measure",
        nargs="+",
        metavar="DATABASE",
        help="generate nothing: migrate and measure these databases kept by --keep, smallest first, and print the "
        "ratio of the last to the first (to measure a change without generating 1 crore accounts again)",
    )
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL server (make bench starts one).")
    parts = urlparse(url)
    bench_url = urlunparse(parts._replace(path="/bench_dashboard"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "DATABASE_URL": bench_url,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "AADHAAR_HASH_KEY": secrets.token_urlsafe(32),
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "API_USER_RATE": "1000000/minute",
        "LOG_LEVEL": "WARNING",
        "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/1"),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    admin_url = urlunparse(parts._replace(path="/postgres"))  # the maintenance database always exists
    if args.measure:
        measured = []
        for database in args.measure:
            here = {**env, "DATABASE_URL": urlunparse(parts._replace(path=f"/{database}"))}
            manage(here, "migrate", "-v0")
            settle(here)
            measured.append(measure(here, database))
        print_ratio(measured[-1], measured[0])
        return
    admin_sql(admin_url, "DROP DATABASE IF EXISTS bench_dashboard", "CREATE DATABASE bench_dashboard")
    manage(env, "migrate", "-v0")
    share = args.small / args.large  # the small scale gets the same mix, in proportion
    small_rest = {name: round(getattr(args, name) * share) for name in ("professionals", "records", "tokens")}
    started = time.perf_counter()
    manage(env, "generate_scale", "--abha", str(args.small), "--facilities", str(args.facilities))
    manage(env, "generate_scale", *(f"--{name}={value}" for name, value in small_rest.items()))
    print(
        f"generated {args.small:,} accounts + {args.facilities:,} facilities + "
        + ", ".join(f"{value:,} {name}" for name, value in small_rest.items())
        + f" in {time.perf_counter() - started:.0f} s"
    )
    settle(env)
    small = measure(env, f"{args.small:,} ABHA accounts")
    started = time.perf_counter()
    manage(env, "generate_scale", "--abha", str(args.large - args.small), "--seed", "2")
    print(f"generated {args.large - args.small:,} more accounts in {time.perf_counter() - started:.0f} s")
    rest = {name: getattr(args, name) - value for name, value in small_rest.items()}
    started = time.perf_counter()
    manage(env, "generate_scale", "--seed", "3", *(f"--{name}={value}" for name, value in rest.items()))
    print(
        "generated "
        + ", ".join(f"{value:,} more {name}" for name, value in rest.items())
        + f" in {time.perf_counter() - started:.0f} s"
    )
    drift = manage(env, "rebuild_counters", capture=True).stdout.strip()
    print(f"rebuild_counters: {drift.splitlines()[-1] if drift else '(no output)'}")
    settle(env)
    large = measure(env, f"{args.large:,} ABHA accounts")
    print_ratio(large, small)
    if not args.keep:
        admin_sql(admin_url, "DROP DATABASE bench_dashboard")


if __name__ == "__main__":
    main()
