"""API tokens: a new one at each sign-in, revoked at sign-out, a staff token ends after STAFF_IDLE_MINUTES unused
(core.services.api_token_*, the expiry in abha/api/authentication.py)."""

import datetime

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from abha.api.authentication import TokenWithAccountAuthentication
from core.enums import Role
from core.models import ApiTokenUse, AuditEvent
from core.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def _sign_in(username):
    response = APIClient().post("/api/v1/auth/token/", {"username": username, "password": PASSWORD}, format="json")
    assert response.status_code == 200
    return response.json()["token"]


def _me(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get("/api/v1/me/").status_code


def _age(key, *, created=None, last_used=None):
    """Moves a token's issue time (and its recorded last use) into the past."""
    if created is not None:
        Token.objects.filter(key=key).update(created=timezone.now() - created)
    if last_used is not None:
        ApiTokenUse.objects.update_or_create(token_id=key, defaults={"last_used": timezone.now() - last_used})


def test_each_staff_sign_in_issues_a_new_token_and_the_previous_one_stops_working():
    UserFactory(username="staff1", role=Role.FACILITY_STAFF)
    first = _sign_in("staff1")
    second = _sign_in("staff1")
    assert first != second
    assert _me(first) == 401 and _me(second) == 200
    assert AuditEvent.objects.filter(action="auth.token_issued").count() == 2


def test_sign_out_revokes_the_callers_token_only():
    UserFactory(username="staff1", role=Role.FACILITY_STAFF)
    UserFactory(username="staff2", role=Role.FACILITY_STAFF)
    mine, theirs = _sign_in("staff1"), _sign_in("staff2")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {mine}")
    assert client.post("/api/v1/auth/sign-out/").status_code == 204
    assert _me(mine) == 401 and _me(theirs) == 200
    assert client.post("/api/v1/auth/sign-out/").status_code == 401  # the revoked token cannot even sign out
    assert AuditEvent.objects.filter(action="auth.token_revoked", actor__username="staff1").count() == 1


def test_sign_out_needs_a_signed_in_caller():
    response = APIClient().post("/api/v1/auth/sign-out/")
    assert response.status_code == 401 and not AuditEvent.objects.filter(action="auth.token_revoked").exists()


@pytest.mark.parametrize(
    "user_kwargs",
    [
        {"role": Role.FACILITY_STAFF},
        {"role": Role.STATE_OFFICIAL},
        {"role": Role.CITIZEN, "is_staff": True},  # an admin made with createsuperuser keeps the citizen role
    ],
)
def test_a_staff_token_ends_after_staff_idle_minutes_unused(user_kwargs):
    UserFactory(username="staff1", **user_kwargs)
    key = _sign_in("staff1")
    _age(key, created=datetime.timedelta(minutes=29))
    assert _me(key) == 200  # 29 min idle: still good, and this use is recorded
    _age(key, last_used=datetime.timedelta(minutes=31))
    assert _me(key) == 401
    assert not Token.objects.filter(key=key).exists()  # deleted: no later setting change revives it


def test_using_a_staff_token_keeps_it_alive_past_the_idle_time_from_sign_in():
    UserFactory(username="staff1", role=Role.FACILITY_STAFF)
    key = _sign_in("staff1")
    _age(key, created=datetime.timedelta(hours=3), last_used=datetime.timedelta(minutes=20))
    assert _me(key) == 200
    assert timezone.now() - ApiTokenUse.objects.get(token_id=key).last_used < datetime.timedelta(seconds=5)


def test_a_staff_token_never_used_ends_staff_idle_minutes_after_sign_in():
    UserFactory(username="staff1", role=Role.FACILITY_STAFF)
    key = _sign_in("staff1")
    _age(key, created=datetime.timedelta(minutes=31))
    assert _me(key) == 401


@override_settings(STAFF_IDLE_MINUTES=5)
def test_the_staff_idle_time_is_the_setting():
    UserFactory(username="staff1", role=Role.FACILITY_STAFF)
    key = _sign_in("staff1")
    _age(key, created=datetime.timedelta(minutes=6))
    assert _me(key) == 401


def _use_writes(key):
    with CaptureQueriesContext(connection) as queries:
        TokenWithAccountAuthentication().authenticate_credentials(key)
    return [q["sql"] for q in queries if "core_apitokenuse" in q["sql"] and q["sql"].startswith("INSERT")]


def test_a_staff_tokens_last_use_is_written_at_most_once_a_minute():
    key = Token.objects.create(user=UserFactory(role=Role.FACILITY_STAFF)).key
    assert _use_writes(key) == []  # issued just now: nothing to record
    _age(key, created=datetime.timedelta(minutes=2))
    assert len(_use_writes(key)) == 1
    assert _use_writes(key) == []  # recorded a moment ago
