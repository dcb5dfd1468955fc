"""ABHA enrollment throughput through ABDM: the whole API flow a citizen runs (Aadhaar -> OTP -> complete) with
concurrent clients, against gunicorn (2 sync workers, production settings) on PostgreSQL, the portal calling the
local ABDM sandbox (its own process and database) for every step, as it calls ABDM. In the same run a bare DRF
endpoint that inserts one row. Prints completed enrollments/s end to end, p50/p95/p99 per step, and the ratio.

Each flow: POST /api/v1/abha/enrolment/otp/ {aadhaar} (the portal asks ABDM to send the Aadhaar OTP; the sandbox's
UIDAI writes it to its SMS file), the client reads the OTP from that file, POST .../verify/ {txn_id, otp, mobile}
(ABDM enrols by Aadhaar; the Aadhaar-linked mobile, so no second OTP), POST .../complete/ {txn_id} (the portal keeps
the account). The residents (fresh Aadhaar numbers at the sandbox's UIDAI) are defined before the clock starts.
The clients, the portal and the sandbox share the machine's cores: read the figures with that.

    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python bench/enrolment.py --clients 8 --seconds 20
"""

import argparse
import http.client
import json
import multiprocessing
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse, urlunparse

from stdnum import verhoeff

ROOT = Path(__file__).resolve().parent.parent
STEPS = ["otp", "verify", "complete"]
CONSENT_VERSION = "2025-04"
# Residents spread over Gujarat's districts, as in life (the dashboard counters are per district).
DISTRICTS = [line.split(",")[:2] for line in (ROOT / "core/data/gujarat_districts.csv").read_text().splitlines()[1:]]


def _post(conn, path, body, ip="127.0.0.1"):
    payload = json.dumps(body)
    headers = {"Content-Type": "application/json", "Connection": "close", "X-Forwarded-For": ip}
    conn.request("POST", path, payload, headers)
    response = conn.getresponse()
    data = response.read()
    return response.status, data


def _resident(index: int) -> dict:
    body = f"{random.randint(2, 9)}{random.randrange(10**10):010d}"  # noqa: S311 - test data
    district_lgd, district_name = DISTRICTS[index % len(DISTRICTS)]
    return {
        "aadhaar": body + verhoeff.calc_check_digit(body),
        "mobile": f"{random.choice('6789')}{index:09d}"[:10],  # noqa: S311 - test data
        "name": "Bench Citizen",
        "gender": "F",
        "dob": "1990-05-23",
        "address": "12 Station Road",
        "stateCode": "24",
        "stateName": "GUJARAT",
        "districtCode": district_lgd.strip(),
        "districtName": district_name.strip(),
        "pincode": "364001",
    }


def _define_residents(sandbox: str, count: int) -> list[dict]:
    """Fresh Aadhaar holders at the sandbox's UIDAI (its seeding helper), before the clock starts."""

    def define(index):
        person = _resident(index)
        req = urllib.request.Request(
            f"{sandbox}/sandbox/v1/abha/residents",
            data=json.dumps(person).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=60) as response:  # noqa: S310 - the local sandbox
            assert response.status in (200, 201), response.status
        return person

    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(define, range(count)))


class SmsFile:
    """The sandbox's SMS file, read on from where this process stopped: the last OTP per mobile."""

    def __init__(self, path: str):
        self.path, self.offset, self.otps = path, 0, {}

    def otp(self, mobile: str, after: float, wait: float = 10) -> str:
        deadline = time.monotonic() + wait
        while True:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                chunk = handle.read()
            complete = chunk[: chunk.rfind(b"\n") + 1]
            self.offset += len(complete)
            for line in complete.splitlines():
                message = json.loads(line)
                words = message["text"].replace(".", " ").split()
                code = next((w for w in words if w.isdigit() and len(w) == 6), None)
                if code:
                    self.otps[message["to"]] = (code, time.time())
            found = self.otps.pop(mobile, None)
            if found and found[1] >= after - 1:
                return found[0]
            if time.monotonic() > deadline:
                raise AssertionError(f"no OTP for {mobile[-4:]}")
            time.sleep(0.002)


def _client(args):
    """One client process: runs flows back to back until the deadline or its residents run out."""
    port, sms_file, deadline, index, mode, people = args
    sms = SmsFile(sms_file)
    latencies = {step: [] for step in (STEPS if mode == "enrol" else ["insert"])}
    failures = 0
    serial = 0
    while time.time() < deadline and (mode == "insert" or serial < len(people)):
        serial += 1
        # Each citizen comes from their own address (NUM_PROXIES=1 trusts this header), so the
        # per-IP throttles stay on at their production rates.
        ip = f"10.{index % 256}.{serial // 256 % 256}.{serial % 256}"
        try:
            if mode == "insert":
                started = time.perf_counter()
                conn = http.client.HTTPConnection("127.0.0.1", port)
                status, _ = _post(conn, "/bench/insert/", {"mobile": f"9{index:03d}{serial:06d}"[:10]})
                assert status == 201, status
                latencies["insert"].append(time.perf_counter() - started)
                continue
            person = people[serial - 1]
            asked = time.time()
            started = time.perf_counter()
            status, body = _post(
                http.client.HTTPConnection("127.0.0.1", port),
                "/api/v1/abha/enrolment/otp/",
                {"aadhaar": person["aadhaar"], "consent_version": CONSENT_VERSION},
                ip,
            )
            assert status == 201, body
            otp_at = time.perf_counter()
            txn_id = json.loads(body)["txn_id"]
            otp = sms.otp(person["mobile"], asked)
            verify_start = time.perf_counter()
            status, body = _post(
                http.client.HTTPConnection("127.0.0.1", port),
                "/api/v1/abha/enrolment/verify/",
                {"txn_id": txn_id, "otp": otp, "mobile": person["mobile"]},
                ip,
            )
            assert status == 200, body
            complete_start = time.perf_counter()
            status, body = _post(
                http.client.HTTPConnection("127.0.0.1", port),
                "/api/v1/abha/enrolment/complete/",
                {"txn_id": txn_id},
                ip,
            )
            assert status == 201, body
            done = time.perf_counter()
            latencies["otp"].append(otp_at - started)
            latencies["verify"].append(complete_start - verify_start)
            latencies["complete"].append(done - complete_start)
        except (AssertionError, OSError, StopIteration, KeyError, ValueError) as error:
            failures += 1
            if failures <= 3:
                print(f"client {index}: {error!r}"[:300], file=sys.stderr)
    return latencies, failures


def _run(port, sms_file, clients, seconds, mode, people=()):
    """Runs the clients; returns latencies per step, failures and the wall time taken."""
    deadline = time.time() + seconds
    shares = [people[i::clients] for i in range(clients)]
    started = time.perf_counter()
    with multiprocessing.Pool(clients) as pool:
        results = pool.map(_client, [(port, sms_file, deadline, i, mode, shares[i]) for i in range(clients)])
    elapsed = time.perf_counter() - started
    merged, failures = {}, 0
    for latencies, failed in results:
        failures += failed
        for step, values in latencies.items():
            merged.setdefault(step, []).extend(values)
    return merged, failures, elapsed


def _pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))] * 1000 if values else float("nan")


def _free_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def _wait_http(url: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 - loopback
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers of the portal")
    parser.add_argument(
        "--residents", type=int, default=6000, help="fresh Aadhaar holders defined up front (the run's ceiling)"
    )
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
        for name in ("bench_enrolment", "bench_enrolment_sandbox"):
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute("CREATE DATABASE bench_enrolment")
    work = Path(tempfile.mkdtemp(prefix="bench-enrolment-"))
    sms_file = work / "sms.jsonl"
    sms_file.touch()
    sandbox_port, port = _free_port(), _free_port()
    sandbox = f"http://127.0.0.1:{sandbox_port}"
    sandbox_env = {
        **os.environ,
        "ABDM_SANDBOX_DATABASE_URL": urlunparse(parts._replace(path="/bench_enrolment_sandbox")),
        "ABDM_SANDBOX_SMS_FILE": str(sms_file),
        "ABDM_SANDBOX_URL": sandbox,
    }
    sandbox_env.pop("DJANGO_SETTINGS_MODULE", None)
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
        "BENCH_SMS_REDIS_URL": redis_url.rsplit("/", 1)[0] + "/3",
        "NUM_PROXIES": "1",
        "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL", redis_url),
        "REDIS_URL": redis_url,
        "ABDM_GATEWAY_URL": sandbox,
        "ABDM_ABHA_URL": sandbox + "/abha/api",
        "ABDM_HFR_URL": sandbox + "/v4/int",
        "ABDM_CLIENT_ID": "state-portal",
        "ABDM_CLIENT_SECRET": "sandbox-secret",
        "ABDM_CM_ID": "sbx",
        "ABDM_BRIDGE_URL": f"http://127.0.0.1:{port}",
        "ABDM_TIMEOUT": "10",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    sandbox_log = (work / "sandbox.log").open("wb")
    sandbox_process = subprocess.Popen(
        [sys.executable, "-m", "abdm_sandbox", "serve", "--port", str(sandbox_port)],
        cwd=ROOT,
        env=sandbox_env,
        stdout=sandbox_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = None
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        with psycopg.connect(bench_url, autocommit=True) as conn:
            conn.execute(
                "CREATE TABLE bench_row (id bigserial PRIMARY KEY, mobile varchar(10), at timestamptz DEFAULT now())"
            )
        _wait_http(sandbox + "/sandbox/v1/health")
        started = time.perf_counter()
        people = _define_residents(sandbox, args.residents + 4 * args.clients)
        print(f"{len(people):,} residents defined at the sandbox's UIDAI ({time.perf_counter() - started:.0f} s)")
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
        _wait_http(f"http://127.0.0.1:{port}/healthz")
        warm, people = people[: 4 * args.clients], people[4 * args.clients :]
        _run(port, str(sms_file), args.clients, 10, "enrol", warm)  # warm-up: connections, imports, the session
        enrol, enrol_failures, elapsed = _run(port, str(sms_file), args.clients, args.seconds, "enrol", people)
        bare, bare_failures, bare_elapsed = _run(port, str(sms_file), args.clients, args.seconds, "insert")
    finally:
        for process in (server, sandbox_process):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
    completed = len(enrol["complete"])
    per_second = completed / elapsed
    bare_per_second = len(bare["insert"]) / bare_elapsed
    print(
        f"\nABHA enrollment through ABDM (local sandbox), {args.clients} client processes, {elapsed:.0f} s, "
        f"gunicorn {args.workers} sync workers (clients, portal, sandbox and PostgreSQL share the cores)"
    )
    print(f"  completed enrollments/s end to end: {per_second:8.1f}   ({completed:,}; failures {enrol_failures})")
    if completed >= len(people) - args.clients:
        print("  (the residents ran out before the time: raise --residents for a longer run)")
    for step in STEPS:
        values = enrol[step]
        print(
            f"  {step:9s} p50 {_pct(values, 0.5):6.1f} ms   p95 {_pct(values, 0.95):6.1f} ms   "
            f"p99 {_pct(values, 0.99):6.1f} ms   n={len(values)}"
        )
    print(f"  bare DRF insert (no auth, no throttle) requests/s: {bare_per_second:8.1f}   (failures {bare_failures})")
    print(f"  insert    p50 {_pct(bare['insert'], 0.5):6.1f} ms   p95 {_pct(bare['insert'], 0.95):6.1f} ms")
    print(f"  ratio enrollments/s : bare requests/s = {per_second / bare_per_second:.3f}")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        for name in ("bench_enrolment", "bench_enrolment_sandbox"):
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


if __name__ == "__main__":
    main()
