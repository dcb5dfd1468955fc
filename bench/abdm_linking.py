"""Linking on ABDM at scale: a linking job uploaded to the portal (gunicorn), its rows linked locally by a Celery
worker, then linked on the local ABDM sandbox through the outbox (link token per patient and HIP, link calls of up
to 20 care contexts, one context notify per call), the sandbox calling the portal back. Measures upload -> local job
done and upload -> every care context confirmed by ABDM, and counts the calls of each kind.

Creates its own databases on the server in DATABASE_URL (portal: bench_abdm_linking, sandbox: bench_abdm_sandbox),
fills the portal with ABHA accounts (generate_scale) and makes the sandbox know them (its bulk helper), starts the
sandbox, gunicorn and one Celery worker with --workers processes (the outbox's senders).

    DATABASE_URL=postgres://... REDIS_URL=redis://... CELERY_BROKER_URL=redis://... \\
        .venv/bin/python bench/abdm_linking.py --patients 10000 --visits 20 --workers 4
"""

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlparse, urlunparse

sys.path.insert(0, str(Path(__file__).resolve().parent))
import linking  # noqa: E402 - the record-linking bench's helpers
from linking import FACILITY_ID, ROOT, free_port, manage, request  # noqa: E402

SEED = """
import json, os
from rest_framework.authtoken.models import Token
from abdm import bridge_services, client
from core.enums import Role
from core.models import User
from facilities.enums import FacilityStatus, MembershipRole
from facilities.models import Facility, FacilityMembership
hip_id = os.environ["FACILITY_ID"]
client.hfr_request("POST", bridge_services.ADD_UPDATE_PATH,
                   json=bridge_services.hip_service_body(facility_id=hip_id, name="Bench Medical College Hospital",
                                                         active=True))
client.gateway_request("PATCH", "/api/hiecm/gateway/v3/bridge/url", json={"url": os.environ["ABDM_BRIDGE_URL"]})
facility = Facility.objects.create(
    name="Bench Medical College Hospital", facility_id=hip_id, status=FacilityStatus.VERIFIED,
    ownership="G", facility_type="hospital", systems_of_medicine=["modern"], service_type="opd_ipd",
    state_id=24, district_id=443, address="Bench Road", pincode="364001", region="urban", contact_mobile="9800000000",
)
user = User.objects.create(username="bench-staff", role=Role.FACILITY_STAFF)
FacilityMembership.objects.create(facility=facility, user=user, role=MembershipRole.STAFF)
print("KEY", Token.objects.create(user=user).key)
"""

ACCOUNTS = """
import json, os
from abha.models import AbhaAccount
rows = AbhaAccount.objects.order_by("pk").values_list(
    "abha_number", "first_name", "middle_name", "last_name", "gender", "year_of_birth", "mobile"
)[:int(os.environ["BENCH_PATIENTS"])]
print(json.dumps(list(rows)))
"""


def _post(url: str, body: dict) -> dict:
    data = json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=300) as response:  # noqa: S310 - the local sandbox
        return json.loads(response.read() or b"{}")


def _wait_http(url: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 - local
            return
        except OSError as error:
            if getattr(error, "code", None):  # an HTTP error: the server answers
                return
            time.sleep(0.3)
    raise SystemExit(f"{url} did not come up")


def _counts(url: str) -> dict:
    import psycopg

    with psycopg.connect(url) as conn:
        kinds = dict(conn.execute("SELECT kind, count(*) FROM abdm_outboxmessage GROUP BY kind").fetchall())
        states = dict(
            conn.execute("SELECT status, count(*) FROM records_abdmcarecontextlink GROUP BY status").fetchall()
        )
    return {"calls": kinds, "links": states}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=10000)
    parser.add_argument("--visits", type=int, default=20, help="care contexts per patient (ABDM takes 20 a call)")
    parser.add_argument("--workers", type=int, default=4, help="Celery worker processes (the outbox's senders)")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres") or not os.environ.get("REDIS_URL"):
        sys.exit("Set DATABASE_URL (PostgreSQL), REDIS_URL and CELERY_BROKER_URL (make bench starts them).")
    parts = urlparse(url)
    import psycopg

    with psycopg.connect(urlunparse(parts._replace(path="/postgres")), autocommit=True) as conn:
        for name in ("bench_abdm_linking", "bench_abdm_sandbox"):
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute("CREATE DATABASE bench_abdm_linking")
    portal_url = urlunparse(parts._replace(path="/bench_abdm_linking"))
    work = Path(tempfile.mkdtemp(prefix="bench-abdm-linking-"))
    sandbox_port, web_port = free_port(), free_port()
    sandbox = f"http://127.0.0.1:{sandbox_port}"
    sandbox_env = {
        **os.environ,
        "ABDM_SANDBOX_DATABASE_URL": urlunparse(parts._replace(path="/bench_abdm_sandbox")),
        "ABDM_SANDBOX_SMS_FILE": str(work / "sms.jsonl"),
    }
    sandbox_env.pop("DJANGO_SETTINGS_MODULE", None)
    sandbox_log = (work / "sandbox.log").open("wb")
    sandbox_process = subprocess.Popen(
        [sys.executable, "-m", "abdm_sandbox", "serve", "--port", str(sandbox_port)], cwd=ROOT, env=sandbox_env,
        stdout=sandbox_log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": portal_url,
        "MEDIA_ROOT": str(work / "media"),
        "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL", os.environ["REDIS_URL"]),
        "FACILITY_ID": FACILITY_ID,
        "LOG_LEVEL": "WARNING",
        "ABDM_GATEWAY_URL": sandbox,
        "ABDM_ABHA_URL": sandbox + "/abha/api",
        "ABDM_HFR_URL": sandbox + "/v4/int",
        "ABDM_BRIDGE_URL": f"http://127.0.0.1:{web_port}",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    web = worker = None
    try:
        _wait_http(sandbox + "/api/hiecm/gateway/v3/.well-known/openid-configuration")
        manage(env, "migrate", "-v0")
        manage(env, "generate_scale", "--abha", str(args.patients), capture=True)
        env["BENCH_PATIENTS"] = str(args.patients)
        accounts = json.loads(manage(env, "shell", "-c", ACCOUNTS, capture=True).stdout.strip().splitlines()[-1])
        made = _post(sandbox + "/sandbox/v1/hfr/facilities", {
            "facilityName": "Bench Medical College Hospital", "ownershipCode": "G", "stateLGDCode": "24",
            "stateName": "GUJARAT", "districtLGDCode": "443", "districtName": "Bhavnagar"})  # fmt: skip
        env["FACILITY_ID"] = made["facilities"][0]["facilityId"]
        started = time.perf_counter()
        for start in range(0, len(accounts), 10000):
            _post(sandbox + "/sandbox/v1/abha/accounts/bulk", {"accounts": [
                {"abhaNumber": number, "firstName": " ".join(p for p in (first, middle) if p), "lastName": last,
                 "gender": gender if gender in ("M", "F", "O") else "O", "yearOfBirth": year, "mobile": mobile}
                for number, first, middle, last, gender, year, mobile in accounts[start:start + 10000]]})  # fmt: skip
        print(f"{len(accounts):,} ABHA accounts in the portal and the sandbox ({time.perf_counter() - started:.0f} s)")
        batch = work / "batch.csv"
        with batch.open("w", newline="") as out:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(["abha_number", "abha_address", "mobile", "name", "gender", "year_of_birth",
                             "care_context_reference", "care_context_display", "visit_date", "hi_type"])  # fmt: skip
            for index, (number, *_rest) in enumerate(accounts):
                for visit in range(args.visits):
                    writer.writerow([number, "", "", "", "", "", f"P{index}-V{visit}", f"OPD visit {visit + 1}",
                                     f"2025-{1 + visit % 12:02d}-{1 + visit % 28:02d}", "OPConsultation"])  # fmt: skip
        rows = len(accounts) * args.visits
        key = manage(env, "shell", "-c", SEED, capture=True).stdout.split("KEY ")[1].split()[0]
        web_log = (work / "web.log").open("wb")
        web = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi", "--workers", "2", "--threads", "8",
             "--bind", f"127.0.0.1:{web_port}", "--no-control-socket", "--timeout", "120"],
            cwd=ROOT, env=env, stdout=web_log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        _wait_http(f"http://127.0.0.1:{web_port}/healthz")
        worker_log = (work / "worker.log").open("wb")
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel", "WARNING", "--concurrency",
             str(args.workers), "--pool", "prefork", "--without-mingle", "--without-gossip",
             "--hostname", f"bench-{uuid.uuid4().hex[:6]}@%h"],
            cwd=ROOT, env=env, stdout=worker_log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        time.sleep(4)
        print(f"load average before (1/5/15 min): {' '.join(f'{value:.2f}' for value in os.getloadavg())}")
        t0 = time.perf_counter()
        linking.FACILITY_ID = env["FACILITY_ID"]  # its upload names the facility by this ID: the sandbox's HFR ID
        created = linking.upload(web_port, key, batch)
        local = None
        while time.perf_counter() - t0 < 3600:
            _status, data = request(web_port, "GET", created["url"], key)
            job = json.loads(data)
            if local is None and job["status"] in ("done", "failed"):
                local = time.perf_counter() - t0
                print(f"local job {job['status']}: {job['total']:,} rows in {local:.1f} s "
                      f"({job['total'] / local:,.0f} rows/s); linked {job['linked']:,}")  # fmt: skip
            if local is not None and job["abdm"]["waiting"] == 0:
                break
            time.sleep(0.5)
        total = time.perf_counter() - t0
        counts = _counts(portal_url)
        calls = counts["calls"]
        print(f"linked on ABDM: {job['abdm']['linked']:,} of {job['abdm']['total']:,} care contexts "
              f"({job['abdm']['failed']:,} refused) in {total:.1f} s from the upload "
              f"({job['abdm']['linked'] / max(total, 0.001):,.0f} care contexts/s, "
              f"{args.workers} worker processes)")  # fmt: skip
        link_calls = calls.get("m2.link_care_context", 0)
        print(f"calls: link token {calls.get('m2.link_token', 0):,}, care-context link {link_calls:,} "
              f"(rows / 20 = {rows // 20:,}), context notify {calls.get('m2.context_notify', 0):,}")  # fmt: skip
        stats = json.loads(urllib.request.urlopen(  # noqa: S310 - the local sandbox
            f"{sandbox}/sandbox/v1/linking/stats?hipId={env['FACILITY_ID']}", timeout=30).read())  # fmt: skip
        print(f"sandbox: {stats['careContexts']:,} care contexts linked, each once; links by state {counts['links']}")
        print(f"load average after (1/5/15 min): {' '.join(f'{value:.2f}' for value in os.getloadavg())}")
        # Every row linked locally to an ABHA (the file's deactivated account's rows are refused locally) must be
        # linked on ABDM once: each row here is its own care context.
        expected = job["linked"]
        if job["abdm"]["linked"] != expected or stats["careContexts"] != expected or link_calls > rows // 20:
            sys.exit(1)
    finally:
        for process in (worker, sandbox_process):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait()
        if web is not None:
            web.terminate()
            web.wait()


if __name__ == "__main__":
    main()
