"""Record linking end to end: upload a 2-lakh-row batch through the API, Celery workers link it, time it.

Creates its own PostgreSQL database on the server in DATABASE_URL (make bench starts one), fills it with ABHA
accounts (generate_scale), writes the batch with make_linking_file (2% bad rows), starts gunicorn and one Celery
worker with 2 processes, then measures upload accepted -> job done, the workers' peak memory, the same file again
(all duplicates), and, in the same run, the raw COPY rate of the same rows into an indexed table (the ratio).
With --kill it SIGKILLs the worker mid-job, starts a new one, and checks the job still ends exact.

The job's ABDM part (a link token per patient, link calls: the outbox, after each chunk's commit) is measured by
bench/abdm_linking.py against a sandbox; here no sandbox runs, so before the same file goes up again the worker is
stopped and its queue purged (the dispatch and outbox tasks of 2 lakh care contexts would otherwise run first).
The load average is printed before and after: this machine is shared, and a figure means little without it.

Goal (issue 6): 2 lakh rows in under 10 s (>= 20,000 rows/s), worker memory < 300 MB, ratio >= 0.1 of raw COPY.
Everything shares the 2 cores: gunicorn, the worker processes, PostgreSQL and this script.

    DATABASE_URL=postgres://... REDIS_URL=redis://... CELERY_BROKER_URL=redis://... \\
        .venv/bin/python bench/linking.py --rows 200000 --accounts 1000000 [--kill]
"""

import argparse
import datetime as dt
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
FACILITY_ID = "IN2499000777"

SEED = """
import os
from rest_framework.authtoken.models import Token
from core.enums import Role
from core.models import User
from facilities.enums import FacilityStatus, MembershipRole
from facilities.models import Facility, FacilityMembership
facility = Facility.objects.create(
    name="Bench Medical College Hospital", facility_id=os.environ["FACILITY_ID"], status=FacilityStatus.VERIFIED,
    ownership="G", facility_type="hospital", systems_of_medicine=["modern"], service_type="opd_ipd",
    state_id=24, district_id=443, address="Bench Road", pincode="364001", region="urban", contact_mobile="9800000000",
)
user = User.objects.create(username="bench-staff", role=Role.FACILITY_STAFF)
FacilityMembership.objects.create(facility=facility, user=user, role=MembershipRole.STAFF)
print("KEY", Token.objects.create(user=user).key)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env, *args, capture=False):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=capture, text=True
    )


def request(port, method, path, key, body=b"", headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request(method, path, body, {"Authorization": f"Token {key}", **(headers or {})})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, data


def upload(port, key, path: Path):
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="facility"\r\n\r\n{FACILITY_ID}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="batch.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    body = head + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    status, data = request(
        port, "POST", "/api/v1/linking-jobs/", key, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    assert status == 202, (status, data[:300])
    return json.loads(data)


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (the worker's pool), in MB."""
    out = subprocess.run(["ps", "-o", "rss=", "--ppid", str(pid), "-p", str(pid)], capture_output=True, text=True)
    values = [int(v) for v in out.stdout.split()]
    return max(values, default=0) / 1024  # the largest single process: each pool process is one worker


def cpu_by_program() -> dict[str, float]:
    """CPU seconds used so far by every process on the machine, summed by program (postgres, celery, gunicorn, ...):
    a difference of two of these says where a job's CPU went, and how much of the 2 cores stayed idle."""
    tick = os.sysconf("SC_CLK_TCK")
    totals: dict[str, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        words = " ".join(part.decode(errors="replace") for part in cmdline[:4])
        name = next((program for program in ("celery", "gunicorn", "postgres", "redis") if program in words), "other")
        # Its own time and that of its children that ended (PostgreSQL's backends of closed connections).
        totals[name] = totals.get(name, 0.0) + sum(int(value) for value in fields[11:15]) / tick
    return totals


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def wait_done(port, key, url, worker, timeout=600, kill_at=None, on_kill=None, poll=0.1):
    started, peak, killed, polls = time.perf_counter(), 0.0, False, 0
    while time.perf_counter() - started < timeout:
        status, data = request(port, "GET", url, key)
        polls += 1
        if status != 200:  # a 503 while the database restarts: poll again
            time.sleep(poll)
            continue
        job = json.loads(data)
        peak = max(peak, tree_rss_mb(worker["process"].pid))
        if kill_at is not None and not killed and job["processed"] >= kill_at:
            os.killpg(worker["process"].pid, signal.SIGKILL)
            worker["process"].wait()
            killed = True
            print(f"  SIGKILLed the worker at {job['processed']:,} of {job['total']:,} rows processed")
            on_kill()
        if job["status"] in ("done", "failed", "cancelled"):
            wait_done.polls = polls
            return job, time.perf_counter() - started, peak
        time.sleep(poll)
    raise SystemExit(f"job not done after {timeout} s: {job}")


def start_worker(env, log):
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel", "WARNING", "--concurrency", "2",
         "--pool", "prefork", "--without-mingle", "--without-gossip", "--hostname", f"bench-{uuid.uuid4().hex[:6]}@%h"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    time.sleep(4)  # the worker connects, then resumes open jobs by itself (worker_ready)
    return process


def purge_queue(env, worker=None, log=None):
    """Drop what is queued (the ABDM part's tasks; at the start, a previous run's); the worker is stopped first and
    a fresh one started."""
    if worker is not None:
        os.killpg(worker["process"].pid, signal.SIGTERM)
        worker["process"].wait()
    subprocess.run(
        [sys.executable, "-m", "celery", "-A", "config", "purge", "-f"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        check=True,
    )
    if worker is not None:
        worker["process"] = start_worker(env, log)


def raw_copy_rate(url: str, path: Path) -> float:
    """COPY the same CSV into an indexed table on the same server: rows/s (the ceiling the ratio is against)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_raw_copy")
        header = path.open(encoding="utf-8").readline().strip().split(",")
        columns = ", ".join(f"{name} text" for name in header)
        conn.execute(f"CREATE TABLE bench_raw_copy (id bigserial primary key, {columns})")
        conn.execute("CREATE INDEX ON bench_raw_copy (care_context_reference)")
        started = time.perf_counter()
        with (
            conn.cursor() as cursor,
            cursor.copy(f"COPY bench_raw_copy ({', '.join(header)}) FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
            path.open("rb") as source,
        ):
            while block := source.read(1 << 20):
                copy.write(block)
        elapsed = time.perf_counter() - started
        rows = conn.execute("SELECT count(*) FROM bench_raw_copy").fetchone()[0]
        conn.execute("DROP TABLE bench_raw_copy")
    return rows / elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200000)
    parser.add_argument("--accounts", type=int, default=1000000)
    parser.add_argument("--bad-fraction", type=float, default=0.02)
    parser.add_argument("--kill", action="store_true", help="SIGKILL the worker mid-job and start a new one")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres") or not os.environ.get("REDIS_URL"):
        sys.exit("Set DATABASE_URL (PostgreSQL), REDIS_URL and CELERY_BROKER_URL (make bench starts them).")
    parts = urlparse(url)
    import psycopg

    with psycopg.connect(urlunparse(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS bench_linking")
        conn.execute("CREATE DATABASE bench_linking")
    bench_url = urlunparse(parts._replace(path="/bench_linking"))
    work = Path(tempfile.mkdtemp(prefix="bench-linking-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": bench_url,
        "MEDIA_ROOT": str(work / "media"),
        "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL", os.environ["REDIS_URL"]),
        "FACILITY_ID": FACILITY_ID,
        "LOG_LEVEL": "WARNING",
        # No sandbox here: the outbox's calls go to a closed port (refused at once), never to a sandbox that
        # another run left on the default port.
        "ABDM_GATEWAY_URL": "http://127.0.0.1:9",
        "ABDM_ABHA_URL": "http://127.0.0.1:9/abha/api",
        "ABDM_HFR_URL": "http://127.0.0.1:9/v4/int",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    manage(env, "migrate", "-v0")
    started = time.perf_counter()
    manage(env, "generate_scale", "--abha", str(args.accounts), capture=True)
    print(f"{args.accounts:,} ABHA accounts generated in {time.perf_counter() - started:.0f} s")
    key = manage(env, "shell", "-c", SEED, capture=True).stdout.split("KEY ")[1].split()[0]
    batch = work / "batch.csv"
    facts = json.loads(
        manage(
            env,
            "make_linking_file",
            "--rows",
            str(args.rows),
            "--facility",
            FACILITY_ID,
            "--bad-fraction",
            str(args.bad_fraction),
            "--seed",
            "7",
            "--out",
            str(batch),
            capture=True,
        ).stderr  # fmt: skip
    )
    print(f"batch: {args.rows:,} rows, {batch.stat().st_size / 1e6:.1f} MB, expected {facts}")

    port = free_port()
    web_log = (work / "web.log").open("wb")
    web = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi", "--workers", "2", "--bind",
         f"127.0.0.1:{port}", "--no-control-socket", "--timeout", "120"],
        cwd=ROOT, env=env, stdout=web_log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    worker_log = (work / "worker.log").open("wb")
    purge_queue(env)  # tasks a stopped run left on the broker point at rows of a database that is gone
    worker = {"process": start_worker(env, worker_log)}
    try:
        for _ in range(100):
            try:
                request(port, "GET", "/healthz", key)
                break
            except OSError:
                time.sleep(0.1)
        load_before = load_average()
        print(f"load average before the job (1/5/15 min): {load_before}")
        cpu_before = cpu_by_program()
        t0 = time.perf_counter()
        created = upload(port, key, batch)
        accepted = time.perf_counter() - t0

        def restart():
            worker["process"] = start_worker(env, worker_log)

        job, elapsed, peak = wait_done(
            port, key, created["url"], worker, kill_at=args.rows // 3 if args.kill else None, on_kill=restart
        )
        total = time.perf_counter() - t0
        cpu_after = cpu_by_program()
        load_after = load_average()
        print(f"upload accepted in {accepted * 1000:.0f} ms (202); job {job['status']} in {total:.2f} s end to end")
        print(f"  polled the job {wait_done.polls} times; load average after the job: {load_after}")
        used = {name: cpu_after.get(name, 0.0) - cpu_before.get(name, 0.0) for name in cpu_after}
        print(
            "  CPU seconds during the job: "
            + ", ".join(f"{name} {seconds:.1f}" for name, seconds in sorted(used.items(), key=lambda item: -item[1]))
            + f"; of {2 * total:.1f} on 2 cores"
        )
        created, started, finished = (
            dt.datetime.fromisoformat(job[name]) for name in ("created_at", "started_at", "finished_at")
        )
        print(
            f"  where the time went: upload -> chunks cut {(started - created).total_seconds():.2f} s, "
            f"chunks linked {(finished - started).total_seconds():.2f} s (job timestamps)"
        )
        print(
            f"  {job['total']:,} rows: linked {job['linked']:,}, duplicates {job['duplicates']:,}, "
            f"needs review {job['needs_review']:,}, failed {job['failed']:,}"
        )
        rate = job["total"] / total
        print(f"  {rate:,.0f} rows/s end to end (goal >= 20,000); worker peak RSS {peak:.0f} MB (goal < 300)")
        exact = job["linked"] == facts["linked"] and job["failed"] == sum(facts["bad"].values())
        print(f"  linked count equals the valid distinct rows of the file: {exact}")

        abdm = job.get("abdm") or {}
        print(f"  care contexts noted for ABDM: {abdm.get('total', 0):,} (sent later by the outbox)")
        purge_queue(env, worker, worker_log)
        t1 = time.perf_counter()
        again = upload(port, key, batch)
        job2, _, _ = wait_done(port, key, again["url"], worker)
        again_seconds = time.perf_counter() - t1
        print(
            f"same file again: {again_seconds:.2f} s, linked {job2['linked']:,}, "
            f"duplicates {job2['duplicates']:,} (goal: 0 new links)"
        )
        copy_rate = raw_copy_rate(bench_url, batch)
        print(f"raw COPY of the same rows into an indexed table: {copy_rate:,.0f} rows/s; ratio {rate / copy_rate:.2f}")
        print(
            f"FIGURES rows={job['total']} seconds={total:.1f} rows_per_s={rate:,.0f} "
            f"goal_10s={'met' if total < 10 else 'not met'} "
            f"worker_mb={peak:.0f} again_s={again_seconds:.1f} again_linked={job2['linked']} "
            f"copy_ratio={rate / copy_rate:.2f} exact={exact} load_before={load_before.replace(' ', '/')} "
            f"load_after={load_after.replace(' ', '/')}"
        )
        if not exact or job2["linked"] != 0:
            sys.exit(1)
    finally:
        os.killpg(worker["process"].pid, signal.SIGTERM) if worker["process"].poll() is None else None
        web.terminate()
        web.wait()
        worker["process"].wait()


if __name__ == "__main__":
    main()
