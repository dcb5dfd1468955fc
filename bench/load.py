"""A realistic mix for a bounded time against the production shape: 32 concurrent clients for 2 minutes.

Starts its own throwaway PostgreSQL and Redis (scripts/test_services.sh), gunicorn (2 sync workers, production
settings) and a Celery worker, fills the database with `generate_scale` ABHA accounts and the other benches' data
(Scan & Share counters and citizens, a consent artefact over records, a state official), and then runs, for each
client, a random mix of:

    scan       POST /api/v1/scan-share/ (a citizen takes an OPD token)                                  weight 35
    lookup     GET  /api/v1/abha/lookup/?id=... (facility staff, by ABHA number or address)             weight 25
    dashboard  GET  /api/v1/dashboard/summary/ | districts/ | summary/?district_lgd=... | microsites/leaderboard/
                    (a state official)                                                                       weight 20
    records    GET  /api/v1/consents/artefacts/{uuid}/records/ (a doctor under a granted consent)        weight 10
    enrol      POST /api/v1/abha/enrolment/otp/, verify/, complete/ (a new citizen; OTP read from the SMS) weight 10

Expects zero errors; prints count, p50/p95/p99 per endpoint and the total throughput. The clients (threads in a
few processes) share the machine's 2 cores with gunicorn, PostgreSQL, Redis and the worker: the figures are for
the whole machine under that load, not for the server alone.

    .venv/bin/python bench/load.py                          # 32 clients, 2 minutes
    .venv/bin/python bench/load.py --clients 8 --seconds 10 --accounts 20000   # smoke run
"""

import argparse
import json
import multiprocessing
import os
import random
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import abha_lookup, consent, dashboard, enrolment, scan_share  # noqa: E402 - needs ROOT on sys.path
from bench.enrolment_support.stack import Stack, request  # noqa: E402

# The dashboard bench's endpoints, less those that name a microsite this data set does not have.
DASHBOARD = [path for path in dashboard.ENDPOINTS if "{" not in path]
WEIGHTS = {"scan": 35, "lookup": 25, "dashboard": 20, "records": 10, "enrol": 10}
STATE_OFFICIAL = """
from core.models import User
from rest_framework.authtoken.models import Token
user, _ = User.objects.get_or_create(username="bench_state", defaults={"role": "state_official"})
print(Token.objects.get_or_create(user=user)[0].key)
"""
# The consent bench's patient has the ABHA number the Scan & Share bench gives its first citizen: move it.
CONSENT_PATIENT = "91000000000000"
assert consent.SETUP.count(CONSENT_PATIENT) == 2


class Client:
    """One simulated user agent: picks an operation by weight, runs it, records (endpoint, seconds, error)."""

    def __init__(self, data, index, deadline, warm_until):
        self.data, self.index, self.deadline, self.warm_until = data, index, deadline, warm_until
        self.rng = random.Random(index)
        self.results = []
        self.errors = []
        keys = data["scan_keys"][index :: data["clients"]]
        self.scan_plan = [(key, (round_ + index) % 20 + 1) for round_ in range(20) for key in keys]
        self.serial = 0
        self.sms = None

    def call(self, endpoint, method, path, body=None, *, key=None, expect=(200,), headers=None):
        started = time.perf_counter()
        wall = time.time()
        try:
            status, _headers, content = request(self.data["port"], method, path, body, key=key, headers=headers)
            error = None if status in expect else f"{status} {content[:120]!r}"
        except OSError as exc:
            status, content, error = 0, b"", repr(exc)
        if wall >= self.warm_until:
            self.results.append((endpoint, time.perf_counter() - started, error is not None))
            if error and len(self.errors) < 3:
                self.errors.append(f"{endpoint}: {error}")
        if error:
            raise RuntimeError(error)
        return content

    def scan(self):
        key, counter = self.scan_plan[self.serial % len(self.scan_plan)]
        body = {"hip_id": scan_share.HIP_ID, "counter_id": f"OPD{counter}"}
        self.call("scan", "POST", "/api/v1/scan-share/", body, key=key, expect=(200, 201))

    def lookup(self):
        number = self.rng.choice(self.data["numbers"])
        identifier = number if self.rng.random() < 0.5 else f"{number}@sbx"
        path = f"/api/v1/abha/lookup/?id={quote(identifier)}"
        self.call("lookup", "GET", path, key=self.data["staff_key"])

    def dashboard(self):
        path = self.rng.choice(DASHBOARD)
        self.call("dashboard", "GET", path, key=self.data["state_key"])

    def records(self):
        path = f"/api/v1/consents/artefacts/{self.data['artefact']}/records/"
        self.call("records", "GET", path, key=self.data["doctor_key"])

    def enrol(self):
        import redis

        if self.sms is None:
            self.sms = redis.Redis.from_url(self.data["sms_redis"])
        mobile = f"7{self.index:04d}{self.serial % 100000:05d}"
        # Each citizen comes from their own address (NUM_PROXIES=1), so the per-IP OTP limit stays at its rate.
        ip = {"X-Forwarded-For": f"10.{self.index % 256}.{self.serial // 256 % 256}.{self.serial % 256}"}
        otp_body = {"mobile": mobile, "consent_version": "2025-04"}
        content = self.call("enrol otp", "POST", "/api/v1/abha/enrolment/otp/", otp_body, expect=(201,), headers=ip)
        txn_id = json.loads(content)["txn_id"]
        text = self.sms.get(f"bench-sms:{mobile}").decode()
        otp = next(word for word in text.split() if word.isdigit() and len(word) == 6)
        verify = {"txn_id": txn_id, "otp": otp}
        self.call("enrol verify", "POST", "/api/v1/abha/enrolment/verify/", verify, headers=ip)
        district = enrolment.DISTRICTS[self.serial % len(enrolment.DISTRICTS)]
        complete = {"txn_id": txn_id, **enrolment.DETAILS, "district_lgd": district}
        self.call("enrol complete", "POST", "/api/v1/abha/enrolment/complete/", complete, expect=(201,), headers=ip)

    def run(self):
        operations = list(WEIGHTS)
        weights = [WEIGHTS[name] for name in operations]
        while time.time() < self.deadline:
            self.serial += 1
            operation = self.rng.choices(operations, weights)[0]
            try:
                getattr(self, operation)()
            except RuntimeError:
                pass  # a failed request, already counted by call()
            except (AttributeError, StopIteration, ValueError, KeyError) as error:  # e.g. no OTP SMS arrived
                if time.time() >= self.warm_until:
                    self.results.append((operation, 0.0, True))
                    if len(self.errors) < 3:
                        self.errors.append(f"{operation}: {error!r}"[:300])


def _process(args):
    data, indexes, deadline, warm_until = args
    clients = [Client(data, index, deadline, warm_until) for index in indexes]
    threads = [threading.Thread(target=client.run) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [row for client in clients for row in client.results], [e for client in clients for e in client.errors]


def _pct(values, q):
    return values[min(len(values) - 1, int(len(values) * q))] * 1000 if values else float("nan")


def _prepare(stack, args):
    stack.prepare()
    stack.manage("generate_scale", "--abha", str(args.accounts), "--facilities", "10")
    staff_key, numbers = stack.manage("shell", "-v0", "-c", abha_lookup.SETUP, capture=True).strip().splitlines()[-2:]
    stack.extra_env.update({"HIP_ID": scan_share.HIP_ID, "CITIZENS": str(args.citizens)})
    seeded = stack.manage("shell", "-v0", "-c", scan_share.SEED, capture=True)
    scan_keys = next(line for line in seeded.splitlines() if line.startswith("KEYS ")).split()[1].split(",")
    setup = f"RECORDS = {args.records}\n" + consent.SETUP.replace(CONSENT_PATIENT, "91999999999999")
    doctor_key, artefact = stack.manage("shell", "-v0", "-c", setup, capture=True).strip().splitlines()[-2:]
    state_key = stack.manage("shell", "-v0", "-c", STATE_OFFICIAL, capture=True).strip().splitlines()[-1]
    return {
        "staff_key": staff_key,
        "numbers": numbers.split(","),
        "scan_keys": scan_keys,
        "doctor_key": doctor_key,
        "artefact": artefact,
        "state_key": state_key,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--processes", type=int, default=4, help="client processes; the clients are their threads")
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--warmup", type=float, default=5, help="seconds at the start not counted")
    parser.add_argument("--accounts", type=int, default=200000, help="ABHA accounts made by generate_scale")
    parser.add_argument("--citizens", type=int, default=2000, help="Scan & Share citizens (20 counters each)")
    parser.add_argument("--records", type=int, default=20, help="records under the consent artefact")
    args = parser.parse_args()

    stack = Stack(
        name="bench_load",
        extra_env={
            "SMS_BACKEND": "bench.enrolment_support.urls.RedisSmsBackend",
            "NUM_PROXIES": "1",
            # A handful of staff tokens stand for a whole state's staff: their per-user rate is not what is measured.
            "API_USER_RATE": "1000000/minute",
        },
    )
    try:
        stack.start_services()
        prepared = time.perf_counter()
        data = _prepare(stack, args)
        print(f"Data ready in {time.perf_counter() - prepared:.0f} s: {args.accounts:,} ABHA accounts (generate_scale)")
        stack.start_web()
        stack.start_worker()
        data.update({"port": stack.port, "clients": args.clients, "sms_redis": stack.env["BENCH_SMS_REDIS_URL"]})
        load_before = os.getloadavg()[0]
        started = time.time()
        warm_until, deadline = started + args.warmup, started + args.warmup + args.seconds
        groups = [list(range(args.clients))[p :: args.processes] for p in range(args.processes)]
        with multiprocessing.Pool(args.processes) as pool:
            outputs = pool.map(_process, [(data, group, deadline, warm_until) for group in groups if group])
        measured = time.time() - warm_until
        load_after = os.getloadavg()[0]
        alive = all(process.poll() is None for process in stack.processes.values())
    except Exception:
        print(f"--- web log tail ---\n{stack.log_tail('web')}", file=sys.stderr)
        raise
    finally:
        stack.stop()

    rows = [row for output in outputs for row in output[0]]
    errors = [error for output in outputs for error in output[1]]
    by_endpoint: dict[str, list] = {}
    for endpoint, seconds, failed in rows:
        by_endpoint.setdefault(endpoint, []).append((seconds, failed))
    print(
        f"\nLoad mix, {args.clients} clients ({args.processes} processes x threads), {args.seconds:.0f} s after "
        f"{args.warmup:.0f} s warm-up; gunicorn 2 sync workers, production settings, PostgreSQL, Redis, Celery worker"
    )
    print(f"  {'endpoint':15s} {'count':>7s} {'errors':>6s} {'p50 ms':>7s} {'p95 ms':>7s} {'p99 ms':>7s}")
    order = ["scan", "lookup", "dashboard", "records", "enrol otp", "enrol verify", "enrol complete"]
    for endpoint in sorted(by_endpoint, key=lambda name: order.index(name) if name in order else 99):
        values = sorted(seconds for seconds, _ in by_endpoint[endpoint])
        failed = sum(1 for _, f in by_endpoint[endpoint] if f)
        print(
            f"  {endpoint:15s} {len(values):7d} {failed:6d} {_pct(values, 0.5):7.1f} {_pct(values, 0.95):7.1f} "
            f"{_pct(values, 0.99):7.1f}"
        )
    total_errors = sum(1 for *_, failed in rows if failed)
    rate = len(rows) / measured
    print(f"  total {len(rows)} requests in {measured:.1f} s = {rate:.1f} requests/s, errors {total_errors}")
    print("  (the client threads share the machine's 2 cores with gunicorn, PostgreSQL, Redis and the worker;")
    print(
        f"  1-minute load average {load_before:.1f} before the run, {load_after:.1f} at its end, other work included)"
    )
    for error in errors[:5]:
        print(f"  error: {error}", file=sys.stderr)
    if total_errors or errors or not alive:
        sys.exit(f"Errors under load: {total_errors} failed requests, server processes alive: {alive}")


if __name__ == "__main__":
    main()
