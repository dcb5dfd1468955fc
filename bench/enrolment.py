"""ABHA enrollment throughput: the whole API flow (otp -> verify -> complete) with concurrent clients,
against gunicorn (2 sync workers, production settings) on PostgreSQL, and in the same run a bare DRF
endpoint that inserts one row. Prints completed enrollments/s, p50/p99 per step, and the ratio.

Goal (issue 3): >= 300 completed enrollments/s on a 2-core machine, p99 < 100 ms per step.
The clients run in separate processes on the same 2 cores as the server: read the figures with that.

    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python bench/enrolment.py --clients 8 --seconds 20
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
STEPS = ["otp", "verify", "complete"]
DETAILS = {"first_name": "Bench", "last_name": "Citizen", "gender": "F", "year_of_birth": 1990, "state_lgd": 24}
# Citizens spread over Gujarat's districts, as in life (the dashboard counters are per district).
DISTRICTS = [
    int(line.split(",")[0]) for line in (ROOT / "core/data/gujarat_districts.csv").read_text().splitlines()[1:]
]


def _post(conn, path, body, ip="127.0.0.1"):
    payload = json.dumps(body)
    headers = {"Content-Type": "application/json", "Connection": "close", "X-Forwarded-For": ip}
    conn.request("POST", path, payload, headers)
    response = conn.getresponse()
    data = response.read()
    return response.status, data


def _client(args):
    """One client process: runs flows back to back until the deadline; returns latencies per step."""
    port, redis_url, deadline, index, mode = args
    import redis

    sms = redis.Redis.from_url(redis_url)
    latencies = {step: [] for step in (STEPS if mode == "enrol" else ["insert"])}
    failures = 0
    serial = 0
    while time.time() < deadline:
        serial += 1
        mobile = f"9{index:03d}{serial:06d}"[:10]
        # Each citizen comes from their own address (NUM_PROXIES=1 trusts this header), so the
        # per-IP throttles stay on at their production rates.
        ip = f"10.{index % 256}.{serial // 256 % 256}.{serial % 256}"
        try:
            if mode == "insert":
                started = time.perf_counter()
                status, _ = _post(http.client.HTTPConnection("127.0.0.1", port), "/bench/insert/", {"mobile": mobile})
                assert status == 201, status
                latencies["insert"].append(time.perf_counter() - started)
                continue
            started = time.perf_counter()
            status, body = _post(
                http.client.HTTPConnection("127.0.0.1", port),
                "/api/v1/abha/enrolment/otp/",
                {"mobile": mobile, "consent_version": "2025-04"},
                ip,
            )
            assert status == 201, body
            otp_at = time.perf_counter()
            txn_id = json.loads(body)["txn_id"]
            otp = next(w for w in sms.get(f"bench-sms:{mobile}").decode().split() if w.isdigit() and len(w) == 6)
            verify_start = time.perf_counter()
            status, body = _post(
                http.client.HTTPConnection("127.0.0.1", port),
                "/api/v1/abha/enrolment/verify/",
                {"txn_id": txn_id, "otp": otp},
                ip,
            )
            assert status == 200, body
            complete_start = time.perf_counter()
            status, body = _post(
                http.client.HTTPConnection("127.0.0.1", port),
                "/api/v1/abha/enrolment/complete/",
                {"txn_id": txn_id, **DETAILS, "district_lgd": DISTRICTS[serial % len(DISTRICTS)]},
                ip,
            )
            assert status == 201, body
            done = time.perf_counter()
            latencies["otp"].append(otp_at - started)
            latencies["verify"].append(complete_start - verify_start)
            latencies["complete"].append(done - complete_start)
        except (AssertionError, OSError, StopIteration, AttributeError) as error:
            failures += 1
            if failures <= 3:
                print(f"client {index}: {error!r}"[:300], file=sys.stderr)
    return latencies, failures


def _run(port, redis_url, clients, seconds, mode):
    deadline = time.time() + seconds
    with multiprocessing.Pool(clients) as pool:
        results = pool.map(_client, [(port, redis_url, deadline, i, mode) for i in range(clients)])
    merged, failures = {}, 0
    for latencies, failed in results:
        failures += failed
        for step, values in latencies.items():
            merged.setdefault(step, []).extend(values)
    return merged, failures


def _pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))] * 1000 if values else float("nan")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not url.startswith("postgres") or not redis_url:
        sys.exit("Set DATABASE_URL (PostgreSQL) and REDIS_URL (make bench starts both).")
    parts = urlparse(url)
    bench_url = urlunparse(parts._replace(path="/bench_enrolment"))
    import psycopg

    admin_url = urlunparse(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS bench_enrolment")
        conn.execute("CREATE DATABASE bench_enrolment")
    sms_redis = redis_url.rsplit("/", 1)[0] + "/3"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.enrolment_support.settings",
        "DATABASE_URL": bench_url,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "AADHAAR_HASH_KEY": secrets.token_urlsafe(32),
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "SMS_BACKEND": "bench.enrolment_support.urls.RedisSmsBackend",
        "BENCH_SMS_REDIS_URL": sms_redis,
        "NUM_PROXIES": "1",
        "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL", redis_url),
        "REDIS_URL": redis_url,
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    with psycopg.connect(bench_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE bench_row (id bigserial PRIMARY KEY, mobile varchar(10), at timestamptz DEFAULT now())"
        )

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
        _run(port, sms_redis, args.clients, 2, "enrol")  # warm-up: connections, imports, caches
        enrol, enrol_failures = _run(port, sms_redis, args.clients, args.seconds, "enrol")
        bare, bare_failures = _run(port, sms_redis, args.clients, args.seconds, "insert")
    finally:
        server.terminate()
        server.wait(timeout=30)
    completed = len(enrol["complete"])
    per_second = completed / args.seconds
    bare_per_second = len(bare["insert"]) / args.seconds
    print(
        f"\nABHA enrollment, {args.clients} client processes, {args.seconds:.0f} s, "
        f"gunicorn {args.workers} sync workers (clients share the 2 cores with the server and PostgreSQL)"
    )
    print(f"  completed enrollments/s: {per_second:8.1f}   (failures {enrol_failures})")
    for step in STEPS:
        values = enrol[step]
        print(f"  {step:9s} p50 {_pct(values, 0.5):6.1f} ms   p99 {_pct(values, 0.99):6.1f} ms   n={len(values)}")
    print(f"  bare DRF insert (no auth, no throttle) requests/s: {bare_per_second:8.1f}   (failures {bare_failures})")
    print(f"  insert    p50 {_pct(bare['insert'], 0.5):6.1f} ms   p99 {_pct(bare['insert'], 0.99):6.1f} ms")
    print(f"  ratio enrollments/s : bare requests/s = {per_second / bare_per_second:.3f}")
    print(f"  ratio enrollment requests/s (3 per flow) : bare = {3 * per_second / bare_per_second:.3f}")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("DROP DATABASE bench_enrolment")


if __name__ == "__main__":
    main()
