"""Settings of the local ABDM sandbox (its own Django project; nothing here comes from config.settings).

Environment:
    ABDM_SANDBOX_DATABASE_URL  its PostgreSQL database; default: the database `abdm_sandbox` on the server of
                               DATABASE_URL, else on `make run`'s embedded PostgreSQL (config/embedded.py)
    ABDM_SANDBOX_URL           its public root URL (the `iss` of its callback tokens); default http://127.0.0.1:<port>
    ABDM_SANDBOX_CLIENTS       its API clients, `id:secret,id:secret` (default state-portal:sandbox-secret)
    ABDM_SANDBOX_SMS_FILE      where its UIDAI part "sends" Aadhaar OTPs (default var/sms/outbox.jsonl)
    DEBUG, LOG_LEVEL, VAR_DIR  as for the portal
"""

import importlib.util
import os
import urllib.parse
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR") or BASE_DIR / "var")
DATABASE_NAME = "abdm_sandbox"


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use true/false).")


def _embedded_database_url() -> str:
    """The embedded PostgreSQL's socket URL. config/embedded.py is loaded by its file path: importing the
    `config` package would start the portal's Celery app, and the sandbox shares nothing with the portal."""
    spec = importlib.util.spec_from_file_location("_portal_embedded", BASE_DIR / "config" / "embedded.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.database_url(VAR_DIR)


def _with_database(url: str, name: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def sandbox_database_url() -> str:
    explicit = os.environ.get("ABDM_SANDBOX_DATABASE_URL")
    if explicit:
        return explicit
    return _with_database(os.environ.get("DATABASE_URL") or _embedded_database_url(), DATABASE_NAME)


def _clients(value: str) -> dict[str, str]:
    clients = {}
    for pair in value.split(","):
        if not pair.strip():
            continue
        client_id, sep, secret = pair.strip().partition(":")
        if not sep or not client_id or not secret:
            raise ImproperlyConfigured(f"ABDM_SANDBOX_CLIENTS: {pair!r} is not `client-id:secret`.")
        clients[client_id] = secret
    return clients


SECRET_KEY = os.environ.get("ABDM_SANDBOX_SECRET_KEY") or "abdm-sandbox-not-secret"  # nothing here is signed with it
DEBUG = _env_bool("DEBUG", False)
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "abdm_sandbox",
    "abdm_sandbox.abha",
    "abdm_sandbox.linking",
    "abdm_sandbox.consent",
]
# No CSRF, sessions or auth middleware: every caller is an API client with a bearer token.
MIDDLEWARE = ["abdm_sandbox.middleware.JsonErrorsMiddleware"]
ROOT_URLCONF = "abdm_sandbox.urls"
WSGI_APPLICATION = "abdm_sandbox.wsgi.application"
APPEND_SLASH = False
TEMPLATES = []

DATABASES = {"default": dj_database_url.parse(sandbox_database_url(), conn_max_age=60, conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("ABDM_SANDBOX_DATABASE_URL must point at PostgreSQL (postgres://...).")
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 5
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

USE_TZ = True
TIME_ZONE = "UTC"
USE_I18N = False

# --- the sandbox's own knobs --------------------------------------------------------------------------
SANDBOX_PORT = int(os.environ.get("ABDM_SANDBOX_PORT") or 8001)
SANDBOX_URL = (os.environ.get("ABDM_SANDBOX_URL") or f"http://127.0.0.1:{SANDBOX_PORT}").rstrip("/")
SANDBOX_CLIENTS = _clients(os.environ.get("ABDM_SANDBOX_CLIENTS") or "state-portal:sandbox-secret")
SANDBOX_SMS_FILE = Path(
    os.environ.get("ABDM_SANDBOX_SMS_FILE") or os.environ.get("SMS_FILE_PATH") or VAR_DIR / "sms" / "outbox.jsonl"
)
SANDBOX_CM_ID = os.environ.get("ABDM_CM_ID") or "sbx"
# Seconds a session token lives (the gateway's `expiresIn`; ABDM's sandbox answers 1200) and a refresh token.
SANDBOX_SESSION_SECONDS = int(os.environ.get("ABDM_SANDBOX_SESSION_SECONDS") or 1200)
SANDBOX_REFRESH_SECONDS = int(os.environ.get("ABDM_SANDBOX_REFRESH_SECONDS") or 1800)
SANDBOX_CALLBACK_TIMEOUT = int(os.environ.get("ABDM_SANDBOX_CALLBACK_TIMEOUT") or 10)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s abdm-sandbox %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["stderr"], "level": os.environ.get("LOG_LEVEL") or "INFO"},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
