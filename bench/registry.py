"""Directory search latency with 1 lakh facilities and 5 lakh professionals (issue 4: p95 < 50 ms).

Creates its own PostgreSQL database on the server in DATABASE_URL (make bench starts one), migrates it, fills
it set-based in SQL (INSERT ... SELECT generate_series), serves it with gunicorn (2 sync workers, production
settings) and times the public directory API over loopback with 1, then 4 concurrent clients (which share the 2 cores
with the server). Prints p50/p95 per query shape and the table sizes.

    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python bench/registry.py
"""

import argparse
import hashlib
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
from urllib.parse import quote, urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
PLACES = [
    "Amreli",
    "Anand",
    "Bhavnagar",
    "Bhuj",
    "Dahod",
    "Deesa",
    "Gondal",
    "Jamnagar",
    "Junagadh",
    "Kalol",
    "Mahuva",
    "Morbi",
    "Nadiad",
    "Navsari",
    "Palanpur",
    "Patan",
    "Porbandar",
    "Rajkot",
    "Surat",
    "Vadodara",
    "Valsad",
    "Veraval",
    "Vapi",
    "Godhra",
    "Himmatnagar",
    "Botad",
    "Modasa",
    "Lunawada",
    "Rajpipla",
    "Vyara",
]
KINDS = ["Primary Health Centre", "Community Health Centre", "Hospital", "Clinic", "Nursing Home", "Sub Centre"]
TYPES = ["phc", "chc", "hospital", "clinic", "nursing_home", "sub_centre"]
FIRST = ["Anjali", "Rakesh", "Hetal", "Imran", "Komal", "Jignesh", "Pooja", "Sandeep", "Farida", "Vishal", "Nisha"]
LAST = ["Mehta", "Patel", "Shah", "Desai", "Trivedi", "Parmar", "Vora", "Chauhan", "Joshi", "Pathan", "Rana"]


def sql_array(items):
    return "ARRAY[" + ",".join("'" + item.replace("'", "''") + "'" for item in items) + "]"


FILL_FACILITIES = f"""
INSERT INTO facilities_facility (uuid, created_at, updated_at, name, facility_id, status, ownership, private_subtype,
  systems_of_medicine, facility_type, service_type, state_id, district_id, address, pincode, region, beds,
  contact_mobile, contact_email, contact_landline, timings, rejection_reason, submitted_at, verified_at)
SELECT gen_random_uuid(), now(), now(),
  ({sql_array(PLACES)})[1 + mod(i, 30)] || ' ' || initcap(substr(md5(i::text), 1, 5)) || ' '
    || ({sql_array(KINDS)})[1 + mod(i, 6)],
  'IN24' || lpad(i::text, 8, '0'),
  CASE WHEN mod(i, 10) = 0 THEN 'submitted' ELSE 'verified' END, 'G', '',
  CASE WHEN mod(i, 7) = 0 THEN '["ayurveda"]'::jsonb ELSE '["modern"]'::jsonb END,
  ({sql_array(TYPES)})[1 + mod(i, 6)], 'opd', 24, (%(districts)s)[1 + mod(i, %(n)s)], '', (360000 + mod(i, 9000))::text,
  'rural', mod(i, 50), '', '', '', '', '', now(), now()
FROM generate_series(1, %(count)s) AS i
"""
FILL_PROFESSIONALS = f"""
INSERT INTO facilities_professional (uuid, created_at, updated_at, hpr_id, status, name, category, sub_category,
  council, registration_number, registration_date, registration_type, qualifications, work_status, mobile, email,
  state_id, district_id, rejection_reason, submitted_at, verified_at)
SELECT gen_random_uuid(), now(), now(), '71' || lpad(i::text, 12, '0'),
  CASE WHEN mod(i, 10) = 0 THEN 'submitted' ELSE 'verified' END,
  CASE WHEN mod(i, 3) = 0 THEN 'Dr ' ELSE '' END || ({sql_array(FIRST)})[1 + mod(i, 11)] || ' '
    || initcap(substr(md5(i::text), 1, 4)) || ' ' || ({sql_array(LAST)})[1 + mod((i / 11), 11)],
  CASE WHEN mod(i, 3) = 0 THEN 'doctor' WHEN mod(i, 3) = 1 THEN 'nurse' ELSE 'pharmacist' END,
  CASE WHEN mod(i, 3) = 0 THEN 'modern' WHEN mod(i, 3) = 1 THEN 'rn' ELSE '' END,
  'gmc', 'B-' || i, DATE '2015-01-01', 'permanent', '[]'::jsonb, '', '', '', 24, (%(districts)s)[1 + mod(i, %(n)s)], '',
  now(), now()
FROM generate_series(1, %(count)s) AS i
"""
# (label, path): the directory's query shapes, public (no token).
QUERIES = [
    ("facilities: a specific name", "/api/v1/directory/facilities/?q={facility_name}"),
    ("facilities: name fragment", "/api/v1/directory/facilities/?q={fragment}"),
    ("facilities: name + district", "/api/v1/directory/facilities/?q={place}&district_lgd=443"),
    ("facilities: type + system", "/api/v1/directory/facilities/?type=phc&system=ayurveda"),
    ("facilities: district, page 50", "/api/v1/directory/facilities/?district_lgd=459&page=50"),
    ("professionals: a specific name", "/api/v1/directory/professionals/?q={professional_name}"),
    ("professionals: name fragment", "/api/v1/directory/professionals/?q={fragment}"),
    ("professionals: name + category", "/api/v1/directory/professionals/?q={first}&category=doctor"),
]


def manage(env, *args, capture=False):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, text=True, capture_output=capture
    )


def timed(base, paths, clients=4):
    latencies, lock = [], threading.Lock()

    def worker(chunk):
        for path in chunk:
            started = time.perf_counter()
            with urllib.request.urlopen(base + path, timeout=30) as response:
                response.read()
                assert response.status == 200, response.status
            with lock:
                latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=worker, args=(paths[i::clients],)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    return statistics.median(latencies) * 1000, latencies[max(0, int(len(latencies) * 0.95) - 1)] * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facilities", type=int, default=100_000)
    parser.add_argument("--professionals", type=int, default=500_000)
    parser.add_argument("--requests", type=int, default=200, help="per query shape")
    args = parser.parse_args()

    import psycopg

    server_url = os.environ["DATABASE_URL"]
    name = f"bench_registry_{secrets.token_hex(3)}"
    parts = urlparse(server_url)
    admin_url = urlunparse(parts._replace(path="/postgres"))
    bench_url = urlunparse(parts._replace(path=f"/{name}"))
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    env = {
        **os.environ,
        "DATABASE_URL": bench_url,
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "AADHAAR_HASH_KEY": secrets.token_urlsafe(32),
        "API_ANON_RATE": "100000000/minute",
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
    }
    server = None
    try:
        manage(env, "migrate", "--noinput", "-v0")
        started = time.perf_counter()
        with psycopg.connect(bench_url, autocommit=True) as connection:
            districts = [row[0] for row in connection.execute("SELECT lgd_code FROM core_district WHERE state_id = 24")]
            params = {"districts": districts, "n": len(districts)}
            connection.execute(FILL_FACILITIES, {**params, "count": args.facilities})
            connection.execute(FILL_PROFESSIONALS, {**params, "count": args.professionals})
            connection.execute("ANALYZE")
            sizes = connection.execute(
                "SELECT pg_size_pretty(pg_total_relation_size('facilities_facility')),"
                " pg_size_pretty(pg_total_relation_size('facilities_professional'))"
            ).fetchone()
        print(
            f"filled {args.facilities:,} facilities and {args.professionals:,} professionals in "
            f"{time.perf_counter() - started:.1f} s (tables with indexes: {sizes[0]}, {sizes[1]})"
        )

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
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        worst = 0.0
        load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
        print(f"\nload average before measuring: {load} (2 cores; other processes on the machine count too)")
        print(f"{'query':34} {'1 client':>17} {'4 clients':>17}   (gunicorn 2 workers, clients on the same cores)")
        print(f"{'':34} {'p50 ms':>8} {'p95 ms':>8} {'p50 ms':>8} {'p95 ms':>8}")
        for index, (label, template) in enumerate(QUERIES):
            paths = []
            for n in range(args.requests):
                place = PLACES[(n + index) % len(PLACES)]
                fragment = place[1:5].lower() if n % 2 else FIRST[n % len(FIRST)][:4]
                row = 1 + (n * 7919) % args.facilities
                facility_name = (
                    f"{PLACES[row % 30]} {hashlib.md5(str(row).encode(), usedforsecurity=False).hexdigest()[:5]}"
                )
                person = 1 + (n * 7919) % args.professionals
                professional_name = (
                    f"{FIRST[person % 11]} {hashlib.md5(str(person).encode(), usedforsecurity=False).hexdigest()[:4]}"
                )
                paths.append(
                    template.format(
                        fragment=quote(fragment),
                        place=quote(place),
                        first=FIRST[n % 11],
                        facility_name=quote(facility_name),
                        professional_name=quote(professional_name),
                    )
                )
            timed(base, paths[:20])  # warm the connections and caches
            single = timed(base, paths, clients=1)
            p50, p95 = timed(base, paths)
            worst = max(worst, p95)
            print(f"{label:34} {single[0]:8.1f} {single[1]:8.1f} {p50:8.1f} {p95:8.1f}")
        load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
        print(f"\nworst p95 with 4 clients: {worst:.1f} ms (goal < 50 ms) -> {'OK' if worst < 50 else 'ABOVE GOAL'}")
        print(f"load average after: {load}")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
