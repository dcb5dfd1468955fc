"""make backup / make restore round trip: a fresh database gets the same rows, uploads come back."""

import os
import subprocess
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from core.models import AuditEvent, District, User
from core.services import audit_record
from core.tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]
TABLES = ["core_user", "core_district", "core_auditevent", "core_populationfigure", "facilities_facility"]


def _url(name: str) -> str:
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{name}"


def _counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in TABLES}  # noqa: S608


def test_backup_restores_into_a_fresh_database_with_the_same_counts(tmp_path):
    assert connection.vendor == "postgresql"
    for user in UserFactory.create_batch(3):
        audit_record(actor=user, action="test.backup")
    media = tmp_path / "media"
    (media / "uploads").mkdir(parents=True)
    (media / "uploads" / "batch.csv").write_text("abha_number,hi_type\n")
    source = _url(settings.DATABASES["default"]["NAME"])
    env = {**os.environ, "DATABASE_URL": source, "MEDIA_ROOT": str(media), "BACKUP_DIR": str(tmp_path / "backups")}
    made = subprocess.run(["scripts/backup.sh"], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    dump, archive = made.stdout.split()

    with psycopg.connect(_url("postgres"), autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS restore_check")
        admin.execute("CREATE DATABASE restore_check")
    try:
        restored_media = tmp_path / "restored-media"
        env = {**os.environ, "DATABASE_URL": _url("restore_check"), "MEDIA_ROOT": str(restored_media)}
        subprocess.run(["scripts/restore.sh", dump, archive], cwd=ROOT, env=env, capture_output=True, check=True)
        assert _counts(_url("restore_check")) == _counts(source)
        assert _counts(source)["core_auditevent"] == AuditEvent.objects.count() >= 3
        assert (restored_media / "uploads" / "batch.csv").read_text() == "abha_number,hi_type\n"
        # Restoring again on top of the restored data is refused, not half-done.
        again = subprocess.run(["scripts/restore.sh", dump, archive], cwd=ROOT, env=env, capture_output=True, text=True)
        assert again.returncode == 2 and "Refusing" in again.stderr
    finally:
        with psycopg.connect(_url("postgres"), autocommit=True) as admin:
            admin.execute("DROP DATABASE IF EXISTS restore_check")
    assert District.objects.count() == 33 and User.objects.count() >= 3
