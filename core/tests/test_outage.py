"""PostgreSQL or Redis unreachable: a 503 with Retry-After (API error shape or a small page), then recovery.

The outages are real, not mocks: the request's database connection is terminated on the server and new ones are
pointed at a closed port; the cache is pointed at a closed port. Requests go through Django's real WSGI handler,
so the request_started/request_finished connection handling (CONN_MAX_AGE, CONN_HEALTH_CHECKS) runs as in gunicorn.
"""

import io
import json
import socket
import time
from contextlib import contextmanager

import psycopg
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import OperationalError, connection
from django.test import override_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.api import throttles
from core.outage import RETRY_AFTER_SECONDS
from core.tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _throttles_count_again_after_the_test():
    """The API throttles pause for a few seconds after a cache failure (per process): not into the next test."""
    yield
    throttles._skip_until = 0.0


def _closed_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now: connecting is refused, as with a stopped server
    return port


def _wsgi(method: str, path: str, *, headers: dict | None = None, body: dict | None = None):
    """One request through Django's WSGIHandler (the gunicorn entry point); returns (status, headers, body)."""
    payload = json.dumps(body).encode() if body is not None else b""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(payload)),
        "wsgi.input": io.BytesIO(payload),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
        **{"HTTP_" + key.upper().replace("-", "_"): value for key, value in (headers or {}).items()},
    }
    captured = {}

    def start_response(status, response_headers, exc_info=None):
        captured["status"] = int(status.split()[0])
        captured["headers"] = dict(response_headers)

    response = WSGIHandler()(environ, start_response)
    content = b"".join(response)
    response.close()  # sends request_finished: Django closes unusable or expired connections here
    return captured["status"], captured["headers"], content


def _admin_dsn() -> str:
    settings_dict = connection.settings_dict
    return f"host={settings_dict['HOST']} port={settings_dict['PORT']} user={settings_dict['USER']} dbname=postgres"


def _terminate_backend(pid: int) -> None:
    with psycopg.connect(_admin_dsn(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


@contextmanager
def _silent_server():
    """A port that accepts TCP connections (the kernel's backlog) and never answers: a hung or firewalled host."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


@contextmanager
def _database_down():
    """New connections are refused; the open one is terminated on the server, as a PostgreSQL restart does."""
    real_port = connection.settings_dict["PORT"]
    connection.ensure_connection()
    _terminate_backend(connection.connection.info.backend_pid)
    connection.settings_dict["PORT"] = str(_closed_port())
    try:
        yield
    finally:
        connection.settings_dict["PORT"] = real_port


@pytest.fixture
def token(transactional_db):
    return Token.objects.create(user=UserFactory()).key


def test_api_answers_503_in_the_error_shape_while_the_database_is_down_and_recovers(token):
    auth = {"Authorization": f"Token {token}"}
    assert _wsgi("GET", "/api/v1/me/", headers=auth)[0] == 200
    with _database_down():
        status, headers, content = _wsgi("GET", "/api/v1/me/", headers=auth)
        assert status == 503
        assert headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
        error = json.loads(content)["error"]
        assert error["code"] == "unavailable" and "try again" in error["message"]
    # Same process, no restart: the next request opens a new connection.
    status, _, content = _wsgi("GET", "/api/v1/me/", headers=auth)
    assert status == 200 and json.loads(content)["username"]


def test_pages_answer_a_translated_503_page_while_the_database_is_down_and_recover(token):
    with _database_down():
        status, headers, content = _wsgi("GET", "/facilities/directory/", headers={"Accept-Language": "hi"})
    assert status == 503
    assert headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert headers["Content-Type"].startswith("text/html")
    page = content.decode()
    assert 'lang="hi"' in page and "Traceback" not in page
    assert "The portal is briefly unavailable" not in page  # translated
    assert _wsgi("GET", "/facilities/directory/", headers={"Accept-Language": "hi"})[0] == 200


def test_a_connection_killed_between_requests_is_replaced_without_an_error(token):
    """CONN_MAX_AGE keeps connections; CONN_HEALTH_CHECKS finds a dead one at the next request and reconnects."""
    auth = {"Authorization": f"Token {token}"}
    assert _wsgi("GET", "/api/v1/me/", headers=auth)[0] == 200
    assert connection.connection is not None  # kept for the next request
    _terminate_backend(connection.connection.info.backend_pid)
    assert _wsgi("GET", "/api/v1/me/", headers=auth)[0] == 200


def test_a_database_that_never_answers_gives_a_503_after_the_connect_timeout(token):
    assert connection.settings_dict["OPTIONS"]["connect_timeout"] == 5  # DB_CONNECT_TIMEOUT's default
    auth = {"Authorization": f"Token {token}"}
    real_port = connection.settings_dict["PORT"]
    connection.close()
    with _silent_server() as port:
        connection.settings_dict["PORT"] = str(port)
        connection.settings_dict["OPTIONS"]["connect_timeout"] = 1
        started = time.monotonic()
        try:
            status, headers, _ = _wsgi("GET", "/api/v1/me/", headers=auth)
        finally:
            connection.settings_dict["PORT"] = real_port
            connection.settings_dict["OPTIONS"]["connect_timeout"] = 5
    assert status == 503 and headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert time.monotonic() - started < 4  # not held until gunicorn's worker timeout
    assert _wsgi("GET", "/api/v1/me/", headers=auth)[0] == 200


def _redis_cache(port: int, timeout: int = 5) -> dict:
    return {
        "default": {
            "BACKEND": "core.cache.PooledRedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": timeout, "socket_timeout": timeout},
        }
    }


@contextmanager
def _cache_down():
    with override_settings(CACHES=_redis_cache(_closed_port())):
        yield


@pytest.mark.django_db
def test_a_cache_that_never_answers_costs_its_timeout_then_throttles_let_requests_through(api_as, settings):
    assert settings.CACHES["default"]["OPTIONS"] == {"socket_connect_timeout": 5, "socket_timeout": 5}
    client = api_as(UserFactory())
    with _silent_server() as port, override_settings(CACHES=_redis_cache(port, timeout=1)):
        started = time.monotonic()
        assert client.get("/api/v1/me/").status_code == 200
        assert time.monotonic() - started < 4
        body = {"aadhaar": "234123412346", "consent_version": "2025-04"}  # enrolment starts with an Aadhaar
        assert APIClient().post("/api/v1/abha/enrolment/otp/", body, format="json").status_code == 503


@pytest.mark.django_db
def test_api_rate_throttles_let_requests_through_while_the_cache_is_down(api_as):
    client = api_as(UserFactory())
    with _cache_down():
        response = client.get("/api/v1/me/")
    assert response.status_code == 200


@pytest.mark.django_db
def test_otp_rate_limit_stays_closed_with_a_503_while_the_cache_is_down(api_client):
    body = {"aadhaar": "234123412346", "consent_version": "2025-04"}  # enrolment starts with an Aadhaar
    with _cache_down():
        response = api_client.post("/api/v1/abha/enrolment/otp/", body, format="json")
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response.json()["error"]["code"] == "unavailable"
    assert api_client.post("/api/v1/abha/enrolment/otp/", body, format="json").status_code == 201


@pytest.mark.django_db
def test_login_throttle_stays_closed_with_a_503_while_the_cache_is_down(api_client):
    with _cache_down():
        response = api_client.post("/api/v1/auth/token/", {"username": "x", "password": "y"}, format="json")
    assert response.status_code == 503 and response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response.json()["error"]["code"] == "unavailable"


def test_handler500_answers_503_for_an_outage_outside_a_view(rf):
    """A session saved on the way out fails in middleware, not in the view: Django's handler500 gets it."""
    from core.views import server_error

    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError:
        response = server_error(rf.get("/accounts/login/"))
    assert response.status_code == 503 and response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert server_error(rf.get("/accounts/login/")).status_code == 500  # anything else stays a 500
