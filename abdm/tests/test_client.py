"""abdm.client against the local ABDM sandbox over real HTTP: session token, headers, errors, outages."""

import threading
import time

import pytest
from django.core.cache import cache
from django.utils import translation

from abdm import client
from abdm.client import AbdmError, AbdmUnavailable
from core.exceptions import DomainError, Unavailable

CERTS = "/api/hiecm/gateway/v3/certs"
BRIDGE_URL = "/api/hiecm/gateway/v3/bridge/url"


@pytest.fixture
def count_session_calls(monkeypatch):
    """Counts the sessions calls the client makes (the real call still goes to the sandbox)."""
    calls = []
    real = client._fetch_token

    def counting(timeout=None):
        calls.append(threading.get_ident())
        return real(timeout)

    monkeypatch.setattr(client, "_fetch_token", counting)
    return calls


def test_a_gateway_call_carries_a_session_token_and_the_standard_headers(sandbox):
    # The sandbox refuses a call without a live session token, a UUID REQUEST-ID, a TIMESTAMP or X-CM-ID.
    body = client.gateway_request("GET", CERTS)
    assert body["keys"] and body["keys"][0]["kty"] == "RSA"


def test_the_session_token_is_cached_until_shortly_before_it_expires(sandbox, count_session_calls):
    client.gateway_request("GET", CERTS)
    client.gateway_request("GET", CERTS)
    assert len(count_session_calls) == 1
    assert cache.get(client._token_key())


def test_concurrent_callers_renew_the_session_once_and_share_it(sandbox, count_session_calls):
    tokens, failures = [], []

    def call():
        try:
            tokens.append(client.session_token())
        except Exception as error:  # noqa: BLE001 - collected for the assertion
            failures.append(error)

    threads = [threading.Thread(target=call) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not failures
    assert len(tokens) == 12 and len(set(tokens)) == 1
    assert len(count_session_calls) == 1


def test_a_401_renews_the_token_once_and_retries_the_call(sandbox, count_session_calls):
    cache.set(client._token_key(), "a-token-the-gateway-never-issued", 600)
    body = client.gateway_request("GET", CERTS)
    assert body["keys"]
    assert len(count_session_calls) == 1
    assert cache.get(client._token_key()) != "a-token-the-gateway-never-issued"


def test_wrong_client_credentials_are_a_refusal_not_an_outage(sandbox, settings):
    settings.ABDM_CLIENT_SECRET = "not-the-secret"
    with pytest.raises(AbdmError) as raised:
        client.gateway_request("GET", CERTS)
    error = raised.value
    assert not isinstance(error, AbdmUnavailable)
    assert (error.status, error.code, error.message) == (401, "900901", "Invalid Credentials")
    assert "could not sign in to ABDM" in error.user_message


def test_an_abdm_refusal_carries_its_code_and_message_in_plain_words(sandbox):
    with pytest.raises(AbdmError) as raised:
        client.gateway_request("PATCH", BRIDGE_URL, json={"url": "not a url"})
    error = raised.value
    assert error.status == 400 and error.code == "ABDM-1006"
    assert error.message
    assert error.as_domain_error().status == 400
    assert error.as_domain_error().code == "abdm_refused"


@pytest.mark.parametrize(
    ("status", "content", "code", "message", "fields"),
    [
        (400, b'{"error": {"code": "ABDM-1101", "message": "taken"}}', "ABDM-1101", "taken", {}),
        (400, b'{"error": {"code": "ABDM-1101: ", "message": "taken"}}', "ABDM-1101", "taken", {}),
        (
            400,
            b'{"code": "ABDM-1094", "message": "restricted", "timestamp": "2024-10-25 15:02:34"}',
            "ABDM-1094",
            "restricted",
            {},
        ),  # fmt: skip
        (
            401,
            b'{"code": "900901", "message": "Invalid Credentials", "description": "x"}',
            "900901",
            "Invalid Credentials",
            {},
        ),  # fmt: skip
        (
            400,
            b'{"txnId": "Invalid Transaction Id", "timestamp": "2025-01-15 13:21:16"}',
            "400",
            "Invalid Transaction Id",
            {"txnId": "Invalid Transaction Id"},
        ),  # fmt: skip
        (403, b"Forbidden", "403", "Forbidden", {}),
        (
            500,
            b'{"error": {"code": "ABDM-9999: ", "message": "Unknown exception"}}',
            "ABDM-9999",
            "Unknown exception",
            {},
        ),  # fmt: skip
    ],
)
def test_every_published_error_shape_is_read(status, content, code, message, fields):
    content_type = "text/plain" if content == b"Forbidden" else "application/json"
    error = client.error_from_response(status, content, content_type)
    assert type(error) is AbdmError
    assert (error.code, error.message, error.fields, error.status) == (code, message, fields, status)


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_and_unavailable_codes_are_an_outage(status):
    error = client.error_from_response(status, b'{"code": "ABDM-1024", "message": "Dependent service unavailable"}')
    assert isinstance(error, AbdmUnavailable)
    down = client.error_from_response(500, b'{"error": {"code": "ABDM-1206", "message": "Aadhaar Gateway"}}')
    assert isinstance(down, AbdmUnavailable)


def test_known_codes_read_in_plain_words_in_hindi_and_gujarati():
    error = client.error_from_response(400, b'{"error": {"code": "ABDM-1101", "message": "exists"}}')
    english = error.user_message
    with translation.override("hi"):
        hindi = error.user_message
    with translation.override("gu"):
        gujarati = error.user_message
    assert "already taken" in english
    assert len({english, hindi, gujarati}) == 3


def test_an_unknown_code_shows_abdms_own_message():
    error = client.error_from_response(400, b'{"error": {"code": "ABDM-4321", "message": "Something new"}}')
    assert error.user_message == "ABDM could not do this: Something new"


def test_a_stopped_abdm_is_unavailable_with_a_plain_message(private_gateway):
    private_gateway.stop()
    with pytest.raises(AbdmUnavailable) as raised:
        client.gateway_request("GET", CERTS)
    assert raised.value.code == "unreachable"
    assert raised.value.user_message == "ABDM is not answering. Please try again in a minute."
    domain = raised.value.as_domain_error()
    assert isinstance(domain, Unavailable) and domain.status == 503 and domain.retry_after == 60
    private_gateway.start()
    assert client.gateway_request("GET", CERTS)["keys"]  # back: the same client works again


def test_an_abdm_that_never_answers_times_out(sandbox, settings, silent_server):
    client.session_token()  # a token from the sandbox; then the ABHA service "hangs"
    settings.ABDM_ABHA_URL = silent_server
    started = time.monotonic()
    with pytest.raises(AbdmUnavailable) as raised:
        client.abha_request("GET", "/v3/profile/account", timeout=1)
    assert raised.value.code == "timeout"
    assert time.monotonic() - started < 5


def test_domain_errors_turns_abdm_errors_into_the_portals_errors():
    with pytest.raises(DomainError) as raised, client.domain_errors():
        raise client.error_from_response(400, b'{"error": {"code": "ABDM-1101", "message": "exists"}}')
    assert raised.value.message == "This ABHA address is already taken. Please choose another one."
