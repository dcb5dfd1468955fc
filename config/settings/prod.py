"""Production: every secret comes from the environment; `manage.py check --deploy` is clean."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403 - settings modules extend the shared base by design
from .base import SMS_BACKEND
from .env import env_bool, env_int, env_str

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")  # refuses to start without one
if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure"):
    raise ImproperlyConfigured("SECRET_KEY must be a random string of at least 50 characters.")
if SMS_BACKEND in {"locmem"}:
    raise ImproperlyConfigured("SMS_BACKEND=locmem is for tests only.")
# The embedded servers of `make run` are for one machine's demo: production names its own servers.
for _name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
    if not env_str(_name, ""):
        raise ImproperlyConfigured(f"Set {_name}: production runs on its own PostgreSQL and Redis servers.")
# ABDM: production talks to ABDM, never to the local sandbox's defaults.
for _name in (
    "ABDM_GATEWAY_URL",
    "ABDM_ABHA_URL",
    "ABDM_HFR_URL",
    "ABDM_CLIENT_ID",
    "ABDM_CLIENT_SECRET",
    "ABDM_CM_ID",
    "ABDM_BRIDGE_URL",
    "ABDM_TIMEOUT",
):
    if not env_str(_name, ""):
        raise ImproperlyConfigured(f"Set {_name}: production talks to ABDM (README, 'ABDM configuration').")

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=300)
