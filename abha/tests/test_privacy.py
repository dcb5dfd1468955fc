"""After an enrollment with Aadhaar, the raw number is nowhere: database, logs, cache."""

import logging

import pytest
from django.core.cache import cache
from django.db import connection

from .conftest import AADHAAR

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


def test_raw_aadhaar_is_in_no_table_log_or_cache(otp_api, caplog):
    caplog.set_level(logging.DEBUG)
    body = otp_api.enrol(aadhaar="2341 2341 2346")
    duplicate = otp_api.complete(otp_api.verified("9876543211"), aadhaar=AADHAAR)
    assert duplicate.status_code == 409
    invalid = otp_api.complete(otp_api.verified("9876543212"), aadhaar="234123412345")
    assert invalid.status_code == 400

    dump = _every_text_value_in_the_database()
    assert body["abha_number"].replace("-", "") in dump  # the dump does see our rows
    for form in (AADHAAR, "2341 2341 2346", "2341-2341-2346", "23412341234", "234123412345"):
        assert form not in dump
        assert form not in caplog.text
        assert form not in _cache_contents()
    assert body["aadhaar"] == "XXXX-XXXX-2346"


def test_raw_aadhaar_is_nowhere_after_a_browser_enrollment(
    client, sms_outbox, django_capture_on_commit_callbacks, caplog
):
    from django.urls import reverse

    from .conftest import last_otp

    caplog.set_level(logging.DEBUG)

    def post(name, data):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse(name), data)

    post("abha:enrol_start", {"agree": "on"})
    post("abha:enrol_mobile", {"mobile": "9876543210"})
    post("abha:enrol_otp", {"otp": last_otp(sms_outbox)})
    details = {"first_name": "Asha", "gender": "F", "year_of_birth": "1990", "state_lgd": "24", "district_lgd": "443"}
    assert post("abha:enrol_details", {**details, "aadhaar": "2341-2341-2346"}).status_code == 302
    # Looked at again mid-way (sessions, transaction) and after the account exists.
    midway = _every_text_value_in_the_database()
    assert AADHAAR not in midway and "2341-2341-2346" not in midway
    assert post("abha:enrol_address", {"choice": "default"}).url == reverse("abha:enrol_done")
    dump = _every_text_value_in_the_database()
    for form in (AADHAAR, "2341-2341-2346", "234123412346"):
        assert form not in dump and form not in caplog.text and form not in _cache_contents()
