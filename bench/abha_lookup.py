"""ABHA look-up (the M1 verification API) latency with a large accounts table.

Creates its own PostgreSQL database on the server in DATABASE_URL (make bench starts one), fills it
with `generate_scale --abha N`, serves it with gunicorn (2 sync workers, production settings) and
asks GET /api/v1/abha/lookup/?id=... as facility staff, by ABHA number (with dashes), by ABHA
address and for numbers that do not exist. Each look-up is audited (one insert). Goal (issue 3):
p99 under 10 ms with 1 crore accounts. Clients share the machine's 2 cores with the server.

    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python bench/abha_lookup.py --accounts 10000000
"""

import argparse
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
SETUP = """
from core.models import User
from facilities.models import Facility, FacilityMembership
from rest_framework.authtoken.models import Token
from abha.models import AbhaAccount
user, _ = User.objects.get_or_create(username="bench_staff", defaults={"role": "facility_staff"})
FacilityMembership.objects.get_or_create(user=user, facility=Facility.objects.order_by("id").first())
print(Token.objects.get_or_create(user=user)[0].key)
from django.db import connection
with connection.cursor() as c:
    c.execute("SELECT abha_number FROM abha_abhaaccount TABLESAMPLE SYSTEM (0.5) WHERE status = 'active' LIMIT 1000")
    print(",".join(r[0] for r in c.fetchall()))
"""


IN_PROCESS = """
import time
from abha import selectors
numbers = {numbers!r}
runs = [("by number", numbers), ("by address", [n + "@sbx" for n in numbers])]
for label, ids in runs + [(label + ", again", ids) for label, ids in runs]:  # first touch vs cached pages
    times = []
    for identifier in ids:
        started = time.perf_counter()
        assert selectors.account_by_identifier(identifier) is not None
        times.append(time.perf_counter() - started)
    times.sort()
    p50, p99 = times[len(times) // 2] * 1000, times[int(len(times) * 0.99) - 1] * 1000
    print(f"  {{label:18s}} p50 {{p50:6.2f}} ms   p99 {{p99:6.2f}} ms")
"""


def manage(env, *args, capture=False):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, text=True, capture_output=capture
    )


def _display(number):
    return f"{number[:2]}-{number[2:6]}-{number[6:10]}-{number[10:]}"


def timed(base, token, identifiers, expect, clients=4):
    latencies, failures, lock = [], [], threading.Lock()

    def worker(part):
        for identifier in part:
            request = urllib.request.Request(
                f"{base}/api/v1/abha/lookup/?id={quote(identifier)}", headers={"Authorization": f"Token {token}"}
            )
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    response.read()
                    status = response.status
            except urllib.error.HTTPError as error:
                status = error.code
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if status != expect:
                    failures.append((identifier, status))

    threads = [threading.Thread(target=worker, args=(identifiers[i::clients],)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    if failures:
        print(f"  {len(failures)} unexpected answers, e.g. {failures[:3]}", file=sys.stderr)
    return latencies[len(latencies) // 2] * 1000, latencies[int(len(latencies) * 0.99) - 1] * 1000, len(latencies)


COUNT = "from abha.models import AbhaAccount; print(AbhaAccount.objects.count())"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=10_000_000)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--database",
        help="measure on this existing database generated with generate_scale (e.g. bench_dashboard kept by "
        "`bench/dashboard.py --keep`) instead of generating --accounts afresh",
    )
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not url.startswith("postgres") or not redis_url:
        sys.exit("Set DATABASE_URL (PostgreSQL) and REDIS_URL (make bench starts both).")
    import psycopg

    parts = urlparse(url)
    admin_url = urlunparse(parts._replace(path="/postgres"))
    database = args.database or "bench_abha_lookup"
    if not args.database:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS bench_abha_lookup")
            conn.execute("CREATE DATABASE bench_abha_lookup")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "DATABASE_URL": urlunparse(parts._replace(path=f"/{database}")),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "AADHAAR_HASH_KEY": secrets.token_urlsafe(32),
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "API_USER_RATE": "100000000/minute",
        "LOG_LEVEL": "ERROR",  # a 404 per miss would flood the output
        "SMS_BACKEND": "console",
        "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL", redis_url),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    manage(env, "migrate", "-v0")
    if not args.database:
        started = time.perf_counter()
        manage(env, "generate_scale", "--abha", str(args.accounts), "--facilities", "10")
        print(f"generated {args.accounts:,} ABHA accounts in {time.perf_counter() - started:.0f} s")
        manage(env, "shell", "-c", "from django.db import connection; connection.cursor().execute('VACUUM ANALYZE')")
    count = manage(env, "shell", "-c", COUNT, capture=True).stdout.strip().splitlines()[-1]
    args.accounts = int(count)
    lines = manage(env, "shell", "-c", SETUP, capture=True).stdout.strip().splitlines()
    token, numbers = lines[-2], lines[-1].split(",")
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2"]
        + ["--no-control-socket", "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        timed(base, token, [_display(n) for n in numbers[:200]], 200)  # warm-up
        results = {}
        for clients in (1, 4):  # one caller's latency, then four at once (queueing on the 2 workers)
            results[clients] = {
                "by number": timed(base, token, [_display(n) for n in numbers], 200, clients),
                "by address": timed(base, token, [f"{n}@sbx" for n in numbers], 200, clients),
                "not found": timed(base, token, [_display("98" + n[2:]) for n in numbers], 404, clients),
            }
    finally:
        server.terminate()
        server.wait(timeout=30)
    for clients, by_kind in results.items():
        print(
            f"\nABHA look-up over HTTP with {args.accounts:,} accounts, {clients} client thread(s), gunicorn 2 workers"
        )
        for label, (p50, p99, count) in by_kind.items():
            print(f"  {label:11s} p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   n={count}")
    print("(each look-up is audited; clients share the 2 cores with the server and PostgreSQL)")
    print("The selector alone (database round trips, no HTTP, no audit), one process:")
    print(manage(env, "shell", "-c", IN_PROCESS.format(numbers=numbers), capture=True).stdout.rstrip())
    if not args.keep and not args.database:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute("DROP DATABASE bench_abha_lookup")


if __name__ == "__main__":
    main()
