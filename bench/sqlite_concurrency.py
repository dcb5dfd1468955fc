"""How the embedded default (SQLite in WAL mode, IMMEDIATE transactions, 20 s busy timeout) holds up
under a few dozen concurrent users, each of them writing.

Starts `manage.py runserver` (the `make run` web process) on a fresh SQLite file, then N client threads
each sign in through the staff login form (a session row and last_login written: real writes) and load
the home page, for a fixed number of rounds. Prints requests/s, p50/p99 latency and the count of errors;
"database is locked" errors must be zero.

    .venv/bin/python bench/sqlite_concurrency.py [--clients 40] [--rounds 10]
"""

import argparse
import http.cookiejar
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(env):
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    code = (
        "from core.models import User\n"
        "for i in range(64):\n"
        "    u, _ = User.objects.get_or_create(username=f'bench{i}')\n"
        "    u.set_password('bench-password-1'); u.save()\n"
    )
    subprocess.run([python, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, check=True)


def user_session(base: str, index: int, rounds: int, latencies: list, errors: list):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    for _ in range(rounds):
        try:
            started = time.perf_counter()
            page = opener.open(base + "/accounts/login/", timeout=60).read().decode()
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
            body = urllib.parse.urlencode(
                {"csrfmiddlewaretoken": token, "username": f"bench{index}", "password": "bench-password-1"}
            ).encode()
            request = urllib.request.Request(base + "/accounts/login/", data=body, headers={"Referer": base + "/"})
            opener.open(request, timeout=60).read()
            opener.open(base + "/", timeout=60).read()
            latencies.append(time.perf_counter() - started)
        except urllib.error.HTTPError as error:
            errors.append(f"{error.code}: {error.read()[:200]!r}")
        except Exception as error:  # noqa: BLE001 - a benchmark counts every failure
            errors.append(repr(error))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as var_dir:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.dev",
            "VAR_DIR": var_dir,
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
        }
        for name in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL"):
            env.pop(name, None)
        prepare(env)
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--insecure"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(base + "/healthz", timeout=1)
                    break
                except OSError:
                    time.sleep(0.1)
            latencies, errors = [], []
            threads = [
                threading.Thread(target=user_session, args=(base, i, args.rounds, latencies, errors))
                for i in range(args.clients)
            ]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
        finally:
            server.terminate()
            stderr = server.communicate(timeout=20)[1]
    locked = stderr.count("database is locked") + sum("locked" in error for error in errors)
    flows = len(latencies)
    print(f"SQLite embedded default, runserver, {args.clients} concurrent clients x {args.rounds} rounds")
    print("(each flow = GET login + POST login (writes session and last_login) + GET home; client on the same 2 cores)")
    print(
        f"flows completed: {flows}/{args.clients * args.rounds} in {elapsed:.1f} s -> {flows / elapsed:.1f} flows/s,"
        f" {3 * flows / elapsed:.0f} requests/s"
    )
    if latencies:
        ordered = sorted(latencies)
        print(
            f"flow latency p50 {statistics.median(ordered) * 1000:.0f} ms, "
            f"p99 {ordered[int(len(ordered) * 0.99) - 1] * 1000:.0f} ms"
        )
    print(f"errors: {len(errors)}; 'database is locked': {locked}")
    for error in errors[:5]:
        print("  ", error)
    sys.exit(1 if errors or locked else 0)


if __name__ == "__main__":
    main()
