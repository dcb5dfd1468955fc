"""Gateway callbacks to the portal's bridge: the sandbox signs and sends them (POST /sandbox/v1/callbacks) to a live
portal over HTTP; the portal verifies, deduplicates, matches them to outbox messages and answers."""

import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.core.cache import cache

from abdm import callbacks, client, outbox
from abdm.enums import OutboxStatus
from abdm.models import CallbackReceipt, OutboxMessage
from core.models import AuditEvent

ECHO = "/api/v3/abdm-test/echo"
ANSWERS = "/api/v3/abdm-test/on-answer"  # carries answers to outbox messages only: no handler of its own
TEST_KIND = "abdm.test_async"
handled = []
completed = []


def _echo(request_id, body, headers):
    handled.append((request_id, body, headers.get("X-Cm-Id")))


callbacks.register_callback(ECHO, _echo)
callbacks.register_callback(ANSWERS)
outbox.register_handler(TEST_KIND, on_success=lambda message, body: completed.append((message.request_id, body)))


@pytest.fixture
def bridge(sandbox, live_server):
    """The sandbox's gateway calls this test's live portal back."""
    client.gateway_request("PATCH", "/api/hiecm/gateway/v3/bridge/url", json={"url": live_server.url})
    handled.clear()
    completed.clear()
    return sandbox


def _send(bridge, path, body, **extra):
    """The sandbox's gateway sends the callback now; returns (the portal's status, its answer)."""
    response = bridge.post("callbacks", {"bridgeId": settings.ABDM_CLIENT_ID, "path": path, "body": body, **extra})
    assert response.status_code == 200, response.text
    sent = response.json()
    return sent["status"], sent["body"]


def _refusals():
    return list(AuditEvent.objects.filter(action="abdm.callback_refused").values_list("details", flat=True))


@pytest.mark.django_db(transaction=True)
def test_a_signed_callback_reaches_its_handler_once(bridge):
    status, answer = _send(bridge, ECHO, {"hello": "world"}, requestId="7a6c1f5e-0000-4000-8000-000000000001")
    assert (status, answer) == (202, "")
    assert handled == [("7a6c1f5e-0000-4000-8000-000000000001", {"hello": "world"}, settings.ABDM_CM_ID)]
    assert CallbackReceipt.objects.get().status_code == 202
    assert not _refusals()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("tamper", ["bad-signature", "expired", "other-audience", "unsigned", "no-token"])
def test_a_callback_not_signed_by_the_gateway_for_us_is_refused_and_changes_nothing(bridge, tamper):
    status, answer = _send(bridge, ECHO, {"hello": "world"}, tamper=tamper)
    assert status == 401
    assert answer["code"] == "900901"
    assert handled == [] and not CallbackReceipt.objects.exists()
    [refusal] = _refusals()
    assert refusal["path"] == ECHO and refusal["status"] == 401 and refusal["request_id"]


@pytest.mark.django_db(transaction=True)
def test_a_replay_is_answered_the_same_and_the_handler_does_not_run_again(bridge):
    request_id = str(uuid.uuid4())
    first = _send(bridge, ECHO, {"n": 1}, requestId=request_id)
    again = _send(bridge, ECHO, {"n": 1}, requestId=request_id)
    assert first == again == (202, "")
    assert len(handled) == 1 and CallbackReceipt.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_callback_answering_a_request_we_never_sent_is_refused_and_audited(bridge):
    unknown = str(uuid.uuid4())
    status, answer = _send(bridge, ANSWERS, {"response": {"requestId": unknown}})
    assert status == 400 and answer["error"]["code"] == "ABDM-1030"
    [refusal] = _refusals()
    assert unknown in refusal["reason"]
    assert not completed


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("key", ["response", "resp"])
def test_a_callback_completes_the_outbox_message_it_answers(bridge, key):
    message = OutboxMessage.objects.create(
        kind=TEST_KIND, method="POST", path="/x", awaits_callback=True, status=OutboxStatus.AWAITING_CALLBACK
    )
    body = {key: {"requestId": str(message.request_id)}, "status": "SUCCESS"}
    assert _send(bridge, ANSWERS, body) == (202, "")
    message.refresh_from_db()
    assert message.status == OutboxStatus.DONE and message.response == body
    assert completed == [(message.request_id, body)]
    # The same answer under a new REQUEST-ID finds nothing waiting any more: refused, nothing changes.
    assert _send(bridge, ANSWERS, body)[0] == 400
    assert len(completed) == 1


@pytest.mark.django_db(transaction=True)
def test_a_callback_without_a_request_id_header_is_refused(bridge):
    status, answer = _send(bridge, ECHO, {"hello": "world"}, headers={"REQUEST-ID": ""})
    assert status == 400 and answer["error"]["code"] == "ABDM-1006"
    assert handled == [] and _refusals()[0]["status"] == 400


@pytest.mark.django_db(transaction=True)
def test_keys_are_fetched_again_for_a_key_id_we_do_not_know(bridge):
    cached = callbacks.gateway_keys()
    # An older key set (before a rotation): the sandbox's kid is not in it.
    cache.set(callbacks._keys_cache_key(), {**cached, "keys": {}, "fetched": 0}, 600)
    assert _send(bridge, ECHO, {"after": "rotation"})[0] == 202
    assert cache.get(callbacks._keys_cache_key())["keys"].keys() == cached["keys"].keys()


# --- Bodies and tokens the sandbox does not send: our own test gateway key, seeded as the gateway's keys ----------


@pytest.fixture
def test_gateway(db, settings):
    """A signing key of our own, published to the portal as the gateway's (in the keys cache), and a token maker."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid="test-kid", alg="RS256", use="sig")
    issuer = "https://gateway.test"
    cache.set(callbacks._keys_cache_key(), {"issuer": issuer, "keys": {"test-kid": jwk}, "fetched": time.time()}, 600)

    def token(**claims):
        now = int(time.time())
        payload = {"iss": issuer, "aud": settings.ABDM_CLIENT_ID, "clientId": "gateway", "iat": now, "exp": now + 600}
        payload.update(claims)
        return jwt.encode(payload, key, algorithm="RS256", headers={"kid": "test-kid"})

    return token


def _post(django_client, path, body, token, request_id=None):
    return django_client.post(
        path,
        body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}", "REQUEST-ID": request_id or str(uuid.uuid4())},
    )


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", '"text"', ""])
def test_a_malformed_body_is_refused_with_400_and_audited(client, test_gateway, body):
    handled.clear()
    response = _post(client, ECHO, body, test_gateway())
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "ABDM-1006"
    assert handled == [] and _refusals()[0]["reason"] == "body is not a JSON object"


def test_the_same_token_checks_hold_for_any_signer(client, test_gateway):
    handled.clear()
    assert _post(client, ECHO, "{}", test_gateway()).status_code == 202
    assert _post(client, ECHO, "{}", test_gateway(iss="https://elsewhere.test")).status_code == 401
    assert _post(client, ECHO, "{}", test_gateway(aud="another-bridge")).status_code == 401
    assert _post(client, ECHO, "{}", test_gateway(exp=int(time.time()) - 120)).status_code == 401
    # Any algorithm but RS256 (HS256 here: the classic confusion with a public key as the secret) is refused.
    forged = jwt.encode({"aud": settings.ABDM_CLIENT_ID}, "s" * 32, algorithm="HS256", headers={"kid": "test-kid"})
    assert _post(client, ECHO, "{}", forged).status_code == 401
    assert len(handled) == 1
    reasons = [refusal["reason"] for refusal in _refusals()]
    assert {"another issuer", "another audience", "expired"} <= set(reasons)
    assert any("is not RS256" in reason for reason in reasons)


def test_unregistered_paths_are_not_found_and_only_post_is_allowed(client, test_gateway):
    assert client.post("/api/v3/nobody/registered/this", "{}", content_type="application/json").status_code == 404
    response = client.get(ECHO)
    assert response.status_code == 405 and response["Allow"] == "POST"
