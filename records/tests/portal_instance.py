"""A second portal, as another state runs it, for tests of two portals on one ABDM network (issue 18, item 5).

    clone_database(source_url, name)   a new database `name` on the same server, copied from `source_url` (CREATE
                                       DATABASE ... TEMPLATE: ~0.1 s here, where migrating a fresh one takes ~25 s).
                                       The source must have no other session at that moment.
    drop_database(url)                 drop it (sessions still on it are ended).
    PortalInstance(...)                the portal's web server (gunicorn) and its Celery worker as separate processes,
                                       on their own database, Redis databases, ABDM client (bridge) ID, port and
                                       state; `.run_python(code)` runs code inside Django in that environment (for
                                       the instance's own setup), `.stop()` ends both processes.

Subprocesses only: nothing here touches the test process's database or settings.
"""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import requests

from abdm_sandbox.testing import free_port

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60
# Variables of the test process that would make a subprocess pick the test process's own services again:
# config/settings/test.py maps PYTEST_XDIST_WORKER to that worker's Redis databases and sandbox.
_NOT_INHERITED = ("PYTEST_XDIST_WORKER", "ABDM_SANDBOX_URLS", "ABDM_SANDBOX_SMS_FILES", "TEST_MEDIA_ROOT")


def _maintenance(url: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(url)
    return parts.path.lstrip("/"), urllib.parse.urlunsplit(parts._replace(path="/postgres"))


def database_url(url: str, name: str) -> str:
    """`url` with its database name replaced by `name`."""
    return urllib.parse.urlunsplit(urllib.parse.urlsplit(url)._replace(path="/" + name))


def clone_database(source_url: str, name: str, *, wait: float = 10) -> str:
    """Create database `name` as a copy of the one `source_url` names; its URL. PostgreSQL refuses while another
    session uses the source (a live server's thread finishing a request), so it is tried again for `wait` seconds."""
    import psycopg  # noqa: PLC0415 - only the tests that start a second portal need it

    source, maintenance = _maintenance(source_url)
    deadline = time.monotonic() + wait
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        while True:
            try:
                connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
                return database_url(source_url, name)
            except psycopg.errors.ObjectInUse:
                # A session idle outside a transaction (the session-scoped live server's thread keeps its connection
                # for CONN_MAX_AGE) holds nothing: end it; Django's health check reconnects it on its next request.
                connection.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = %s AND state = 'idle' AND pid <> pg_backend_pid()",
                    [source],
                )
                if time.monotonic() > deadline:
                    users = connection.execute(
                        "SELECT pid, application_name, state, query FROM pg_stat_activity WHERE datname = %s",
                        [source],
                    ).fetchall()
                    raise RuntimeError(f"Database {source} stayed in use, cannot copy it: {users}") from None
                time.sleep(0.1)


def drop_database(url: str) -> None:
    import psycopg  # noqa: PLC0415

    name, maintenance = _maintenance(url)
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _signal(process: subprocess.Popen | None, signum: int) -> None:
    if process is not None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signum)


def _reap(process: subprocess.Popen | None) -> None:
    """Wait 10 s for a signalled process, then SIGKILL its group (pool children left behind, if any)."""
    if process is None:
        return
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)
    _signal(process, signal.SIGKILL)
    process.wait()


class PortalInstance:
    """Another state's portal: web server + Celery worker with their own settings, in their own process groups."""

    def __init__(
        self,
        *,
        workdir: Path,
        database_url: str,
        redis_url: str,
        broker_url: str,
        client_id: str,
        client_secret: str,
        sandbox_url: str,
        state_lgd: int,
        extra_env: dict | None = None,
    ):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url
        self.redis_url = redis_url
        self.broker_url = broker_url
        self.client_id = client_id
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in _NOT_INHERITED},
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "CELERY_BROKER_URL": broker_url,
            "MEDIA_ROOT": str(self.workdir / "media"),
            "SMS_BACKEND": "file",
            "SMS_FILE_PATH": str(self.workdir / "sms.jsonl"),
            "PORT": str(self.port),
            "PORTAL_BASE_URL": self.url,
            "PORTAL_STATE_LGD": str(state_lgd),
            "ABDM_CLIENT_ID": client_id,
            "ABDM_CLIENT_SECRET": client_secret,
            "ABDM_BRIDGE_URL": self.url,
            "ABDM_SANDBOX_URL": sandbox_url,
            "ABDM_GATEWAY_URL": sandbox_url,
            "ABDM_ABHA_URL": sandbox_url + "/abha/api",
            "ABDM_HFR_URL": sandbox_url + "/v4/int",
            **(extra_env or {}),
        }
        self.web: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen:
        with open(self.workdir / f"{name}.log", "ab") as log:
            return subprocess.Popen(  # noqa: S603 - our own interpreter and modules, fixed arguments
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def log(self, name: str, tail: int = 3000) -> str:
        try:
            return (self.workdir / f"{name}.log").read_text(errors="replace")[-tail:]
        except FileNotFoundError:
            return ""

    def start(self) -> "PortalInstance":
        """Start the web server and the worker; returns at once (`wait_ready` waits for the web server). The worker
        needs no wait: tasks wait in its broker until it takes them."""
        self._flush_redis()
        self.web = self._spawn(
            "web",
            [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{self.port}", "--workers", "1",
             "--threads", "8", "--no-control-socket", "--timeout", "60"],
        )  # fmt: skip
        self.worker = self._spawn(
            "worker",
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel", "WARNING", "--concurrency", "2",
             "--pool", "prefork", "--without-mingle", "--without-gossip", "--hostname", f"{self.client_id}@%h"],
        )  # fmt: skip
        return self

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            for name, process in (("web", self.web), ("worker", self.worker)):
                if process is not None and process.poll() is not None:
                    raise RuntimeError(f"The second portal's {name} exited:\n{self.log(name)}")
            with contextlib.suppress(requests.RequestException):
                requests.get(self.url + "/healthz", timeout=1)
                return
            time.sleep(0.1)
        raise RuntimeError(f"The second portal's web server did not answer on {self.url}:\n{self.log('web')}")

    def run_python(self, code: str, *, timeout: float = 60) -> dict:
        """Run `code` inside this portal's Django (settings, database, ABDM client); it may set `result` (a dict,
        returned here as JSON round-trip)."""
        script = (
            "import django, json\ndjango.setup()\nresult = {}\n"
            + code
            + "\nprint('\\n@@RESULT@@' + json.dumps(result, default=str))\n"
        )
        done = subprocess.run(  # noqa: S603 - our own interpreter
            [sys.executable, "-c", script],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0 or "@@RESULT@@" not in done.stdout:
            raise RuntimeError(f"Code in the second portal failed ({done.returncode}):\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.rsplit("@@RESULT@@", 1)[1])

    def _flush_redis(self) -> None:
        """Its cache and broker start empty: no task or throttle count from an earlier run is taken for its own."""
        import redis  # noqa: PLC0415

        for url in (self.redis_url, self.broker_url):
            with contextlib.suppress(redis.RedisError):
                redis.Redis.from_url(url).flushdb()

    def stop(self) -> None:
        """Both at once: gunicorn's quick shutdown (SIGINT: no wait for idle keep-alive connections), Celery's warm
        one (SIGTERM)."""
        web, worker, self.web, self.worker = self.web, self.worker, None, None
        _signal(web, signal.SIGINT)
        _signal(worker, signal.SIGTERM)
        _reap(web)
        _reap(worker)
        self._flush_redis()


def other_redis_databases(redis_url: str) -> tuple[str, str]:
    """(cache URL, broker URL) for a second portal on the same Redis as `redis_url`: the two highest databases not
    used by this test process (config/settings/test.py gives xdist worker n databases 2n and 2n+1, so worker n takes
    15-2n and 14-2n here: distinct for up to 4 workers on Redis's default 16)."""
    parts = urllib.parse.urlsplit(redis_url)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    index = int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0
    cache, broker = 15 - 2 * index, 14 - 2 * index
    return (
        urllib.parse.urlunsplit(parts._replace(path=f"/{cache}")),
        urllib.parse.urlunsplit(parts._replace(path=f"/{broker}")),
    )
