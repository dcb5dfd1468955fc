"""Staff sign-in: lockout per account and per IP (pages, admin, API), password policy, idle sign-out."""

import time

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import override_settings

from abha.tests.factories import AbhaAccountFactory
from core import services
from core.middleware import LAST_SEEN_KEY
from core.models import AuditEvent
from core.tests.factories import DistrictOfficerFactory, UserFactory

pytestmark = pytest.mark.django_db

RIGHT = "correct-horse-battery"


def _login(client, username, password, ip="10.0.0.1"):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


@pytest.fixture
def later(monkeypatch):
    """later(minutes) moves the lockout's clock forward."""

    def move(minutes):
        now = time.time() + minutes * 60
        monkeypatch.setattr(services, "_clock", lambda: now)

    return move


@override_settings(LOGIN_ACCOUNT_MAX_FAILURES=3, LOGIN_LOCKOUT_MINUTES=15)
def test_wrong_passwords_lock_the_account_even_for_the_right_password_then_it_unlocks(client, later):
    officer = UserFactory(username="officer9")
    for _ in range(3):
        assert _login(client, "officer9", "wrong").status_code == 200
    locked = _login(client, "officer9", RIGHT, ip="10.0.0.2")  # another address: the account itself is locked
    assert locked.status_code == 200
    assert "Too many failed sign-ins" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get(action="auth.locked_out")
    assert event.target_id == str(officer.uuid) and event.details["scope"] == "account"
    assert event.ip_address == "10.0.0.1"
    assert "officer9" not in str(event.details)

    later(14)
    assert "Too many failed sign-ins" in _login(client, "officer9", RIGHT).content.decode()
    later(16)
    assert _login(client, "officer9", RIGHT).status_code == 302


@override_settings(LOGIN_ACCOUNT_MAX_FAILURES=3)
def test_a_success_forgets_the_accounts_earlier_failures(client):
    UserFactory(username="officer9")
    _login(client, "officer9", "wrong")
    _login(client, "officer9", "wrong")
    assert _login(client, "officer9", RIGHT).status_code == 302
    client.post("/accounts/logout/")
    _login(client, "officer9", "wrong")
    _login(client, "officer9", "wrong")
    assert _login(client, "officer9", RIGHT).status_code == 302


@override_settings(LOGIN_ACCOUNT_MAX_FAILURES=100, LOGIN_IP_MAX_FAILURES=4)
def test_one_address_guessing_many_usernames_is_locked_out_other_addresses_are_not(client, later):
    UserFactory(username="officer9")
    for n in range(4):
        _login(client, f"guess{n}", "wrong", ip="10.9.9.9")
    assert "Too many failed sign-ins" in _login(client, "officer9", RIGHT, ip="10.9.9.9").content.decode()
    assert AuditEvent.objects.get(action="auth.locked_out").details["scope"] == "ip"
    assert _login(client, "officer9", RIGHT, ip="10.0.0.7").status_code == 302
    later(16)
    client.post("/accounts/logout/")
    assert _login(client, "officer9", RIGHT, ip="10.9.9.9").status_code == 302


@override_settings(LOGIN_ACCOUNT_MAX_FAILURES=2)
def test_unknown_usernames_lock_like_real_ones(client):
    for _ in range(2):
        _login(client, "nobody", "wrong")
    assert "Too many failed sign-ins" in _login(client, "nobody", "wrong").content.decode()
    assert AuditEvent.objects.get(action="auth.locked_out").target_id == ""


@override_settings(LOGIN_ACCOUNT_MAX_FAILURES=2)
def test_admin_sign_in_shares_the_lockout(client):
    DistrictOfficerFactory(username="officer9")
    for _ in range(2):
        client.post("/admin/login/", {"username": "officer9", "password": "wrong"})
    page = client.post("/admin/login/", {"username": "officer9", "password": RIGHT})
    assert page.status_code == 200
    assert "Too many failed sign-ins" in page.content.decode()


@override_settings(LOGIN_ACCOUNT_MAX_FAILURES=2)
def test_api_token_lockout_answers_429_in_the_error_shape_and_unlocks(api_client, later):
    UserFactory(username="officer9")
    for _ in range(2):
        wrong = api_client.post("/api/v1/auth/token/", {"username": "officer9", "password": "wrong"}, format="json")
        assert wrong.status_code == 400
    locked = api_client.post("/api/v1/auth/token/", {"username": "officer9", "password": RIGHT}, format="json")
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "locked_out"
    assert 0 < int(locked["Retry-After"]) <= 15 * 60
    assert "Too many failed sign-ins" in locked.json()["error"]["message"]
    later(16)
    right = api_client.post("/api/v1/auth/token/", {"username": "officer9", "password": RIGHT}, format="json")
    assert right.status_code == 200 and right.json()["token"]


# --- Password policy -----------------------------------------------------------------------


def test_staff_passwords_need_12_characters_and_not_a_common_or_numeric_one():
    officer = UserFactory.build(username="meera.desai", first_name="Meera", last_name="Desai")
    for weak in ["short-pass1", "123456789012", "password1234", "meera.desai1"]:
        with pytest.raises(ValidationError):
            validate_password(weak, officer)
    validate_password("kesar-mango-2026", officer)


# --- Idle sign-out for staff ---------------------------------------------------------------


def _age_session(client, minutes):
    session = client.session
    session[LAST_SEEN_KEY] = int(time.time()) - minutes * 60
    session.save()


@override_settings(STAFF_IDLE_MINUTES=30)
def test_staff_are_signed_out_after_the_idle_time(client):
    officer = DistrictOfficerFactory()
    client.force_login(officer)
    assert client.get("/").status_code == 200
    assert LAST_SEEN_KEY in client.session
    _age_session(client, 29)
    assert client.get("/facilities/queue/").status_code == 200  # still active
    _age_session(client, 31)
    response = client.get("/facilities/queue/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/facilities/queue/")
    assert "_auth_user_id" not in client.session
    page = client.get(response["Location"])
    assert "signed out after 30 min without activity" in page.content.decode()


@override_settings(STAFF_IDLE_MINUTES=30)
def test_an_admin_made_with_createsuperuser_counts_as_staff(client):
    admin = UserFactory(is_staff=True, is_superuser=True)  # role left at its default, citizen
    client.force_login(admin)
    client.get("/")
    _age_session(client, 31)
    assert client.get("/admin/").status_code == 302
    assert "_auth_user_id" not in client.session


@override_settings(STAFF_IDLE_MINUTES=30)
def test_htmx_polls_neither_keep_a_staff_session_alive_nor_end_it(client):
    officer = DistrictOfficerFactory()
    client.force_login(officer)
    client.get("/")
    _age_session(client, 31)
    client.get("/", headers={"HX-Request": "true"})
    assert "_auth_user_id" in client.session
    assert client.get("/").status_code == 302


@override_settings(STAFF_IDLE_MINUTES=30)
def test_citizens_are_not_subject_to_the_staff_idle_time(client):
    account = AbhaAccountFactory()
    client.force_login(account.user)
    client.get("/")
    _age_session(client, 120)
    assert client.get("/").status_code == 200
    assert "_auth_user_id" in client.session
