"""API token authentication that also loads a citizen's ABHA account, its district and state and its primary
ABHA address, in one query.

Most citizen endpoints (Scan & Share, records, consents) start from the caller's account. At the morning rush a
Scan & Share is a handful of milliseconds, and the ORM spent ~2 ms compiling this five-table join on every request:
so the SQL is written once (its columns from the models' fields, so it follows migrations) and the rows become
model instances the ORM's way (`Model.from_db`, with each field's `from_db_value`). The statement
is bound on the server, so psycopg prepares it after a few runs: PostgreSQL plans the join once per connection
instead of on every request (planning took ~0.5 ms, running it 0.07 ms).

The same query reads when a staff token was last used (core.ApiTokenUse), so expiry costs no query: a staff
token ends after STAFF_IDLE_MINUTES unused, a citizen's CITIZEN_TOKEN_HOURS after sign-in. An expired token is
deleted. A staff token's last use is written at most once a minute (one more query then), a citizen's never.
"""

import datetime
from functools import cache

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.backends.postgresql.base import ServerBindingCursor
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from abha.models import AbhaAccount, AbhaAddress
from core.models import ApiTokenUse, District, State
from core.services import api_token_touch

# A staff token's last use is recorded when it is older than this: a write a minute at most, not one per request.
_TOUCH_EVERY = datetime.timedelta(minutes=1)

# (model, alias, join): each model's columns in its field order, then how it joins the ones before it.
_JOINS = (
    (Token, "t", ""),
    (ApiTokenUse, "l", "LEFT JOIN {table} l ON l.token_id = t.key"),
    (get_user_model(), "u", "JOIN {table} u ON u.id = t.user_id"),
    (AbhaAccount, "a", "LEFT JOIN {table} a ON a.user_id = u.id"),
    (District, "d", "LEFT JOIN {table} d ON d.lgd_code = a.district_id"),
    (State, "s", "LEFT JOIN {table} s ON s.lgd_code = a.state_id"),
    (AbhaAddress, "p", "LEFT JOIN {table} p ON p.account_id = a.id AND p.is_primary"),
)


@cache
def _sql() -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(
        f"{alias}.{quote(field.column)}" for model, alias, _ in _JOINS for field in model._meta.concrete_fields
    )
    joins = " ".join(join.format(table=quote(model._meta.db_table)) for model, _, join in _JOINS[1:])
    return f"SELECT {columns} FROM {quote(Token._meta.db_table)} t {joins} WHERE t.{quote('key')} = %s"  # noqa: S608


def _instances(row) -> list:
    """One instance per model of `_JOINS` (None for a LEFT JOIN that found nothing)."""
    found, start = [], 0
    for model, _, _ in _JOINS:
        fields = model._meta.concrete_fields
        values = row[start : start + len(fields)]
        start += len(fields)
        if values[fields.index(model._meta.pk)] is None:  # a LEFT JOIN that found no row
            found.append(None)
            continue
        values = [
            field.from_db_value(value, None, connection) if hasattr(field, "from_db_value") else value
            for field, value in zip(fields, values, strict=True)
        ]
        found.append(model.from_db(connection.alias, [field.attname for field in fields], values))
    return found


def _cursor():
    """Django's cursor (queries logged and wrapped as usual) but binding on the server: psycopg then prepares a
    statement it has run `prepare_threshold` (5) times on the connection. Django's own cursors bind on the client,
    which psycopg never prepares. Built on Django internals (`_prepare_cursor`, `ServerBindingCursor`):
    core/tests/test_private_apis.py fails, naming them, when a Django upgrade changes them."""

    # As Django's own connection.cursor(): a connection that died between requests is replaced (health check).
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        return connection._prepare_cursor(ServerBindingCursor(connection.connection))


class TokenWithAccountAuthentication(TokenAuthentication):
    model = Token

    def authenticate_credentials(self, key):
        with _cursor() as cursor:
            cursor.execute(_sql(), [key])
            row = cursor.fetchone()
        if row is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        token, use, user, account, district, state, primary = _instances(row)
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        now = timezone.now()
        if user.is_staff_account:
            last_used = use.last_used if use is not None else token.created
            if now - last_used > datetime.timedelta(minutes=settings.STAFF_IDLE_MINUTES):
                self._expire(token)
            if now - last_used >= _TOUCH_EVERY:
                api_token_touch(token_key=token.key, now=now)
        elif now - token.created > datetime.timedelta(hours=settings.CITIZEN_TOKEN_HOURS):
            self._expire(token)
        token.user = user
        type(user).abha.related.set_cached_value(user, account)  # account_for_user reads it without a query
        if account is not None:
            account.user, account.district, account.state = user, district, state
            account.__dict__["primary_address"] = primary  # AbhaAccount.primary_address, already known
            if primary is not None:
                primary.account = account
        return user, token

    @staticmethod
    def _expire(token):
        Token.objects.filter(pk=token.pk).delete()  # for good: a later change of the settings cannot revive it
        raise exceptions.AuthenticationFailed("Token expired: sign in again.")
