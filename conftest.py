"""Fixtures shared by every app's tests."""

import contextlib
import importlib
import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

from core.sms import LocmemBackend

pytest_plugins = ["abdm_sandbox.testing"]  # the local ABDM sandbox's fixtures (abdm_sandbox, private_abdm_sandbox)

ROOT = Path(__file__).resolve().parent
SCREENSHOTS = ROOT / "var" / "screenshots"


# --- No PII in the log output of the whole run --------------------------------------
# Every log record of the run (the level each test sets, so DEBUG where a test asks for it) is
# scanned for Aadhaar-shaped numbers (12 digits), full mobiles (10 digits from 6-9), OTP texts, ABHA
# numbers (14 digits) and ABHA addresses (x@abdm, x@sbx, also URL-encoded as in a query string);
# any hit fails the run at the end, naming the logger and the line. factory_boy's own DEBUG lines
# (the test data it builds) are not the portal's log. The scan sees a record after LOGGING's masking
# handler (core/logging.py), so it checks what the portal writes. UUIDs are masked first: their last
# group can be 12 digits by chance; so are ABHA numbers, once found, for the Aadhaar check.
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_ABHA_NUMBER = re.compile(r"(?<!\d)\d{2}(?:[ -]|%20|\+)?\d{4}(?:[ -]|%20|\+)?\d{4}(?:[ -]|%20|\+)?\d{4}(?!\d)")
_ABHA = {
    "ABHA-number-shaped": _ABHA_NUMBER,
    "ABHA-address-shaped": re.compile(r"[\w.]+(?:@|%40)(?:abdm|sbx)\b", re.I),
}
_PII = {
    "Aadhaar-shaped": re.compile(r"(?<!\d)\d{4}[ -]?\d{4}[ -]?\d{4}(?!\d)"),
    "mobile-shaped": re.compile(r"(?<!\d)(?:\+?91[ -]?)?[6-9]\d{9}(?!\d)"),
    "OTP-shaped": re.compile(r"(?<!\d)\d{6}(?!\d)[^\n]{0,40}\bOTP\b|\bOTP\b[^\n]{0,40}(?<!\d)\d{6}(?!\d)", re.I),
}


class _PiiLogScan(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.found: list[str] = []

    def emit(self, record):
        if record.name.startswith("factory"):
            return
        try:
            trace = record.exc_text or (self.formatException(record.exc_info) if record.exc_info else "")
            text = record.getMessage() + "\n" + trace  # exc_text: the traceback as handlers write it (masked)
        except Exception:  # noqa: BLE001 - a record that cannot format is logging's problem, not this scan's
            return
        text = _UUID.sub("<uuid>", text)
        kinds = [kind for kind, pattern in _ABHA.items() if pattern.search(text)]
        text = _ABHA_NUMBER.sub("<abha>", text)  # not an Aadhaar too
        kinds += [kind for kind, pattern in _PII.items() if pattern.search(text)]
        for kind in kinds:
            self.found.append(f"{kind} in {record.name}: {record.getMessage()[:160]!r}")


PII_LOG_SCAN = _PiiLogScan()


@pytest.fixture(autouse=True, scope="session")
def _scan_logs_for_pii():
    """Attached after Django configured logging (dictConfig replaces the root's handlers)."""
    logging.getLogger().addHandler(PII_LOG_SCAN)
    yield
    logging.getLogger().removeHandler(PII_LOG_SCAN)


def pytest_sessionfinish(session, exitstatus):
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # a pytest-xdist process: hand the finds to the controller, which reports them
        workeroutput["pii_found"] = list(dict.fromkeys(PII_LOG_SCAN.found))
        return
    if PII_LOG_SCAN.found:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_sep("=", "PII-shaped strings in the log output of this run", red=True)
            for line in dict.fromkeys(PII_LOG_SCAN.found):
                reporter.write_line(f"  {line}")
        session.exitstatus = 1


# --- The flush after a transactional test -------------------------------------------
# Transactional tests (browser, worker, live server) end with pytest-django's flush: TRUNCATE of every table,
# the LGD states, districts and Census figures included. They are put back at once, as the migration does, so
# whatever runs next (a module-scoped fixture of another file included: pytest-xdist interleaves files) finds
# them. And the live server is session-scoped: a callback the sandbox sends late (an on-link, a notify) can hold
# row locks while the TRUNCATE runs, and PostgreSQL ends one of the two as a deadlock; the flush is then run
# again (it is one transaction: the failed attempt left nothing).
def _load_reference_data():
    from django.apps import apps

    from core.models import State

    if not State.objects.exists():
        importlib.import_module("core.migrations.0002_geography_and_population").load(apps, None)


def _flush_then_reference_data(handle):
    from django.core.management.base import CommandError
    from django.db import OperationalError

    def flush(self, **options):
        for attempt in range(3):
            try:
                handle(self, **options)
                break
            except CommandError as error:
                if attempt == 2 or not isinstance(error.__cause__, OperationalError):
                    raise
                time.sleep(0.5)
        _load_reference_data()

    return flush


def pytest_configure(config):
    from django.core.management.commands import flush

    flush.Command.handle = _flush_then_reference_data(flush.Command.handle)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """pytest-xdist's controller: collect what each process's scan found."""
    PII_LOG_SCAN.found.extend(getattr(node, "workeroutput", {}).get("pii_found", []))


@pytest.fixture(autouse=True)
def _clean_cache_and_outbox():
    """Throttle counters and sent SMS must not leak between tests."""
    cache.clear()
    LocmemBackend.outbox.clear()
    yield
    LocmemBackend.outbox.clear()


@pytest.fixture
def sms_outbox():
    return LocmemBackend.outbox


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def api_as():
    """api_as(user) -> an APIClient that sends `Authorization: Token <key>` for that user."""
    from rest_framework.authtoken.models import Token

    def make(user):
        client = APIClient()
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


# --- Browser (Playwright driving Debian's Chromium) ----------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture
def screenshot():
    """screenshot(page, name) saves var/screenshots/<name>.png to look at after the run."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str):
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


# --- A real Celery worker on the test broker ----------------------------------------


def start_celery_worker(log_path: Path, extra_env: dict | None = None) -> subprocess.Popen:
    """Start `celery -A config worker` (2 processes) against the test database and broker, in its own
    process group (so a test can SIGKILL the whole worker, pool children included); wait for its ping."""
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.fail("The worker tests need CELERY_BROKER_URL=redis://... (make test starts Redis).")
    database = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": (f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"),
        **(extra_env or {}),
    }
    log = log_path.open("ab")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--loglevel",
            "WARNING",
            "--concurrency",
            "2",
            "--pool",
            "prefork",
            "--without-mingle",
            "--without-gossip",
            "--hostname",
            f"test-{os.getpid()}-{time.monotonic_ns()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    from config.celery import app

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail("Celery worker exited: " + log_path.read_text(errors="replace")[-2000:])
        if app.control.ping(timeout=0.5):
            return process
    stop_celery_worker(process)
    pytest.fail("Celery worker did not answer a ping within 30 s: " + log_path.read_text(errors="replace")[-2000:])


def stop_celery_worker(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=20)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # pool children left behind, if any
    process.wait()


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path):
    """A real Celery worker on the test broker and database; stopped after the test."""
    process = start_celery_worker(tmp_path / "worker.log")
    yield process
    stop_celery_worker(process)


@pytest.fixture
def another_celery_worker(tmp_path):
    """another_celery_worker() starts one more worker (e.g. after a test killed the first); all stop after."""
    started = []

    def start():
        started.append(start_celery_worker(tmp_path / f"worker-{len(started) + 2}.log"))
        return started[-1]

    yield start
    for process in started:
        stop_celery_worker(process)
