"""Test settings: `make test` points DATABASE_URL/REDIS_URL at throwaway PostgreSQL and Redis."""

import os

os.environ.setdefault("SMS_BACKEND", "locmem")

from .base import *  # noqa: E402,F403 - settings modules extend the shared base by design

DEBUG = False
SECRET_KEY = "test-secret-key-only-for-the-test-suite-" + "x" * 20
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; tests only
ALLOWED_HOSTS = ["*"]
# Serve static files straight from the source folders (no collectstatic before tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
