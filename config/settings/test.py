"""Test settings: `make test` points DATABASE_URL/REDIS_URL at throwaway PostgreSQL and Redis."""

import os
import urllib.parse

os.environ.setdefault("SMS_BACKEND", "locmem")


def _isolate_xdist_worker(environ) -> None:
    """pytest-xdist runs the suite in N processes (PYTEST_XDIST_WORKER=gw0, gw1, ...); pytest-django gives each its own
    test database. Here each also gets its own two Redis databases (cache 2n, broker 2n+1: a worker's Celery worker
    never takes the other's tasks, a cache.clear() never wipes the other's session token), its own media folder, and
    its own ABDM sandbox (scripts/test.sh starts one per process and lists them in ABDM_SANDBOX_URLS). Written to
    the environment once, so the Celery workers and portals a test starts as subprocesses inherit the choice, and
    what such a test overrides for its subprocess (another sandbox, another Redis) is not chosen over again."""
    worker = environ.get("PYTEST_XDIST_WORKER", "")
    if environ.get("TEST_ISOLATED_FOR") == (worker or "main"):
        return
    environ["TEST_ISOLATED_FOR"] = worker or "main"
    index = int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0
    redis_url = environ.get("REDIS_URL", "")
    if worker and redis_url.startswith("redis://"):
        parts = urllib.parse.urlsplit(redis_url)
        environ["REDIS_URL"] = urllib.parse.urlunsplit(parts._replace(path=f"/{2 * index}"))
        environ["CELERY_BROKER_URL"] = urllib.parse.urlunsplit(parts._replace(path=f"/{2 * index + 1}"))
    if environ.get("TEST_MEDIA_ROOT"):
        environ["MEDIA_ROOT"] = os.path.join(environ["TEST_MEDIA_ROOT"], worker or "main")
    sandboxes = environ.get("ABDM_SANDBOX_URLS", "").split()
    if sandboxes:
        url = sandboxes[index % len(sandboxes)].rstrip("/")
        environ.update(
            ABDM_SANDBOX_URL=url,
            ABDM_SANDBOX_PORT=str(urllib.parse.urlsplit(url).port),
            ABDM_GATEWAY_URL=url,
            ABDM_ABHA_URL=url + "/abha/api",
            ABDM_HFR_URL=url + "/v4/int",
        )
        sms_files = environ.get("ABDM_SANDBOX_SMS_FILES", "").split()
        if sms_files:
            environ["ABDM_SANDBOX_SMS_FILE"] = sms_files[index % len(sms_files)]


_isolate_xdist_worker(os.environ)

from .base import *  # noqa: E402,F403 - settings modules extend the shared base by design

DEBUG = False
SECRET_KEY = "test-secret-key-only-for-the-test-suite-" + "x" * 20
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; tests only
ALLOWED_HOSTS = ["*"]
# A test may end the live server's idle database session (copying the test database for a second portal needs it
# unused): the next request checks its connection and opens a new one instead of failing on the old.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # noqa: F405
# Serve static files straight from the source folders (no collectstatic before tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
