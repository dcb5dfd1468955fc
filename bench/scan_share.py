"""Scan & Share under the morning rush: concurrent citizens POST /api/v1/scan-share/ across 20 counters, against
gunicorn (2 sync workers, production settings) on PostgreSQL, and in the same run the bare DRF insert endpoint.
Prints tokens/s, p50/p99, the ratio to bare, and checks every counter's numbers are exactly 1..n.

Goal (issue 7): >= 600 tokens/s with 16 clients over 20 counters, p99 < 50 ms, ratio >= 0.5 of bare.
The clients run in separate processes on the same 2 cores as the server: read the figures with that.

    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python bench/scan_share.py --clients 16 --seconds 20
"""

import argparse
import http.client
import json
import multiprocessing
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
HIP_ID = "IN2499000001"

SEED = """
import os
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from abha.models import AbhaAccount
from core.enums import Role
from facilities.enums import FacilityStatus
from facilities.models import Counter, Facility
facility = Facility.objects.create(
    name="Bench Medical College Hospital", facility_id=os.environ["HIP_ID"], status=FacilityStatus.VERIFIED,
    ownership="G", facility_type="hospital", systems_of_medicine=["modern"], service_type="opd_ipd",
    state_id=24, district_id=443, address="Bench Road", pincode="364001", region="urban", contact_mobile="9800000000",
)
Counter.objects.bulk_create([Counter(facility=facility, code=f"OPD{i}", name=f"OPD {i}") for i in range(1, 21)])
users = get_user_model().objects.bulk_create(
    [get_user_model()(username=f"bench{i:06d}", role=Role.CITIZEN) for i in range(int(os.environ["CITIZENS"]))]
)
from stdnum import luhn
def abha_number(i):  # a sandbox-shaped number with a valid check digit, like a real one
    return f"91{i:011d}" + luhn.calc_check_digit(f"91{i:011d}")
AbhaAccount.objects.bulk_create([
    AbhaAccount(user=user, abha_number=abha_number(i), first_name="Bench", last_name=f"Citizen{i}", gender="F",
                year_of_birth=1990, mobile=f"98{i:08d}", state_id=24, district_id=443, consent_version="2025-04")
    for i, user in enumerate(users)
])
tokens = Token.objects.bulk_create([Token(user=user, key=Token.generate_key()) for user in users])
print("KEYS", ",".join(token.key for token in tokens))
"""


def _post(port, path, body, key=None):
    headers = {"Content-Type": "application/json", "Connection": "close"}
    if key:
        headers["Authorization"] = f"Token {key}"
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("POST", path, json.dumps(body), headers)
    response = conn.getresponse()
    return response.status, response.read()


def _client(args):
    """One client process: its own citizens scan counter after counter until the deadline."""
    port, deadline, keys, mode, index = args
    latencies, failures, serial = [], 0, 0
    # Client i starts at counter i: the clients spread over the 20 counters, as patients over a hall's counters.
    plan = [(key, (round_ + index) % 20 + 1) for round_ in range(20) for key in keys]
    while time.time() < deadline and serial < len(plan):
        key, counter = plan[serial]
        serial += 1
        started = time.perf_counter()
        try:
            if mode == "insert":
                status, body = _post(port, "/bench/insert/", {"mobile": "9800000000"})
            else:
                status, body = _post(
                    port, "/api/v1/scan-share/", {"hip_id": HIP_ID, "counter_id": f"OPD{counter}"}, key
                )
            assert status == 201, (status, body[:200])
            latencies.append(time.perf_counter() - started)
        except (AssertionError, OSError) as error:
            failures += 1
            if failures <= 3:
                print(f"client: {error!r}"[:300], file=sys.stderr)
    return latencies, failures, serial >= len(plan)


def _run(port, key_slices, seconds, mode):
    deadline = time.time() + seconds
    started = time.perf_counter()
    with multiprocessing.Pool(len(key_slices)) as pool:
        results = pool.map(_client, [(port, deadline, keys, mode, i) for i, keys in enumerate(key_slices)])
    elapsed = time.perf_counter() - started
    latencies = [value for values, _, _ in results for value in values]
    return latencies, sum(f for _, f, _ in results), any(exhausted for _, _, exhausted in results), elapsed


def _pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))] * 1000 if values else float("nan")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--citizens", type=int, default=1600, help="each scans up to all 20 counters once")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL (PostgreSQL) and REDIS_URL (make bench starts both).")
    parts = urlparse(url)
    bench_url = urlunparse(parts._replace(path="/bench_scanshare"))
    import psycopg

    admin_url = urlunparse(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS bench_scanshare")
        conn.execute("CREATE DATABASE bench_scanshare")
    redis_url = os.environ.get("REDIS_URL", "")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.enrolment_support.settings",
        "DATABASE_URL": bench_url,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "AADHAAR_HASH_KEY": secrets.token_urlsafe(32),
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL", redis_url),
        "REDIS_URL": redis_url,
        "HIP_ID": HIP_ID,
        "CITIZENS": str(args.citizens),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    seeded = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SEED],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    keys = next(line for line in seeded.stdout.splitlines() if line.startswith("KEYS ")).split()[1].split(",")
    with psycopg.connect(bench_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE bench_row (id bigserial PRIMARY KEY, mobile varchar(10), at timestamptz DEFAULT now())"
        )
    warm, keys = keys[: args.clients], keys[args.clients :]
    key_slices = [keys[i :: args.clients] for i in range(args.clients)]

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--no-control-socket",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        _run(port, [[key] for key in warm], 2, "scan")  # warm-up: connections, imports, caches
        scans, scan_failures, exhausted, scan_elapsed = _run(port, key_slices, args.seconds, "scan")
        bare, bare_failures, _, bare_elapsed = _run(port, key_slices, args.seconds, "insert")
    finally:
        server.terminate()
        server.wait(timeout=30)
    with psycopg.connect(bench_url) as conn:
        rows = conn.execute(
            "SELECT counter_id, day, count(*), count(DISTINCT number), min(number), max(number) "
            "FROM scanshare_scantoken GROUP BY counter_id, day"
        ).fetchall()
        sequences = {
            (counter, day): last
            for counter, day, last in conn.execute("SELECT counter_id, day, last FROM scanshare_scansequence")
        }
    gap_free = all(
        n == distinct == high and low == 1 and sequences.get((counter, day)) == n
        for counter, day, n, distinct, low, high in rows
    )
    per_second = len(scans) / scan_elapsed
    bare_per_second = len(bare) / bare_elapsed
    print(
        f"\nScan & Share, {args.clients} client processes, 20 counters, {args.seconds:.0f} s, gunicorn "
        f"{args.workers} sync workers (clients share the 2 cores with the server and PostgreSQL)"
    )
    print(f"  tokens/s: {per_second:8.1f}   (failures {scan_failures}{', citizens ran out' if exhausted else ''})")
    print(f"  share     p50 {_pct(scans, 0.5):6.1f} ms   p99 {_pct(scans, 0.99):6.1f} ms   n={len(scans)}")
    print(f"  bare DRF insert (no auth, no throttle) requests/s: {bare_per_second:8.1f}   (failures {bare_failures})")
    print(f"  insert    p50 {_pct(bare, 0.5):6.1f} ms   p99 {_pct(bare, 0.99):6.1f} ms")
    print(f"  ratio tokens/s : bare requests/s = {per_second / bare_per_second:.3f}")
    print(f"  counters checked: {len(rows)}, every one numbered exactly 1..n with no gaps: {gap_free}")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("DROP DATABASE bench_scanshare")
    if not gap_free:
        sys.exit("Token numbers are not gap-free.")


if __name__ == "__main__":
    main()
