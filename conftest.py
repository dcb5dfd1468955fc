"""Fixtures shared by every app's tests."""

import contextlib
import importlib
import os
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

ROOT = Path(__file__).resolve().parent
SCREENSHOTS = ROOT / "var" / "screenshots"


@pytest.fixture(autouse=True)
def _clean_cache_and_outbox():
    """Throttle counters and sent SMS must not leak between tests."""
    cache.clear()
    LocmemBackend.outbox.clear()
    yield
    LocmemBackend.outbox.clear()


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Transactional tests (browser, worker) flush every table afterwards, geography included;
    put the LGD states, districts and Census figures back for the next test, as the migration does."""
    if request.node.get_closest_marker("django_db") is None:
        return
    request.getfixturevalue("_django_db_helper")
    from django.apps import apps

    from core.models import State

    if not State.objects.exists():
        importlib.import_module("core.migrations.0002_geography_and_population").load(apps, None)


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
