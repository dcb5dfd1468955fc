"""Settings shared by every environment. Values that differ per deployment come from the environment."""

from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.conf import locale
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Queue

from config import embedded

from .env import env_bool, env_int, env_list, env_rate, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "csp",
    # Order matters to seed_demo: each app's demo.py may use what the ones above it created.
    # It is also the import direction: an app imports only apps above it (docs/ARCHITECTURE.md).
    "core",
    "abdm",
    "facilities",
    "abha",
    "scanshare",
    "records",
    "microsites",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.ApiErrorsAsJsonMiddleware",  # DEBUG's HTML error pages become JSON under /api/
    "core.middleware.RejectNulBytesMiddleware",  # PostgreSQL text cannot hold NUL: a 400, not a 500
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "core.middleware.StaffIdleTimeoutMiddleware",
    "core.middleware.PrivateNoStoreMiddleware",  # signed-in answers hold personal data: never cached
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # ABDM refused a call or is not answering and the view did not catch it: its message, 4xx or 503, never a 500.
    "core.middleware.UpstreamErrorMiddleware",
    # Last, so it sees a view's exception first: an unreachable database, cache or broker becomes a 503.
    "core.outage.ServiceUnavailableMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
# PostgreSQL everywhere. Unset, DATABASE_URL means the embedded server of `make run` (config/embedded.py: a
# PostgreSQL from a pip wheel, data under var/postgres, on a Unix socket); production sets it (prod.py requires it).
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", "") or embedded.database_url(VAR_DIR),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (postgres://...): the portal runs on no other.")
# The ORM binds parameters on the client, which psycopg never prepares; the few hot statements written by hand
# on a server-binding cursor (the API's token authentication) are prepared on their 5th run on a connection.
# Set DB_PREPARE_THRESHOLD=0 to turn that off behind a pooler in transaction mode (pgbouncer < 1.21).
_prepare_threshold = env_int("DB_PREPARE_THRESHOLD", 5, minimum=0)
DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = _prepare_threshold or None
# A database host that does not answer (hung, firewalled) fails the connection after this many seconds, which
# core/outage.py answers with a 503, instead of holding a gunicorn worker until gunicorn kills it.
DATABASES["default"]["OPTIONS"]["connect_timeout"] = env_int("DB_CONNECT_TIMEOUT", 5, minimum=1)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (throttling, OTP rate limits) ----------------------------------
# Redis everywhere. Unset, REDIS_URL means the embedded Redis of `make run` (config/embedded.py, a Unix socket).
REDIS_URL = env_str("REDIS_URL", "") or embedded.redis_url(VAR_DIR)
# Seconds to wait for a Redis (cache or broker) that does not answer: then throttles let requests through, OTP
# limits answer 503, and a task is left for its sweep, instead of a request hanging until gunicorn kills its worker.
REDIS_TIMEOUT = env_int("REDIS_TIMEOUT", 5, minimum=1)
CACHES = {
    "default": {
        "BACKEND": "core.cache.PooledRedisCache",  # Django's, without a new client object per call
        "LOCATION": REDIS_URL,
        "OPTIONS": {"socket_connect_timeout": REDIS_TIMEOUT, "socket_timeout": REDIS_TIMEOUT},
    }
}

# --- Auth -----------------------------------------------------------------
AUTH_USER_MODEL = "core.User"
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "core:home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # Passwords are for staff and officials only (citizens sign in with an OTP): 12 characters at least.
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Staff sign-in lockout (core/services.py): this many wrong passwords for one username, or from one
# client IP (a hospital signs many staff in from one address), pause sign-in for LOGIN_LOCKOUT_MINUTES.
LOGIN_ACCOUNT_MAX_FAILURES = env_int("LOGIN_ACCOUNT_MAX_FAILURES", 5, minimum=1)
LOGIN_IP_MAX_FAILURES = env_int("LOGIN_IP_MAX_FAILURES", 50, minimum=1)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1)
# Staff and officials are signed out after this long without a request (core/middleware.py).
STAFF_IDLE_MINUTES = env_int("STAFF_IDLE_MINUTES", 30, minimum=1)
# API tokens (abha/api/authentication.py): a staff token ends after STAFF_IDLE_MINUTES unused, like the session;
# a citizen's this many hours after sign-in, however much it is used.
CITIZEN_TOKEN_HOURS = env_int("CITIZEN_TOKEN_HOURS", 24, minimum=1)

# --- Internationalisation -------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("hi", _("Hindi")), ("gu", _("Gujarati"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["config.formats"]  # Indian digit grouping (lakh, crore) in all three languages
# Django ships no language info for Gujarati; add it so the switcher can name it in its own script.
locale.LANG_INFO.setdefault("gu", {"bidi": False, "code": "gu", "name": "Gujarati", "name_local": "ગુજરાતી"})
TIME_ZONE = "Asia/Kolkata"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files --------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Celery ---------------------------------------------------------------
# Redis is the broker in every mode: unset, database 1 of the Redis that REDIS_URL names (the embedded one by default).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "") or embedded.broker_url_for(REDIS_URL)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A task whose worker died is redelivered after this many seconds (acks_late below).
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=60),
    # Without a socket timeout a publish to a broker that stopped answering waits forever (kombu's docs).
    "socket_timeout": REDIS_TIMEOUT,
    "socket_connect_timeout": REDIS_TIMEOUT,
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# The ABDM side (outbox calls, link dispatch, HIP pushes) has its own queue: a 2-lakh-row job queues tens of
# thousands of outbox calls, and a linking chunk queued after them (a restarted worker resuming a job) waited behind
# all of them. A worker started without -Q consumes every queue listed here, in turn.
CELERY_TASK_QUEUES = (Queue("celery"), Queue("abdm"))
CELERY_TASK_ROUTES = {
    "abdm.*": {"queue": "abdm"},
    "records.abdm_*": {"queue": "abdm"},
    "records.hip_*": {"queue": "abdm"},
}
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # the worker logs through LOGGING's masking handler (core/logging.py)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- REST API -------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "abha.api.authentication.TokenWithAccountAuthentication",  # DRF's token auth + the citizen's account
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's parsers; JSON nested deeper than any request of ours is a 400 (core/api/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "core.api.parsers.DepthLimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.CountedPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.PortalAutoSchema",  # adds the error responses (core/api/schema.py)
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "core.api.negotiation.FormatAwareNegotiation",  # unknown ?format=: a 400
    # DRF's anon/user throttles that let requests through while the cache (Redis) is down (core/api/throttles.py).
    "DEFAULT_THROTTLE_CLASSES": [
        "core.api.throttles.AnonRateThrottle",
        "core.api.throttles.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_rate("API_ANON_RATE", "600/minute"),
        "user": env_rate("API_USER_RATE", "6000/minute"),
        "login": env_rate("API_LOGIN_RATE", "20/minute"),
    },
    "NUM_PROXIES": env_int("NUM_PROXIES", 0, minimum=0),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ABDM State Portal API",
    "DESCRIPTION": (
        "ABHA enrollment, facility and professional registries, consent-gated health records, "
        "record linking, Scan & Share and dashboards. Send `Authorization: Token <key>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "category"; name each choice set after its enum.
    "ENUM_NAME_OVERRIDES": {
        "ProfessionalCategoryEnum": "facilities.enums.ProfessionalCategory",
        "MicrositeCategoryEnum": "microsites.enums.Category",
        "HiTypeEnum": "records.enums.HiType",  # used both as hi_type and as a list, hi_types
        "FacilityStatusEnum": "facilities.enums.FacilityStatus",  # "status" names several choice sets
        "LinkingJobStatusEnum": "records.enums.LinkingJobStatus",
    },
}

# --- Portal ---------------------------------------------------------------
SMS_BACKEND = env_str("SMS_BACKEND", "console")
SMS_FILE_PATH = Path(env_str("SMS_FILE_PATH", str(VAR_DIR / "sms" / "outbox.jsonl")))
SMS_HTTP_URL = env_str("SMS_HTTP_URL", "")
SMS_HTTP_TOKEN = env_str("SMS_HTTP_TOKEN", "")
SMS_HTTP_SENDER = env_str("SMS_HTTP_SENDER", "ABDMGJ")
SMS_HTTP_TIMEOUT = env_int("SMS_HTTP_TIMEOUT", 10, minimum=1)
PORTAL_STATE_LGD = env_int("PORTAL_STATE_LGD", 24, minimum=1)
# Public address of the portal, printed in QR posters' share URLs (<site>/scan/?hip-id=...&counter-id=...).
# Unset: the local server on $PORT (`PORT=9000 make run`), so printed links follow the port.
PORTAL_BASE_URL = env_str("PORTAL_BASE_URL", f"http://127.0.0.1:{env_int('PORT', 8000, minimum=1)}")
# --- ABDM --------------------------------------------------------------------
# Where the portal talks to ABDM (the abdm app). Unset: the local ABDM sandbox of `make run` and the tests
# (abdm_sandbox, port ABDM_SANDBOX_PORT). Set them to ABDM's sandbox (https://dev.abdm.gov.in for the gateway,
# https://abhasbx.abdm.gov.in/abha/api for ABHA, as the published `servers` say) or production with no code change.
# Production refuses to start without every one of them set (prod.py).
_ABDM_SANDBOX = f"http://127.0.0.1:{env_int('ABDM_SANDBOX_PORT', 8001, minimum=1)}"
ABDM_GATEWAY_URL = env_str("ABDM_GATEWAY_URL", _ABDM_SANDBOX).rstrip("/")
ABDM_ABHA_URL = env_str("ABDM_ABHA_URL", _ABDM_SANDBOX + "/abha/api").rstrip("/")
ABDM_HFR_URL = env_str("ABDM_HFR_URL", _ABDM_SANDBOX + "/v4/int").rstrip("/")
ABDM_CLIENT_ID = env_str("ABDM_CLIENT_ID", "state-portal")
ABDM_CLIENT_SECRET = env_str("ABDM_CLIENT_SECRET", "sandbox-secret")
ABDM_CM_ID = env_str("ABDM_CM_ID", "sbx")
# The portal's public address, which the gateway calls back (registered with the gateway at start when it changes).
ABDM_BRIDGE_URL = env_str("ABDM_BRIDGE_URL", f"http://127.0.0.1:{env_int('PORT', 8000, minimum=1)}").rstrip("/")
ABDM_TIMEOUT = env_int("ABDM_TIMEOUT", 10, minimum=1)  # seconds per call to ABDM
# Outbox: an unanswered message is retried with backoff (capped) and given up after this many hours.
ABDM_OUTBOX_MAX_DELAY = env_int("ABDM_OUTBOX_MAX_DELAY", 30 * 60, minimum=1)
ABDM_OUTBOX_GIVE_UP_HOURS = env_int("ABDM_OUTBOX_GIVE_UP_HOURS", 24, minimum=1)
# Scan & Share: the URL in counter QR codes that the ABHA app opens (`?hip-id=<HFR ID>&counter-id=<code>`), ABDM's
# share-profile page: phrsbx.abdm.gov.in in ABDM's sandbox (the "Scan and share" concept page); set production's.
ABDM_SHARE_PROFILE_URL = env_str("ABDM_SHARE_PROFILE_URL", "https://phrsbx.abdm.gov.in/share-profile").rstrip("/")

# ABHA: address suffix (abdm in production; ABDM issues numbers and addresses, the portal mints neither),
# and OTP request rates in DRF's syntax, per mobile and purpose (a family's phone signs in and enrols apart) and
# per client IP (camps share one address).
ABHA_ADDRESS_SUFFIX = env_str("ABHA_ADDRESS_SUFFIX", "sbx")
OTP_MOBILE_RATE = env_rate("OTP_MOBILE_RATE", "10/hour")
OTP_IP_RATE = env_rate("OTP_IP_RATE", "600/hour")
# Wrong OTPs from one client IP (any mobile) before that IP is refused for the rest of the window.
OTP_IP_WRONG_RATE = env_rate("OTP_IP_WRONG_RATE", "100/hour")

# Records and consent: an unanswered consent request expires after this many hours; an emergency
# (break-the-glass) access lasts this many minutes.
CONSENT_REQUEST_TTL_HOURS = env_int("CONSENT_REQUEST_TTL_HOURS", 24, minimum=1)
BTG_ACCESS_MINUTES = env_int("BTG_ACCESS_MINUTES", 60, minimum=1)
# Emergency accesses one doctor may open per window (each is reviewed by the state; more is refused with 429).
BTG_RATE = env_rate("BTG_RATE", "5/day")

# Scan & Share: an OPD token stays valid (and a repeat share returns it) for this many minutes.
SCAN_TOKEN_VALIDITY_MINUTES = env_int("SCAN_TOKEN_VALIDITY_MINUTES", 30, minimum=1)

# Digital Health Incentive Scheme (DHIS), the microsites' "incentive-eligible transactions": per facility and
# month, ABHA-linked transactions above a base earn a rate in rupees. Hospitals with DHIS_MIN_BEDS beds or more:
# base DHIS_BASE_PER_BED x beds, DHIS_HOSPITAL_RATE each; labs and imaging centres: base DHIS_LAB_BASE,
# DHIS_LAB_RATE each; other facilities are not eligible (microsites.selectors.dhis_incentive).
DHIS_MIN_BEDS = env_int("DHIS_MIN_BEDS", 10, minimum=1)
DHIS_BASE_PER_BED = env_int("DHIS_BASE_PER_BED", 50, minimum=0)
DHIS_HOSPITAL_RATE = env_int("DHIS_HOSPITAL_RATE", 20, minimum=0)
DHIS_LAB_BASE = env_int("DHIS_LAB_BASE", 500, minimum=0)
DHIS_LAB_RATE = env_int("DHIS_LAB_RATE", 15, minimum=0)

# Record-linking jobs: the largest upload (bytes), rows per chunk (one transaction each), how many worker
# tasks share one job, and after how long an untouched queued job is queued again by the resume sweep.
LINKING_MAX_UPLOAD_BYTES = env_int("LINKING_MAX_UPLOAD_BYTES", 1024 * 1024 * 1024, minimum=1024)
LINKING_CHUNK_ROWS = env_int("LINKING_CHUNK_ROWS", 10000, minimum=1)
LINKING_PARALLEL = env_int("LINKING_PARALLEL", 2, minimum=1)
LINKING_RESUME_AFTER_SECONDS = env_int("LINKING_RESUME_AFTER_SECONDS", 60, minimum=1)

# --- Content-Security-Policy (django-csp) ----------------------------------
# Scripts and styles only from our own static files: no inline <script>, no on*= handlers, no
# style="" attributes, no eval. Page scripts live in static/js/ and read their data from data-*
# attributes; htmx is told (base.html) not to inject styles or evaluate code. The one page that
# needs more, Swagger UI at /api/docs/, widens its own policy (config/urls.py), not this one.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "core.views.csrf_failure"

# Every line goes through one handler that masks ABHA numbers and addresses (and Aadhaar- and mobile-shaped
# numbers): URLs in Django's and runserver's lines carry them in query strings (core/logging.py). Django's own
# `django` and `django.server` handlers would bypass it, so those loggers write through the root's handler.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "core.logging.RedactPersonalData"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "WARNING"},
    },
}
