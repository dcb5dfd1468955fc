"""Fault injection against the production shape: what the portal does while PostgreSQL restarts, while Redis (cache
and Celery broker) is down for 30 s, and when a Celery worker is SIGKILLed mid-task; and that it recovers without
a restart of gunicorn or the worker.

Starts its own throwaway PostgreSQL and Redis (scripts/test_services.sh), gunicorn (2 sync workers, production
settings) and a Celery worker (2 processes), all on loopback, then:

1. PostgreSQL restart: client processes take Scan & Share tokens (POST /api/v1/scan-share/ over 20 counters);
   PostgreSQL is stopped (fast shutdown) mid-run and started again. Every answer must be 200/201 or a 503 with
   Retry-After in the API's error shape; afterwards no duplicate token numbers, every counter numbered 1..n
   without gaps, every token a client was given is in the database, and the worker runs tasks again.
2. Redis stopped for 30 s during the same load: scans go on (the API rate throttles stay open without the cache),
   an OTP request gets 503 + Retry-After (its rate limit stays closed), /healthz says 503; afterwards the same
   token checks, and the worker reconnects to the broker and runs tasks again. A linking upload meanwhile is
   accepted (202) and finished by the resume sweep.
   2b. Redis hung (SIGSTOP) for 20 s: connections are accepted but nothing answers; requests must not hang until
   gunicorn kills its worker (REDIS_TIMEOUT bounds each wait), /healthz and OTP answer 503, scans go on.
3. SIGKILL of the worker's pool processes while they run a facility bulk upload: the main process requeues the
   task (tasks ack late, reject on worker loss) and the job finishes with every row exactly once.
   3b. SIGKILL of the whole worker (main process and pool) mid-upload, then a new worker started as a supervisor
   would: Redis redelivers the unacknowledged task after CELERY_VISIBILITY_TIMEOUT (60 s here) and the job
   finishes with every row exactly once.
4. Record linking (PostgreSQL restart during a linking job, SIGKILL mid-chunk): see `scenario_linking`.

Prints the figures; exits non-zero when a check fails. The clients share the 2 cores with the server, PostgreSQL,
Redis and the worker.

    .venv/bin/python bench/faults.py                      # about 5 minutes on an idle 2-core machine
    .venv/bin/python bench/faults.py --clients 4 --scan-seconds 10 --redis-down 10 --bulk-rows 10000 \
        --skip worker --linking-rows 50000                 # shorter
    .venv/bin/python bench/faults.py --skip pg redis pool worker   # only the linking job
"""

import argparse
import http.client
import importlib.util
import json
import multiprocessing
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402 - after the path set-up, like the bench modules below

from bench.enrolment_support.stack import Stack, request  # noqa: E402 - needs ROOT on sys.path
from bench.scan_share import HIP_ID, SEED  # noqa: E402 - the Scan & Share bench's facility, counters, citizens

SETUP_BULK = """
import os
from django.core.files.uploadedfile import SimpleUploadedFile
from core.enums import Role
from core.models import User
from facilities.services.bulk import COLUMNS, bulk_upload_create
rows, tag = int(os.environ["BULK_ROWS"]), os.environ["BULK_TAG"]
lines = [",".join(COLUMNS)] + [
    f",Fault {tag} PHC {n},phc,G,443,Village {n},364001,98{n:08d},6,modern,opd,rural,21.76,72.15" for n in range(rows)
]
official = User.objects.create(username=f"fault_official_{tag}", role=Role.STATE_OFFICIAL, is_staff=True)
upload = bulk_upload_create(
    actor=official, uploaded_file=SimpleUploadedFile("fault.csv", ("\\n".join(lines) + "\\n").encode())
)
print("UPLOAD", upload.pk)
"""


# --- Clients ------------------------------------------------------------------------------------


def _scan_client(args):
    """Its citizens scan counter after counter until the deadline; a 503 is retried after a short pause.

    Returns events (sent, answered, status, retry_after, error_code, token) with wall-clock times.
    """
    port, keys, index, deadline = args
    plan = [(key, (round_ + index) % 20 + 1) for round_ in range(20) for key in keys]
    events, step = [], 0
    while time.time() < deadline and step < len(plan):
        key, counter = plan[step]
        sent = time.time()
        try:
            status, headers, body = request(
                port, "POST", "/api/v1/scan-share/", {"hip_id": HIP_ID, "counter_id": f"OPD{counter}"}, key=key
            )
        except OSError as error:
            events.append((sent, time.time(), 0, None, type(error).__name__, None))
            time.sleep(0.2)
            continue
        token, code = None, None
        if status in (200, 201):
            data = json.loads(body)
            token = (data["uuid"], data["counter"]["code"], data["token_number"])
            step += 1
        else:
            try:
                code = json.loads(body)["error"]["code"]
            except (ValueError, KeyError, TypeError):
                code = body[:80].decode(errors="replace")
            if status == 503:
                time.sleep(0.2)  # the same citizen tries again (a real client would wait Retry-After)
            else:
                step += 1
        events.append((sent, time.time(), status, headers.get("retry-after"), code, token))
    return events


def _start_clients(pool, port, keys, clients, seconds):
    deadline = time.time() + seconds
    slices = [keys[i::clients] for i in range(clients)]
    return pool.map_async(_scan_client, [(port, keys_, i, deadline) for i, keys_ in enumerate(slices)])


# --- Checks -------------------------------------------------------------------------------------


class Checks:
    def __init__(self):
        self.failed = []

    def __call__(self, label: str, ok: bool, detail: str = ""):
        print(f"  [{'ok' if ok else 'FAIL'}] {label}{': ' + detail if detail else ''}")
        if not ok:
            self.failed.append(label)


def _summarise(events, down_at, up_at, check):
    ok = [e for e in events if e[2] in (200, 201)]
    unavailable = [e for e in events if e[2] == 503]
    proper = [e for e in unavailable if e[3] and e[4] == "unavailable"]
    other = [e for e in events if e[2] not in (200, 201, 503)]
    during = [e for e in ok if e[0] >= down_at and e[1] <= up_at]
    after = sorted(e[1] for e in ok if e[0] >= up_at)
    last_503 = max((e[1] for e in unavailable), default=None)
    elapsed = max(e[1] for e in events) - min(e[0] for e in events) if events else 0
    print(f"  requests {len(events)} in {elapsed:.1f} s: {len(ok)} tokens (200/201), {len(unavailable)} x 503,")
    print(f"  {len(other)} other; {len(during)} tokens issued while the service was down")
    if last_503 is not None:
        print(f"  last 503 answered {last_503 - up_at:+.2f} s after the service was back")
    if after:
        print(f"  first token after the service was back: {after[0] - up_at:+.2f} s")
    codes = sorted({(e[2], e[4]) for e in other})
    check("every answer is a token or a 503", not other, f"others: {codes[:5]}" if other else "")
    check("every 503 has Retry-After and code 'unavailable'", len(proper) == len(unavailable))
    check("tokens are issued again after recovery", bool(after))
    return [e[5] for e in ok]


def _check_tokens(stack, acknowledged, check):
    with psycopg.connect(stack.database_url) as conn:
        total, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT (counter_id, day, number)) FROM scanshare_scantoken"
        ).fetchone()
        rows = conn.execute(
            "SELECT counter_id, day, count(*), count(DISTINCT number), min(number), max(number) "
            "FROM scanshare_scantoken GROUP BY counter_id, day"
        ).fetchall()
        sequence_rows = conn.execute("SELECT counter_id, day, last FROM scanshare_scansequence")
        sequences = {(c, d): last for c, d, last in sequence_rows}
        uuids = sorted({token[0] for token in acknowledged})
        found = conn.execute(
            "SELECT count(*) FROM scanshare_scantoken WHERE uuid = ANY(%s::uuid[])", [uuids]
        ).fetchone()
    gap_free = all(
        n == distinct_ == high and low == 1 and sequences.get((c, d)) == n for c, d, n, distinct_, low, high in rows
    )
    check("no duplicate token numbers", total == distinct, f"{total} tokens in the database")
    check("every counter numbered exactly 1..n, sequence row = n", gap_free, f"{len(rows)} counters")
    check("every token a client was given is in the database", found[0] == len(uuids), f"{found[0]}/{len(uuids)}")


def _probe(stack, label, method, path, body=None, *, expect_status, check, expect_html=False, expect_code=None):
    status, headers, content = request(stack.port, method, path, body, headers={"Accept-Language": "hi"})
    fine = status == expect_status and (status != 503 or headers.get("retry-after"))
    if expect_html:
        text = content.decode(errors="replace")
        fine = fine and headers.get("content-type", "").startswith("text/html") and "Traceback" not in text
        fine = fine and 'lang="hi"' in text
    if expect_code:
        fine = fine and json.loads(content)["error"]["code"] == expect_code
    detail = f"{status}, Retry-After {headers.get('retry-after')}"
    check(f"{label}: {expect_status}", bool(fine), detail)


def _wait_healthy(stack, since, timeout=90):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if request(stack.port, "GET", "/healthz", timeout=5)[0] == 200:
                return time.time() - since
        except OSError:
            pass
        time.sleep(0.1)
    return None


# --- Scenarios ----------------------------------------------------------------------------------


def scenario_postgres_restart(stack, pool, keys, args, check):
    print(f"\n1. PostgreSQL stopped for {args.pg_down:.0f} s during Scan & Share ({args.clients} client processes)")
    pids_before = (stack.processes["web"].pid, stack.processes["worker"].pid)
    result = _start_clients(pool, stack.port, keys, args.clients, args.scan_seconds)
    time.sleep(args.warm)
    down_at = time.time()
    stack.pg_stop()
    _probe(stack, "/healthz while down", "GET", "/healthz", expect_status=503, check=check)
    _probe(
        stack, "a page while down", "GET", "/facilities/directory/", expect_status=503, check=check, expect_html=True
    )
    time.sleep(max(0.0, args.pg_down - (time.time() - down_at)))
    stack.pg_start()
    up_at = time.time()
    healthy = _wait_healthy(stack, up_at)
    events = [event for events in result.get() for event in events]
    print(f"  PostgreSQL down {up_at - down_at:.1f} s; /healthz 200 again after {healthy or float('nan'):.2f} s")
    check("/healthz recovers", healthy is not None)
    acknowledged = _summarise(events, down_at, up_at, check)
    _check_tokens(stack, acknowledged, check)
    took = stack.worker_roundtrip("faults-after-pg")
    check("the worker runs a task after the restart", took is not None, f"{took:.1f} s" if took else "timed out")
    same = pids_before == (stack.processes["web"].pid, stack.processes["worker"].pid)
    check(
        "gunicorn and the worker were not restarted", same and all(p.poll() is None for p in stack.processes.values())
    )


def scenario_redis_down(stack, pool, keys, args, check):
    print(f"\n2. Redis (cache and broker) stopped for {args.redis_down:.0f} s during Scan & Share")
    linking = _linking_available()
    if linking:  # an upload while the broker is down must stand (202), not be a 503 after its commit
        key = stack.manage("shell", "-v0", "-c", STATE_OFFICIAL, capture=True).strip().splitlines()[-1]
        path, facts = _linking_file(stack, 2000, "RDS")
    result = _start_clients(pool, stack.port, keys, args.clients, args.warm + args.redis_down + args.after)
    time.sleep(args.warm)
    down_at = time.time()
    stack.redis_stop()
    if linking:
        status, _headers, body = _upload(stack.port, key, "/api/v1/linking-jobs/", {"facility": HIP_ID}, path)
        check("a linking upload while the broker is down is accepted (202)", status == 202, f"{status} {body[:100]!r}")
        with psycopg.connect(stack.database_url) as conn:
            stored = conn.execute(
                "SELECT count(*) FROM records_linkingjob WHERE original_name = %s", [path.name]
            ).fetchone()[0]
        print(f"  linking jobs stored for that upload: {stored} (a 503 after the commit invites a duplicate upload)")
    otp = {"mobile": "9876500001", "consent_version": "2025-04"}
    _probe(stack, "/healthz while down", "GET", "/healthz", expect_status=503, check=check)
    _probe(
        stack, "OTP request while down (rate limit stays closed)", "POST", "/api/v1/abha/enrolment/otp/", otp,
        expect_status=503, check=check, expect_code="unavailable",
    )  # fmt: skip
    time.sleep(max(0.0, args.redis_down - (time.time() - down_at)))
    stack.redis_start()
    up_at = time.time()
    healthy = _wait_healthy(stack, up_at)
    events = [event for events in result.get() for event in events]
    print(f"  Redis down {up_at - down_at:.1f} s; /healthz 200 again after {healthy or float('nan'):.2f} s")
    check("/healthz recovers", healthy is not None)
    acknowledged = _summarise(events, down_at, up_at, check)
    _check_tokens(stack, acknowledged, check)
    _probe(
        stack, "OTP request after recovery", "POST", "/api/v1/abha/enrolment/otp/", otp, expect_status=201, check=check
    )
    took = stack.worker_roundtrip("faults-after-redis")
    check("the worker reconnects to the broker and runs a task", took is not None, f"{took:.1f} s" if took else "")
    if linking and status == 202:
        job = _wait_job(stack, key, json.loads(body)["url"], args.linking_timeout)
        print(f"  the linking job uploaded during the outage: {job.get('status')}, {time.time() - up_at:.0f} s after")
        got = (job.get("status"), job.get("linked"), job.get("failed"))
        expected = ("done", facts["linked"], sum(facts["bad"].values()))
        check("... and is completed by the resume sweep", got == expected, f"{got} vs {expected}")


def scenario_redis_hung(stack, pool, keys, args, check):
    print(f"\n2b. Redis hung (SIGSTOP: connections accepted, nothing answers) for {args.redis_hung:.0f} s")
    result = _start_clients(pool, stack.port, keys, args.clients, args.warm + args.redis_hung + args.after)
    time.sleep(args.warm)
    down_at = time.time()
    stack.redis_pause()
    try:
        otp = {"mobile": "9876500002", "consent_version": "2025-04"}
        for label, method, path, body in (
            ("/healthz while hung", "GET", "/healthz", None),
            ("OTP request while hung", "POST", "/api/v1/abha/enrolment/otp/", otp),
        ):
            asked = time.time()
            _probe(stack, label, method, path, body, expect_status=503, check=check)
            print(f"    answered in {time.time() - asked:.1f} s (REDIS_TIMEOUT 5 s; not held until gunicorn's 30 s)")
        time.sleep(max(0.0, args.redis_hung - (time.time() - down_at)))
    finally:
        stack.redis_resume()
    up_at = time.time()
    healthy = _wait_healthy(stack, up_at)
    events = [event for events in result.get() for event in events]
    print(f"  Redis hung {up_at - down_at:.1f} s; /healthz 200 again after {healthy or float('nan'):.2f} s")
    check("/healthz recovers", healthy is not None)
    acknowledged = _summarise(events, down_at, up_at, check)
    slow = sorted(e[1] - e[0] for e in events if e[0] >= down_at and e[1] <= up_at + 10)
    if slow:
        print(f"  slowest answers while hung: {', '.join(f'{s:.1f}' for s in slow[-3:])} s")
    _check_tokens(stack, acknowledged, check)
    took = stack.worker_roundtrip("faults-after-redis-hung")
    check("the worker runs a task again", took is not None, f"{took:.1f} s" if took else "")


def scenario_worker_sigkill(stack, args, check, *, whole_worker: bool):
    """SIGKILL mid bulk upload: the pool processes only (the main process sees them die and requeues the task at
    once), or the whole worker (main process and pool, as a crash of its machine): a new worker is started, as a
    supervisor would, and the broker redelivers the unacknowledged task after CELERY_VISIBILITY_TIMEOUT."""
    what = "the whole worker (main process and pool)" if whole_worker else "the worker's pool processes"
    tag = "W" if whole_worker else "P"
    rows = args.bulk_rows
    print(f"\n{'3b' if whole_worker else '3'}. SIGKILL of {what} during a facility bulk upload of {rows} rows")
    stack.extra_env.update({"BULK_ROWS": str(rows), "BULK_TAG": tag})
    out = stack.manage("shell", "-v0", "-c", SETUP_BULK, capture=True)
    upload_id = int(next(line for line in out.splitlines() if line.startswith("UPLOAD ")).split()[1])
    query = (
        "SELECT status, processed_rows, created_count, updated_count, error_count FROM facilities_bulkupload "
        "WHERE id = %s"
    )
    started = time.time()
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        # Kill once some batches are committed and more are to come: the rerun must match what is already there.
        status, processed = "queued", 0
        while time.time() - started < 300 and status in ("queued", "running") and processed < args.kill_at_rows:
            status, processed, *_ = conn.execute(query, [upload_id]).fetchone()
            time.sleep(0.02)
        victims = stack.worker_children() + ([stack.processes["worker"].pid] if whole_worker else [])
        for pid in victims:
            os.kill(pid, signal.SIGKILL)
        killed_at = time.time()
        print(
            f"  killed {victims} {killed_at - started:.1f} s after the upload: job {status}, "
            f"{processed} of {rows} rows written"
        )
        if whole_worker:
            stack.processes["worker"].wait()
            stack.start_worker()
        while time.time() - killed_at < args.bulk_timeout:
            status, processed_now, created, updated, errors = conn.execute(query, [upload_id]).fetchone()
            if status in ("done", "failed"):
                break
            time.sleep(0.2)
        facilities = conn.execute(
            "SELECT count(*), count(DISTINCT name) FROM facilities_facility WHERE name LIKE %s", [f"Fault {tag} %"]
        ).fetchone()
    check("the kill came mid-file", 0 < processed < rows)
    print(f"  job {status} {time.time() - killed_at:.1f} s after the kill: created {created}, updated {updated},")
    print(f"  errors {errors} (rows the killed run wrote are matched by name + pincode and updated)")
    check("the job completes after the kill", status == "done")
    check("every row exactly once", facilities == (rows, rows), f"{facilities[0]} facilities")
    check("created + updated = rows, no errors", created + updated == rows and errors == 0)
    if not whole_worker:
        check("the pool replaced its processes", len(stack.worker_children()) == stack.worker_concurrency)


STATE_OFFICIAL = """
from core.models import User
from rest_framework.authtoken.models import Token
user, _ = User.objects.get_or_create(username="fault_state", defaults={"role": "state_official"})
print(Token.objects.get_or_create(user=user)[0].key)
"""


def _upload(port, key, path, fields, file_path):
    """multipart/form-data POST of `fields` and one file; returns (status, headers, body)."""
    boundary = secrets.token_hex(16)
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    )
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_path.name}"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    body = head + file_path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Authorization": f"Token {key}", "Content-Type": f"multipart/form-data; boundary={boundary}"}
    conn.request("POST", path, body, headers)
    response = conn.getresponse()
    return response.status, dict(response.getheaders()), response.read()


def _linking_file(stack, rows, prefix):
    """make_linking_file for the Scan & Share facility; returns (path, the facts it prints)."""
    path = stack.dir / f"linking-{prefix}.csv"
    made = subprocess.run(
        [sys.executable, "manage.py", "make_linking_file", "--rows", str(rows), "--facility", HIP_ID]
        + ["--bad-fraction", "0.02", "--reference-prefix", prefix, "--seed", "7", "--out", str(path)],
        cwd=ROOT, env=stack.env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return path, json.loads(made.stderr.strip().splitlines()[-1])


def _linking_available() -> bool:
    return importlib.util.find_spec("records.linking.api") is not None


def _wait_job(stack, key, job_url, timeout):
    deadline, job = time.time() + timeout, {}
    while time.time() < deadline:
        status, _headers, body = request(stack.port, "GET", job_url, key=key, timeout=10)
        if status == 200:
            job = json.loads(body)
            if job["status"] not in ("queued", "running"):
                break
        time.sleep(0.5)
    return job


def scenario_linking(stack, args, check):
    """Record linking: restart PostgreSQL during a linking job, then SIGKILL the worker's pool mid-chunk; the job
    must complete with every row counted exactly once (as linked, or failed for the file's bad rows)."""
    if not _linking_available():
        print("\n4. Record linking: skipped, the linking jobs API (records/linking) is not in this checkout")
        return
    rows = args.linking_rows
    print(
        f"\n4. Record linking job of {rows} rows: PostgreSQL stopped for {args.pg_down:.0f} s, then SIGKILL mid-chunk"
    )
    key = stack.manage("shell", "-v0", "-c", STATE_OFFICIAL, capture=True).strip().splitlines()[-1]
    path, facts = _linking_file(stack, rows, "FLT")
    status, _headers, body = _upload(stack.port, key, "/api/v1/linking-jobs/", {"facility": HIP_ID}, path)
    check("upload accepted", status == 202, f"{status} {body[:200]!r}")
    if status != 202:
        return
    job_url = json.loads(body)["url"]
    started = time.time()
    polls, faults, job = [], [], {}
    while time.time() - started < args.linking_timeout:
        try:
            status, headers, body = request(stack.port, "GET", job_url, key=key, timeout=10)
        except OSError as error:
            polls.append((0, None, repr(error)))
            continue
        polls.append((status, headers.get("retry-after"), None))
        if status == 200:
            job = json.loads(body)
            if job["status"] not in ("queued", "running"):
                break
            if not faults and job["processed"] >= job["total"] * 0.15 > 0:
                faults.append(("pg", job["processed"]))
                stack.pg_stop()
                down_until = time.time() + args.pg_down
                while time.time() < down_until:  # the job's page is polled on through the outage
                    status, headers, _body = request(stack.port, "GET", job_url, key=key, timeout=10)
                    polls.append((status, headers.get("retry-after"), None))
                    time.sleep(0.2)
                stack.pg_start()
            elif len(faults) == 1 and job["processed"] >= job["total"] * 0.5:
                victims = stack.worker_children()
                for pid in victims:
                    os.kill(pid, signal.SIGKILL)
                faults.append(("sigkill", job["processed"]))
        time.sleep(0.2)
    took = time.time() - started
    unavailable = [p for p in polls if p[0] == 503]
    other = [p for p in polls if p[0] not in (200, 503)]
    print(f"  faults at rows processed: {faults}; job {job.get('status')} after {took:.1f} s")
    print(f"  polls {len(polls)}: {len(unavailable)} x 503, {len(other)} other")
    print(
        f"  total {job.get('total')}, processed {job.get('processed')}, linked {job.get('linked')}, duplicates "
        f"{job.get('duplicates')}, needs review {job.get('needs_review')}, failed {job.get('failed')}"
    )
    print(f"  the file holds: {facts}")
    check("both faults came mid-job", len(faults) == 2 and all(0 < done < rows for _, done in faults))
    check("every poll is a 200 or a 503 with Retry-After", not other and all(p[1] for p in unavailable))
    check("the job completes", job.get("status") == "done", str(job.get("status")))
    bad = sum(facts["bad"].values())
    expected = (rows, rows, facts["linked"], facts["needs_review"], bad, 0)
    got = tuple(job.get(k) for k in ("total", "processed", "linked", "needs_review", "failed", "duplicates"))
    check(
        "counts exact (total, processed, linked, review, failed, duplicates)", got == expected, f"{got} vs {expected}"
    )
    with psycopg.connect(stack.database_url) as conn:
        contexts = conn.execute(
            "SELECT count(*), count(DISTINCT reference) FROM records_carecontext WHERE reference LIKE 'FLT%%'"
        ).fetchone()
        records = conn.execute(
            "SELECT count(*), count(DISTINCT (r.care_context_id, r.record_key)) FROM records_healthrecord r "
            "JOIN records_carecontext c ON c.id = r.care_context_id WHERE c.reference LIKE 'FLT%%'"
        ).fetchone()
        job_id = conn.execute("SELECT id FROM records_linkingjob WHERE uuid = %s", [job["uuid"]]).fetchone()[0]
        attempts = conn.execute(
            "SELECT count(*), sum(attempts), count(*) FILTER (WHERE status <> 'done') FROM records_linkingchunk "
            "WHERE job_id = %s",
            [job_id],
        ).fetchone()
        errors = conn.execute(
            "SELECT code, count(*) FROM records_linkingrowerror WHERE job_id = %s GROUP BY code ORDER BY 2 DESC",
            [job_id],
        ).fetchall()
    print(f"  care contexts {contexts}, records {records}, chunks (count, attempts, not done) {attempts}")
    print(f"  row errors by code: {dict(errors)}")
    check("row errors are exactly the file's bad rows, by kind", dict(errors) == facts["bad"])
    linked = facts["linked"] + facts["needs_review"]
    check("each linked row once in the database", contexts == (linked, linked), f"care contexts {contexts}")
    check("each record once", records[0] == records[1] == facts["linked"], f"records {records}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=8, help="Scan & Share client processes")
    parser.add_argument("--scan-seconds", type=float, default=20, help="length of the PostgreSQL restart run")
    parser.add_argument("--warm", type=float, default=5, help="seconds of load before each fault")
    parser.add_argument("--after", type=float, default=8, help="seconds of load after Redis is back")
    parser.add_argument("--pg-down", type=float, default=5, help="seconds PostgreSQL stays stopped")
    parser.add_argument("--redis-down", type=float, default=30, help="seconds Redis stays stopped")
    parser.add_argument("--redis-hung", type=float, default=20, help="seconds Redis stays SIGSTOPped")
    parser.add_argument("--bulk-rows", type=int, default=20000)
    parser.add_argument("--kill-at-rows", type=int, default=4000, help="SIGKILL once this many rows are written")
    parser.add_argument("--bulk-timeout", type=float, default=300)
    parser.add_argument("--citizens", type=int, default=6000)
    parser.add_argument("--linking-rows", type=int, default=200000)
    parser.add_argument("--linking-timeout", type=float, default=600)
    parser.add_argument(
        "--skip", nargs="*", default=[], choices=["pg", "redis", "redis-hung", "pool", "worker", "linking"]
    )
    args = parser.parse_args()

    check = Checks()
    stack = Stack(name="bench_faults", extra_env={"CELERY_VISIBILITY_TIMEOUT": "60"})
    try:
        stack.start_services()
        stack.prepare()
        stack.extra_env.update({"HIP_ID": HIP_ID, "CITIZENS": str(args.citizens)})
        seeded = stack.manage("shell", "-v0", "-c", SEED, capture=True)
        keys = next(line for line in seeded.splitlines() if line.startswith("KEYS ")).split()[1].split(",")
        stack.start_web()
        stack.start_worker()
        stack.start_beat()
        took = stack.worker_roundtrip("faults-start")
        check("the worker runs tasks", took is not None)
        with multiprocessing.Pool(args.clients) as pool:
            third = len(keys) // 3
            if "pg" not in args.skip:
                scenario_postgres_restart(stack, pool, keys[:third], args, check)
            if "redis" not in args.skip:
                scenario_redis_down(stack, pool, keys[third : 2 * third], args, check)
            if "redis-hung" not in args.skip:
                scenario_redis_hung(stack, pool, keys[2 * third :], args, check)
        if "pool" not in args.skip:
            scenario_worker_sigkill(stack, args, check, whole_worker=False)
        if "worker" not in args.skip:
            scenario_worker_sigkill(stack, args, check, whole_worker=True)
        if "linking" not in args.skip:
            scenario_linking(stack, args, check)
    except Exception:
        for name in ("web", "worker", "beat"):
            print(f"--- {name} log tail ---\n{stack.log_tail(name)}", file=sys.stderr)
        raise
    finally:
        stack.stop()
    print("\n(gunicorn 2 sync workers, Celery worker with 2 processes, production settings; the clients share the")
    print(" machine's 2 cores with the server, PostgreSQL, Redis and the worker; 1-minute load average at the end")
    print(f" {os.getloadavg()[0]:.1f}, other work on the machine included)")
    if check.failed:
        sys.exit(f"{len(check.failed)} checks failed: {check.failed}")
    print("All checks passed.")


if __name__ == "__main__":
    main()
