"""Production refuses to start without every ABDM setting; dev and tests default to the local sandbox."""

import os
import subprocess
import sys

import pytest

from core.tests.test_settings import PROD_ENV, ROOT, _manage

ABDM_SETTINGS = [
    "ABDM_GATEWAY_URL",
    "ABDM_ABHA_URL",
    "ABDM_HFR_URL",
    "ABDM_CLIENT_ID",
    "ABDM_CLIENT_SECRET",
    "ABDM_CM_ID",
    "ABDM_BRIDGE_URL",
    "ABDM_TIMEOUT",
]


@pytest.mark.parametrize("name", ABDM_SETTINGS)
def test_production_refuses_to_start_without_each_abdm_setting(name):
    result = _manage("check", extra_env={k: v for k, v in PROD_ENV.items() if k != name}, drop=(name,))
    assert result.returncode != 0
    assert f"Set {name}" in result.stderr


def test_production_starts_with_them_all():
    result = _manage("check", extra_env=PROD_ENV)
    assert result.returncode == 0, result.stderr


def test_without_them_the_portal_talks_to_the_local_sandbox():
    environment = {k: v for k, v in os.environ.items() if k not in ABDM_SETTINGS}
    environment.update(DJANGO_SETTINGS_MODULE="config.settings.test", ABDM_SANDBOX_PORT="8123")
    code = (
        "from django.conf import settings as s; print(s.ABDM_GATEWAY_URL, s.ABDM_ABHA_URL, s.ABDM_HFR_URL, "
        "s.ABDM_CLIENT_ID, s.ABDM_CM_ID, s.ABDM_TIMEOUT)"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-6:] == [
        "http://127.0.0.1:8123",
        "http://127.0.0.1:8123/abha/api",
        "http://127.0.0.1:8123/v4/int",
        "state-portal",
        "sbx",
        "10",
    ]
