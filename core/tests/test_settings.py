import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config import embedded
from config.settings import env

ROOT = Path(__file__).resolve().parents[2]
PROD_ENV = {
    "SECRET_KEY": "k" * 20 + "0123456789abcdefghijklmnopqrstuvwxyz!@#$%",
    "REDIS_URL": "redis://127.0.0.1:6399/0",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6399/1",
    "DATABASE_URL": "postgres://portal@127.0.0.1:5432/portal",
    "ALLOWED_HOSTS": "portal.example.org",
    "SMS_BACKEND": "console",
    # Production talks to ABDM: every ABDM_* setting is required (abdm/tests/test_settings.py).
    "ABDM_GATEWAY_URL": "https://dev.abdm.gov.in",
    "ABDM_ABHA_URL": "https://abhasbx.abdm.gov.in/abha/api",
    "ABDM_HFR_URL": "https://apihspsbx.abdm.gov.in/v4/int",
    "ABDM_CLIENT_ID": "SBX_000000",
    "ABDM_CLIENT_SECRET": "not-a-real-secret",
    "ABDM_CM_ID": "sbx",
    "ABDM_BRIDGE_URL": "https://portal.example.org",
    "ABDM_TIMEOUT": "10",
}


def _manage(*args, extra_env=None, drop=()):
    environment = {k: v for k, v in os.environ.items() if k not in drop}
    environment.update(DJANGO_SETTINGS_MODULE="config.settings.prod", **(extra_env or {}))
    for name in drop:
        environment.pop(name, None)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("value, expected", [("true", True), ("1", True), ("off", False), ("No", False)])
def test_env_bool_reads_common_spellings(monkeypatch, value, expected):
    monkeypatch.setenv("X_FLAG", value)
    assert env.env_bool("X_FLAG", not expected) is expected


@pytest.mark.parametrize(
    "reader, value",
    [
        (lambda: env.env_bool("X_VAL", False), "maybe"),
        (lambda: env.env_int("X_VAL", 1), "ten"),
        (lambda: env.env_int("X_VAL", 1, minimum=1), "0"),
        (lambda: env.env_rate("X_VAL", "5/hour"), "5 per hour"),
    ],
)
def test_env_readers_fail_loudly_on_bad_values(monkeypatch, reader, value):
    monkeypatch.setenv("X_VAL", value)
    with pytest.raises(ImproperlyConfigured, match="X_VAL"):
        reader()


def test_env_str_without_default_requires_the_variable(monkeypatch):
    monkeypatch.delenv("X_REQUIRED", raising=False)
    with pytest.raises(ImproperlyConfigured, match="X_REQUIRED"):
        env.env_str("X_REQUIRED")


def test_env_list_splits_and_trims(monkeypatch):
    monkeypatch.setenv("X_HOSTS", " a.example , b.example,, ")
    assert env.env_list("X_HOSTS", []) == ["a.example", "b.example"]


def test_production_check_deploy_is_clean():
    # DJANGO_ALLOW_ASYNC_UNSAFE is set for the browser tests only; no deployment has it.
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING", extra_env=PROD_ENV, drop=("DJANGO_ALLOW_ASYNC_UNSAFE",)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNINGS" not in result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    settings_env = {k: v for k, v in PROD_ENV.items() if k != "SECRET_KEY"}
    result = _manage("check", extra_env=settings_env, drop=("SECRET_KEY",))
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.parametrize("name", ["DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"])
def test_production_refuses_to_fall_back_to_the_embedded_servers(name):
    result = _manage("check", extra_env={k: v for k, v in PROD_ENV.items() if k != name}, drop=(name,))
    assert result.returncode != 0
    assert name in result.stderr


def test_production_refuses_a_database_other_than_postgresql():
    result = _manage("check", extra_env={**PROD_ENV, "DATABASE_URL": "sqlite:///tmp/portal.sqlite3"})
    assert result.returncode != 0
    assert "must point at PostgreSQL" in result.stderr


def test_dev_defaults_are_the_embedded_postgresql_and_redis_under_var(tmp_path):
    code = (
        "from django.conf import settings; d = settings.DATABASES['default'];"
        "print(d['ENGINE'], d['HOST'], d['NAME']);"
        "print(settings.CACHES['default']['LOCATION']); print(settings.CELERY_BROKER_URL)"
    )
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")}
    environment.update(DJANGO_SETTINGS_MODULE="config.settings.dev", VAR_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    database, cache, broker = result.stdout.splitlines()[-3:]
    assert database == f"django.db.backends.postgresql {embedded.pg_socket_dir(tmp_path)} portal"
    assert cache == f"unix://{embedded.redis_socket(tmp_path)}?db=0"
    assert broker == f"redis+socket://{embedded.redis_socket(tmp_path)}?virtual_host=1"
    # The dev secret is generated once into var/ and kept.
    assert (tmp_path / "secret_key").read_text() == (tmp_path / "secret_key").read_text().strip()
    assert len((tmp_path / "secret_key").read_text()) >= 50


def test_no_secret_file_is_tracked_by_git():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    assert not [name for name in tracked if name.startswith("var/") or name.endswith("secret_key")]


def test_models_have_no_missing_migrations():
    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
