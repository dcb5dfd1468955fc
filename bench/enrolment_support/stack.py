"""The production shape on loopback for the fault and load benches: throwaway PostgreSQL and Redis (started by
scripts/test_services.sh, the same as `make test`), gunicorn (sync workers, production settings) and a Celery worker.

The PostgreSQL and Redis servers can be stopped and started again mid-run (`pg_stop`/`pg_start`, `redis_stop`/
`redis_start`), on the same ports with the same options, which is what a restart looks like to the portal.
"""

import http.client
import json
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def request(port, method, path, body=None, *, key=None, headers=None, timeout=30):
    """One HTTP request on a fresh connection; returns (status, headers as a lower-case dict, body bytes)."""
    sent = {"Connection": "close", **(headers or {})}
    payload = None
    if body is not None:
        payload = json.dumps(body)
        sent["Content-Type"] = "application/json"
    if key:
        sent["Authorization"] = f"Token {key}"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, payload, sent)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


class Stack:
    def __init__(self, *, name: str, web_workers: int = 2, worker_concurrency: int = 2, extra_env: dict | None = None):
        self.name = name
        self.web_workers = web_workers
        self.worker_concurrency = worker_concurrency
        self.extra_env = extra_env or {}
        self.processes: dict[str, subprocess.Popen] = {}
        self.dir = None

    # --- PostgreSQL and Redis --------------------------------------------------------------------
    def start_services(self):
        script = (
            'source scripts/test_services.sh && services_start >&2 && echo "$SERVICES_DIR $SERVICES_PGBIN $PGPORT '
            '$REDIS_PORT"'
        )
        env = {**os.environ, "PYTHON_BIN": sys.executable}
        out = subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
        self.dir, self.pgbin, self.pg_port, self.redis_port = out.stdout.split()
        self.dir = Path(self.dir)
        # The server's own command line, to start it again exactly as scripts/test_services.sh did.
        argv = shlex.split((self.dir / "pg/data/postmaster.opts").read_text())
        self.pg_options = " ".join(shlex.quote(arg) for arg in argv[3:])  # without the binary and -D <dir>
        self.admin_url = f"postgres://postgres@127.0.0.1:{self.pg_port}/postgres"
        self.database_url = f"postgres://postgres@127.0.0.1:{self.pg_port}/{self.name}"
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {self.name}")

    def stop_services(self):
        if self.dir is None:
            return
        env = {**os.environ, "SERVICES_DIR": str(self.dir), "SERVICES_PGBIN": self.pgbin}
        subprocess.run(["bash", "-c", "source scripts/test_services.sh && services_stop >/dev/null"], cwd=ROOT, env=env)
        self.dir = None

    def _pg_ctl(self, *args):
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        command = [*as_postgres, f"{self.pgbin}/pg_ctl", "-D", str(self.dir / "pg/data"), *args]
        subprocess.run(command, cwd="/", check=True, stdout=subprocess.DEVNULL)  # the postgres user cannot enter /root

    def pg_stop(self):
        """Fast shutdown, as a restart or a failover does: open transactions are rolled back, clients cut off."""
        self._pg_ctl("-m", "fast", "-w", "stop")

    def pg_start(self):
        self._pg_ctl("-l", str(self.dir / "pg/log"), "-w", "-t", "30", "-o", self.pg_options, "start")

    def redis_stop(self):
        subprocess.run(
            ["redis-cli", "-p", self.redis_port, "shutdown", "nosave"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        pid_file = self.dir / "redis.pid"
        for _ in range(100):
            if not pid_file.exists():
                break
            time.sleep(0.05)

    def redis_start(self):
        subprocess.run(
            ["redis-server", "--bind", "127.0.0.1", "--port", self.redis_port, "--save", "", "--appendonly", "no"]
            + ["--daemonize", "yes", "--pidfile", str(self.dir / "redis.pid"), "--dir", str(self.dir)]
            + ["--logfile", str(self.dir / "redis.log")],
            check=True,
        )
        for _ in range(100):
            if subprocess.run(["redis-cli", "-p", self.redis_port, "ping"], capture_output=True).returncode == 0:
                return
            time.sleep(0.05)

    def redis_pause(self):
        """SIGSTOP: connections are still accepted (the kernel's backlog) but nothing answers, as with a hung host."""
        os.kill(int((self.dir / "redis.pid").read_text()), signal.SIGSTOP)

    def redis_resume(self):
        os.kill(int((self.dir / "redis.pid").read_text()), signal.SIGCONT)

    # --- Django: settings, manage.py, gunicorn, the Celery worker ---------------------------------
    @property
    def env(self) -> dict:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.enrolment_support.settings",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{self.redis_port}/1",
            "BENCH_SMS_REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/3",
            "VAR_DIR": str(self.dir / "var"),
            "SECRET_KEY": self._secret("secret_key", 50),
            "AADHAAR_HASH_KEY": self._secret("aadhaar_hash_key", 32),
            "SECURE_SSL_REDIRECT": "false",
            "ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
            "SMS_BACKEND": "console",
            **self.extra_env,
        }
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        return env

    def _secret(self, name, length):
        path = self.dir / name
        if not path.exists():
            path.write_text(secrets.token_urlsafe(length))
        return path.read_text()

    def manage(self, *args, capture=False) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, check=True, capture_output=capture, text=True
        )
        return result.stdout if capture else ""

    def prepare(self):
        """Migrate, and collect static files (the production storage needs its manifest, e.g. for the 503 page)."""
        self.manage("migrate", "-v0")
        self.manage("collectstatic", "--noinput", "-v0")

    def _log(self, name):
        return (self.dir / f"{name}.log").open("ab")

    def start_web(self):
        self.port = free_port()
        self.processes["web"] = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{self.port}"]
            + ["--workers", str(self.web_workers), "--no-control-socket", "--log-level", "warning"],
            cwd=ROOT,
            env=self.env,
            stdout=self._log("web"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if request(self.port, "GET", "/healthz", timeout=2)[0] in (200, 503):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer: " + self.log_tail("web"))

    def start_worker(self, name="worker"):
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel", "WARNING"]
            + ["--concurrency", str(self.worker_concurrency), "--pool", "prefork", "--without-mingle"]
            + ["--without-gossip", "--hostname", f"{name}@%h"],
            cwd=ROOT,
            env=self.env,
            stdout=self._log(name),
            stderr=subprocess.STDOUT,
        )

    def start_beat(self):
        """The one beat process of a deployment: heartbeats and the sweeps that resume or re-send lost work."""
        self.processes["beat"] = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "WARNING"]
            + ["--schedule", str(self.dir / "celerybeat-schedule")],
            cwd=ROOT,
            env=self.env,
            stdout=self._log("beat"),
            stderr=subprocess.STDOUT,
        )

    def log_tail(self, name, chars=3000) -> str:
        path = self.dir / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def worker_children(self, name="worker") -> list[int]:
        """The prefork pool's processes (they run the tasks) under the worker's main process."""
        out = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(self.processes[name].pid)], capture_output=True, text=True
        )
        return [int(pid) for pid in out.stdout.split()]

    def worker_roundtrip(self, label: str, timeout: float = 90) -> float | None:
        """Sends core.heartbeat(label) from a fresh process and waits for a worker to run it: seconds, or None."""
        started = time.monotonic()
        self.manage("shell", "-v0", "-c", f"from core.tasks import heartbeat; heartbeat.delay({label!r})")
        while time.monotonic() - started < timeout:
            with psycopg.connect(self.database_url) as conn:
                if conn.execute("SELECT 1 FROM core_workerheartbeat WHERE name = %s", [label]).fetchone():
                    return time.monotonic() - started
            time.sleep(0.2)
        return None

    def stop(self):
        for process in reversed(list(self.processes.values())):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes.clear()
        self.stop_services()
