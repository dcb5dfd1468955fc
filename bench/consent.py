"""Reading a granted consent artefact that covers 100 records (issue 5: p95 under 100 ms).

Creates its own PostgreSQL database on the server in DATABASE_URL (make bench starts one), adds a
patient with 100 records at one facility (the real ABDM prescription bundle, ~19 KB each), a doctor
at another facility and a granted artefact covering all 100, serves it with gunicorn (2 sync
workers, production settings) and asks GET /api/v1/consents/artefacts/{uuid}/records/ as the doctor.
Every read checks the artefact, writes its audit row and returns each record's summary and raw
bundle (about 2 MB of JSON). Clients share the machine's 2 cores with the server and PostgreSQL.

    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python bench/consent.py --reads 300
"""

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
SETUP = """
import datetime as dt, json
from django.utils import timezone
from rest_framework.authtoken.models import Token
from abha.models import AbhaAccount, AbhaAddress
from core.models import User
from facilities.models import Facility, FacilityMembership
from records import services
from records.models import CareContext, HealthRecord

def facility(name, number):
    return Facility.objects.create(
        name=name, status="verified", facility_id=f"IN24{number:08d}", state_id=24, district_id=443,
        pincode="364001", facility_type="hospital", ownership="P", systems_of_medicine=["modern"],
        service_type="opd_ipd", region="urban", contact_mobile=f"98{number:08d}",
    )

source, requester = facility("Bench Source Hospital", 1), facility("Bench Requester Hospital", 2)
doctor = User.objects.create(username="bench_doctor", role="doctor", first_name="Bench", last_name="Doctor")
FacilityMembership.objects.create(user=doctor, facility=requester, role="doctor")
citizen = User.objects.create(username="91000000000000", role="citizen")
patient = AbhaAccount.objects.create(
    user=citizen, abha_number="91000000000000", first_name="Bench", gender="F", year_of_birth=1990,
    mobile="9876543210", state_id=24, district_id=443, consent_version="2025-04",
)
AbhaAddress.objects.create(account=patient, local="benchpatient", is_primary=True)
bundle = json.loads(open("records/fixtures/fhir/Bundle-Prescription.json").read())
from records.fhir import summarize
summary = summarize(bundle)
contexts = CareContext.objects.bulk_create(
    CareContext(facility=source, patient=patient, reference=f"B-{n}", display="OPD", date=dt.date(2025, 2, 1))
    for n in range(RECORDS)
)
HealthRecord.objects.bulk_create(
    HealthRecord(care_context=c, facility=source, patient=patient, hi_type="Prescription", record_key=f"b-{n}",
                 record_date=c.date, title="Prescription record", bundle=bundle, summary=summary, bundle_sha256=str(n))
    for n, c in enumerate(contexts)
)
request = services.consent_request_create(
    actor=doctor, patient_identifier="benchpatient@sbx", purpose="CAREMGT", hi_types=["Prescription"],
    date_from=dt.date(2025, 1, 1), date_to=dt.date(2025, 12, 31), data_erase_at=timezone.now() + dt.timedelta(days=1),
)
_r, [artefact] = services.consent_grant(actor=citizen, request_uuid=request.uuid)
print(Token.objects.get_or_create(user=doctor)[0].key)
print(artefact.uuid)
"""


def manage(env, *args, capture=False):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, text=True, capture_output=capture
    )


def timed(url, token, reads, clients):
    latencies, statuses, sizes, lock = [], [], [], threading.Lock()

    def worker(count):
        for _ in range(count):
            request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})
            started = time.perf_counter()
            with urllib.request.urlopen(request, timeout=30) as response:
                body = response.read()
                status = response.status
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses.append(status)
                sizes.append(len(body))

    threads = [threading.Thread(target=worker, args=(reads // clients,)) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    assert set(statuses) == {200}, set(statuses)
    pick = lambda q: latencies[min(len(latencies) - 1, int(len(latencies) * q))] * 1000  # noqa: E731 - local
    return pick(0.5), pick(0.95), pick(0.99), len(latencies), sizes[0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100)
    parser.add_argument("--reads", type=int, default=300)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not url.startswith("postgres") or not redis_url:
        sys.exit("Set DATABASE_URL (PostgreSQL) and REDIS_URL (make bench starts both).")
    import psycopg

    parts = urlparse(url)
    admin_url = urlunparse(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS bench_consent")
        conn.execute("CREATE DATABASE bench_consent")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "DATABASE_URL": urlunparse(parts._replace(path="/bench_consent")),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "AADHAAR_HASH_KEY": secrets.token_urlsafe(32),
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "API_USER_RATE": "100000000/minute",
        "LOG_LEVEL": "ERROR",
        "SMS_BACKEND": "console",
        "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL", redis_url),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    manage(env, "migrate", "-v0")
    lines = manage(env, "shell", "-c", f"RECORDS = {args.records}\n" + SETUP, capture=True).stdout.strip().splitlines()
    token, artefact = lines[-2], lines[-1]
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
    records_url = f"{base}/api/v1/consents/artefacts/{artefact}/records/"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        check = urllib.request.Request(records_url, headers={"Authorization": f"Token {token}"})
        with urllib.request.urlopen(check, timeout=30) as response:
            assert json.loads(response.read())["count"] == args.records
        timed(records_url, token, 20, 1)  # warm-up
        results = {
            "1 client": timed(records_url, token, args.reads, 1),
            "2 clients": timed(records_url, token, args.reads, 2),
        }
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(
        f"\nRead a granted artefact covering {args.records} records (~{results['1 client'][4] / 1e6:.1f} MB JSON), "
        "gunicorn 2 sync workers"
    )
    for label, (p50, p95, p99, count, _size) in results.items():
        print(f"  {label:9s} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   p99 {p99:6.1f} ms   n={count}")
    print("(goal: p95 < 100 ms; every read is checked and audited; clients share the 2 cores with the server)")
    if not args.keep:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute("DROP DATABASE bench_consent")


if __name__ == "__main__":
    main()
