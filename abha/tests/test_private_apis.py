"""The two hot paths built on private APIs, pinned so an upgrade that changes them fails here, by name.

- abha/api/authentication.py: token authentication on a server-binding cursor (psycopg prepares it), made the way
  Django makes its own cursors: `connection._prepare_cursor` and `ServerBindingCursor`.
- core/cache.py: one `redis.Redis` client per connection pool, through `RedisCacheClient._get_connection_pool`
  and `._client`.

Each test checks the behaviour the code relies on, not only that a name exists: a rename fails with an
AttributeError naming it, a changed meaning fails an assertion.
"""

import inspect

import pytest
import redis
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCacheClient
from django.db import connection
from django.db.backends.postgresql.base import ServerBindingCursor
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from abha.api.authentication import TokenWithAccountAuthentication, _cursor
from abha.tests.factories import AbhaAccountFactory

pytestmark = pytest.mark.django_db


def test_django_still_makes_cursors_the_way_token_authentication_copies():
    # _prepare_cursor(cursor) wraps a raw psycopg cursor in Django's CursorWrapper (or the debug one).
    assert list(inspect.signature(connection._prepare_cursor).parameters) == ["cursor"]
    assert issubclass(ServerBindingCursor, connection.Database.Cursor)  # psycopg's server-side-binding cursor
    for name in ("close_if_health_check_failed", "ensure_connection", "wrap_database_errors"):
        assert hasattr(connection, name), name
    with _cursor() as cursor:
        assert isinstance(cursor.cursor, ServerBindingCursor)
        cursor.execute("SELECT %s::int", [41])
        assert cursor.fetchone() == (41,)


def test_the_authentication_query_is_logged_like_any_other_and_prepared_after_five_runs():
    key = Token.objects.create(user=AbhaAccountFactory().user).key
    with CaptureQueriesContext(connection) as queries:
        TokenWithAccountAuthentication().authenticate_credentials(key)
    assert len(queries) == 1 and "authtoken_token" in queries[0]["sql"]  # Django's debug wrapper saw it
    for _ in range(5):
        TokenWithAccountAuthentication().authenticate_credentials(key)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["%authtoken_token%"])
        assert cursor.fetchone()[0] == 1


def test_django_redis_client_still_builds_one_client_per_call_from_a_pool():
    # What core.cache.PooledRedisCache overrides: get_client(key, write=...) -> self._client(connection_pool=pool).
    assert list(inspect.signature(RedisCacheClient.get_client).parameters) == ["self", "key", "write"]
    assert list(inspect.signature(RedisCacheClient._get_connection_pool).parameters) == ["self", "write"]
    backend = cache._cache
    assert backend._client is redis.Redis
    pool = backend._get_connection_pool(True)
    assert isinstance(pool, redis.ConnectionPool)
    client = backend.get_client(write=True)
    assert client.connection_pool is pool and backend.get_client(write=True) is client
