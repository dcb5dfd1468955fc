"""Pytest fixtures for tests that talk to the local ABDM sandbox over HTTP (a plugin: the root conftest lists it).

    abdm_sandbox           session-scoped: the sandbox `make test` started (ABDM_SANDBOX_URL), or one started here
                           when that is unset (pytest run by hand). `.url`, `.post(path, json)` / `.get(path)` for the
                           /sandbox/v1 helpers (path relative to /sandbox/v1/ or absolute), `.last_otp(mobile)`
                           (the newest 6-digit code the sandbox's UIDAI sent to that mobile), `.sms_file`.
    private_abdm_sandbox   function-scoped: another sandbox on a free port with its own database, for outage tests:
                           `.url`, `.stop()`, `.start()` (same port, database and keys), `.post`, `.last_otp`.
                           Stopped and its database dropped after the test. Calling it returns itself, so
                           `private_abdm_sandbox().url` works too.

Subprocesses and HTTP only: nothing here imports the sandbox's Django models (tests run under the portal's settings).
"""

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60
_OTP = re.compile(r"(?<!\d)(\d{6})(?!\d)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url(name: str) -> str:
    """The URL of database `name` on the server the sandbox (or, failing that, the portal) uses."""
    base = os.environ.get("ABDM_SANDBOX_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not base:
        raise RuntimeError("Set DATABASE_URL (make test does) so a sandbox can have its own database.")
    parts = urllib.parse.urlsplit(base)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _drop_database(url: str) -> None:
    import psycopg  # noqa: PLC0415 - only the private sandbox's teardown needs it

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    maintenance = urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, parts.fragment))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class SandboxClient:
    """What a test needs from a running sandbox: its URL, its helper endpoints and its SMS outbox."""

    def __init__(self, url: str, sms_file: Path):
        self.url = url.rstrip("/")
        self.sms_file = Path(sms_file)

    def _helper_url(self, path: str) -> str:
        return self.url + (path if path.startswith("/") else "/sandbox/v1/" + path)

    def post(self, path: str, json=None, **kwargs) -> requests.Response:  # noqa: A002 - requests' own name
        return requests.post(self._helper_url(path), json=json, timeout=kwargs.pop("timeout", 30), **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        return requests.get(self._helper_url(path), timeout=kwargs.pop("timeout", 30), **kwargs)

    def messages(self, mobile: str | None = None) -> list[dict]:
        """The SMS lines the sandbox wrote (to `mobile` when given), oldest first."""
        try:
            lines = self.sms_file.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        wanted = re.sub(r"\D", "", mobile or "")[-10:]
        found = []
        for line in lines:
            with contextlib.suppress(ValueError):
                message = json.loads(line)
                if not wanted or re.sub(r"\D", "", str(message.get("to", "")))[-10:] == wanted:
                    found.append(message)
        return found

    def last_otp(self, mobile: str) -> str | None:
        """The 6-digit code of the newest SMS to `mobile`, or None when none came."""
        for message in reversed(self.messages(mobile)):
            match = _OTP.search(str(message.get("text", "")))
            if match:
                return match.group(1)
        return None


class SandboxProcess(SandboxClient):
    """A sandbox this test run starts: `python -m abdm_sandbox serve` in its own process group."""

    def __init__(self, *, database_url: str, port: int | None = None, env: dict | None = None, workdir: Path):
        self.port = port or free_port()
        super().__init__(f"http://127.0.0.1:{self.port}", workdir / "sms.jsonl")
        self.database_url = database_url
        self.log_file = workdir / "sandbox.log"
        self.extra_env = env or {}
        self.process: subprocess.Popen | None = None

    def __call__(self):
        return self

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> "SandboxProcess":
        if self.running:
            return self
        env = {
            **os.environ,
            "ABDM_SANDBOX_DATABASE_URL": self.database_url,
            "ABDM_SANDBOX_PORT": str(self.port),
            "ABDM_SANDBOX_URL": self.url,
            "ABDM_SANDBOX_SMS_FILE": str(self.sms_file),
            "DJANGO_SETTINGS_MODULE": "abdm_sandbox.settings",
            **self.extra_env,
        }
        with open(self.log_file, "ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module, fixed arguments
                [sys.executable, "-m", "abdm_sandbox", "serve", "--port", str(self.port)],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.url + "/sandbox/v1/health", timeout=1).status_code == 200:
                    return self
            time.sleep(0.1)
        self.stop()
        tail = self.log_file.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"The ABDM sandbox on port {self.port} did not start:\n{tail}")

    def stop(self) -> None:
        """Stop it (SIGTERM to its process group, SIGKILL after 10 s); the port then refuses connections."""
        if self.process is None:
            return
        process, self.process = self.process, None
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        else:
            process.wait()


def _point_portal_at(url: str) -> None:
    """For a sandbox started here: the portal's settings (read at import, from the environment) follow it."""
    values = {
        "ABDM_SANDBOX_URL": url,
        "ABDM_GATEWAY_URL": url,
        "ABDM_ABHA_URL": url + "/abha/api",
        "ABDM_HFR_URL": url + "/v4/int",
    }
    os.environ.update(values)
    with contextlib.suppress(Exception):
        from django.conf import settings  # noqa: PLC0415

        for name, value in values.items():
            if name != "ABDM_SANDBOX_URL":
                setattr(settings, name, value)


@pytest.fixture(scope="session")
def abdm_sandbox(tmp_path_factory):
    url = os.environ.get("ABDM_SANDBOX_URL")
    if url:
        sms_file = os.environ.get("ABDM_SANDBOX_SMS_FILE") or str(ROOT / "var" / "sms" / "outbox.jsonl")
        yield SandboxClient(url, Path(sms_file))
        return
    database_url = _database_url(f"abdm_sandbox_session_{os.getpid()}")
    sandbox = SandboxProcess(database_url=database_url, workdir=tmp_path_factory.mktemp("abdm-sandbox"))
    sandbox.start()
    _point_portal_at(sandbox.url)
    os.environ["ABDM_SANDBOX_SMS_FILE"] = str(sandbox.sms_file)
    try:
        yield sandbox
    finally:
        sandbox.stop()
        with contextlib.suppress(Exception):
            _drop_database(database_url)


@pytest.fixture
def private_abdm_sandbox():
    database_url = _database_url(f"abdm_sandbox_private_{secrets.token_hex(4)}")
    with tempfile.TemporaryDirectory(prefix="abdm-sandbox-") as workdir:
        sandbox = SandboxProcess(database_url=database_url, workdir=Path(workdir))
        sandbox.start()
        try:
            yield sandbox
        finally:
            sandbox.stop()
            with contextlib.suppress(Exception):
                _drop_database(database_url)
