"""After an enrollment with Aadhaar, the raw number is nowhere: database, logs, cache."""

import logging

import pytest
from django.core.cache import cache
from django.db import connection

from abha.models import OtpTransaction

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("geography")]


def _every_text_value_in_the_database() -> str:
    """Like a pg_dump: every column of every table in the public schema, cast to text."""
    dump = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        for (table,) in cursor.fetchall():
            cursor.execute(f'SELECT t::text FROM "{table}" AS t')  # noqa: S608 - table names come from pg_tables
            dump.extend(row[0] for row in cursor.fetchall())
    return "\n".join(dump)


def _cache_contents() -> str:
    client = cache._cache.get_client()  # the Redis client behind Django's cache
    values = []
    for key in client.scan_iter("*"):
        values.append(key.decode(errors="replace"))
        if client.type(key) == b"string":
            values.append(client.get(key).decode(errors="replace"))
    return "\n".join(values)


def _forms(aadhaar: str) -> list[str]:
    return [aadhaar, f"{aadhaar[:4]} {aadhaar[4:8]} {aadhaar[8:]}", f"{aadhaar[:4]}-{aadhaar[4:8]}-{aadhaar[8:]}"]


def test_raw_aadhaar_is_in_no_table_log_or_cache(otp_api, resident, caplog):
    caplog.set_level(logging.DEBUG)
    person = resident()
    body = otp_api.enrol(person)
    again_txn, _ = otp_api.start(person)  # the same Aadhaar again: ABDM returns the ABHA
    assert otp_api.verify(again_txn, person).json()["is_new"] is False
    invalid = otp_api.post("/api/v1/abha/enrolment/otp/", {"aadhaar": "234123412345", "consent_version": "2025-04"})
    assert invalid.status_code == 400

    dump = _every_text_value_in_the_database()
    assert body["abha_number"].replace("-", "") in dump  # the dump does see our rows
    for form in (*_forms(person.aadhaar), "234123412345"):
        assert form not in dump
        assert form not in caplog.text
        assert form not in _cache_contents()
    assert "aadhaar" not in body
    assert not OtpTransaction.objects.exclude(otp_hash="").exists()  # ABDM checked every OTP: none kept here


def test_raw_aadhaar_is_nowhere_after_a_browser_enrollment(client, resident, abdm_sandbox, caplog):
    from django.urls import reverse

    caplog.set_level(logging.DEBUG)
    person = resident()
    typed = _forms(person.aadhaar)[2]
    client.post(reverse("abha:enrol_start"), {"agree": "on"})
    assert client.post(reverse("abha:enrol_aadhaar"), {"aadhaar": typed}).status_code == 302
    # Looked at again mid-way (sessions, transaction) and after the account exists.
    midway = _every_text_value_in_the_database()
    assert all(form not in midway for form in _forms(person.aadhaar))
    otp = {"otp": abdm_sandbox.last_otp(person.mobile), "mobile": person.mobile}
    assert client.post(reverse("abha:enrol_otp"), otp).url == reverse("abha:enrol_address")
    assert client.post(reverse("abha:enrol_address"), {"choice": "default"}).url == reverse("abha:enrol_done")
    dump = _every_text_value_in_the_database()
    for form in _forms(person.aadhaar):
        assert form not in dump and form not in caplog.text and form not in _cache_contents()
