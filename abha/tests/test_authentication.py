"""API token authentication: one query loads the user, a citizen's account (district, state, primary address)."""

import datetime

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from abha.api.authentication import TokenWithAccountAuthentication
from abha.enums import AccountStatus
from abha.models import AbhaAddress
from abha.selectors import account_for_user
from abha.tests.factories import AbhaAccountFactory
from core.enums import Role
from core.models import ApiTokenUse
from core.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _authenticate(key):
    return TokenWithAccountAuthentication().authenticate_credentials(key)


def test_one_query_loads_the_citizen_with_account_district_state_and_primary_address(django_assert_num_queries):
    account = AbhaAccountFactory(first_name="Kiran", middle_name="B", email="kiran@example.org")
    AbhaAddress.objects.create(account=account, local="kiran.patel")  # not primary: not the one loaded
    key = Token.objects.create(user=account.user).key
    with django_assert_num_queries(1):
        user, token = _authenticate(key)
        loaded = account_for_user(user)
        facts = (
            user.pk,
            user.username,
            user.role,
            token.key,
            token.user is user,
            loaded.pk,
            loaded.full_name,
            loaded.email,
            loaded.user is user,
            loaded.district.name,
            loaded.state.name,
            loaded.primary_address.full,
            loaded.created_at,
        )
    assert facts == (
        account.user.pk, account.user.username, Role.CITIZEN, key, True,
        account.pk, "Kiran B " + account.last_name, "kiran@example.org", True,
        "Bhavnagar", account.state.name, f"{account.abha_number}@sbx", account.created_at,
    )  # fmt: skip
    assert not loaded._state.adding and loaded._state.db == "default"


def test_a_staff_token_has_no_account_and_an_inactive_user_or_unknown_key_is_refused(django_assert_num_queries):
    staff = UserFactory(role=Role.FACILITY_STAFF)
    key = Token.objects.create(user=staff).key
    with django_assert_num_queries(1):
        user, _ = _authenticate(key)
        assert account_for_user(user) is None
    staff.is_active = False
    staff.save()
    with pytest.raises(exceptions.AuthenticationFailed):
        _authenticate(key)
    with pytest.raises(exceptions.AuthenticationFailed):
        _authenticate("0" * 40)


def test_a_deleted_account_is_not_the_callers_account_and_a_bad_token_is_a_401():
    account = AbhaAccountFactory(status=AccountStatus.DELETED)
    user, _ = _authenticate(Token.objects.create(user=account.user).key)
    assert account_for_user(user) is None
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "f" * 40)
    response = client.get("/api/v1/abha/me/")
    assert response.status_code == 401


def test_postgresql_prepares_the_query_so_it_is_planned_once_per_connection():
    from django.db import connection

    key = Token.objects.create(user=AbhaAccountFactory().user).key
    for _ in range(6):  # psycopg prepares a statement on its 5th run on a connection
        _authenticate(key)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["%authtoken_token%"])
        assert cursor.fetchone()[0] == 1


@override_settings(CITIZEN_TOKEN_HOURS=24)
def test_a_citizen_token_ends_citizen_token_hours_after_sign_in_however_much_it_is_used(django_assert_num_queries):
    key = Token.objects.create(user=AbhaAccountFactory().user).key
    Token.objects.filter(key=key).update(created=timezone.now() - datetime.timedelta(hours=23, minutes=59))
    with django_assert_num_queries(1):  # Scan & Share stays one query: a citizen's use is never written
        _authenticate(key)
    assert not ApiTokenUse.objects.exists()
    Token.objects.filter(key=key).update(created=timezone.now() - datetime.timedelta(hours=24, minutes=1))
    with pytest.raises(exceptions.AuthenticationFailed, match="expired"):
        _authenticate(key)
    assert not Token.objects.filter(key=key).exists()


@override_settings(CITIZEN_TOKEN_HOURS=2)
def test_the_citizen_token_lifetime_is_the_setting():
    key = Token.objects.create(user=AbhaAccountFactory().user).key
    Token.objects.filter(key=key).update(created=timezone.now() - datetime.timedelta(hours=2, minutes=1))
    with pytest.raises(exceptions.AuthenticationFailed):
        _authenticate(key)


def test_each_citizen_sign_in_issues_a_new_token_and_sign_out_revokes_it(otp_api):
    body = otp_api.enrol()
    number, mobile = body["abha_number"], body["person"].mobile
    first = otp_api.sign_in(number, mobile).json()["token"]
    second = otp_api.sign_in(number, mobile).json()["token"]
    assert first and second and first != second

    def me(key):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client.get("/api/v1/abha/me/").status_code

    assert me(first) == 401 and me(second) == 200
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {second}")
    assert client.post("/api/v1/auth/sign-out/").status_code == 204
    assert me(second) == 401
