"""The sandbox's models and migrations agree (its own Django project, so the portal's check does not see it)."""

import subprocess
import sys

from abdm_sandbox.testing import ROOT


def test_sandbox_has_no_pending_migrations():
    result = subprocess.run(  # noqa: S603 - our own interpreter and module, fixed arguments
        [sys.executable, "-W", "ignore::RuntimeWarning", "-m", "abdm_sandbox"]
        + ["makemigrations", "--check", "--dry-run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
