"""Callbacks the sandbox sends to a bridge (POST /sandbox/v1/callbacks): delivered to a small HTTP server
started here, signed so that the JWKS at the gateway's certs path verifies them, and deliberately bad when asked."""

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
import requests

from .conftest import Gateway


class _Recorder(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's name
        length = int(self.headers.get("Content-Length") or 0)
        self.server.received.append(
            {"path": self.path, "headers": dict(self.headers), "body": json.loads(self.rfile.read(length) or b"{}")}
        )
        self.send_response(202)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"acknowledged": true}')

    def log_message(self, *args):  # quiet
        return


@pytest.fixture
def bridge_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def bridge(sandbox, bridge_server):
    """test-bridge, its URL pointing at the local server."""
    gateway = Gateway(sandbox)
    url = f"http://127.0.0.1:{bridge_server.server_address[1]}/abdm"
    assert gateway.call("PATCH", "/api/hiecm/gateway/v3/bridge/url", json={"url": url}).status_code == 202
    return gateway


def _jwks(gateway) -> jwt.PyJWKSet:
    return jwt.PyJWKSet.from_dict(gateway.call("GET", "/api/hiecm/gateway/v3/certs").json())


def _verify(token: str, gateway, issuer: str) -> dict:
    key = _jwks(gateway)[jwt.get_unverified_header(token)["kid"]]
    return jwt.decode(token, key.key, algorithms=["RS256"], audience="test-bridge", issuer=issuer)


def test_a_callback_arrives_signed_with_the_standard_headers(sandbox, bridge, bridge_server):
    request_id = str(uuid.uuid4())
    body = {"acknowledgement": {"status": "SUCCESS"}, "response": {"requestId": str(uuid.uuid4())}}
    answer = sandbox.post(
        "callbacks",
        json={"bridgeId": "test-bridge", "path": "/api/v3/hip/patient/share", "body": body, "requestId": request_id},
    )
    assert answer.status_code == 200
    assert answer.json() == {"status": 202, "body": {"acknowledged": True}, "requestId": request_id}

    [received] = bridge_server.received
    assert received["path"] == "/abdm/api/v3/hip/patient/share"
    assert received["body"] == body
    headers = received["headers"]
    assert headers["REQUEST-ID"] == request_id
    assert headers["X-CM-ID"] == "sbx"
    assert headers["TIMESTAMP"].endswith("Z")
    scheme, token = headers["Authorization"].split(" ", 1)
    assert scheme == "Bearer"
    claims = _verify(token, bridge, issuer=sandbox.url)
    assert claims["clientId"] == "gateway"
    assert claims["exp"] - claims["iat"] == 600
    assert claims["jti"]
    assert abs(claims["iat"] - time.time()) < 60


@pytest.mark.parametrize(
    ("tamper", "error"),
    [
        ("bad-signature", jwt.InvalidSignatureError),
        ("expired", jwt.ExpiredSignatureError),
        ("other-audience", jwt.InvalidAudienceError),
        ("unsigned", jwt.InvalidTokenError),
    ],
)
def test_tampered_callbacks_fail_verification(sandbox, bridge, bridge_server, tamper, error):
    answer = sandbox.post(
        "callbacks", json={"bridgeId": "test-bridge", "path": "/x", "body": {"a": 1}, "tamper": tamper}
    )
    assert answer.status_code == 200
    token = bridge_server.received[0]["headers"]["Authorization"].split(" ", 1)[1]
    with pytest.raises(error):
        _verify(token, bridge, issuer=sandbox.url)


def test_a_callback_without_a_token(sandbox, bridge, bridge_server):
    sandbox.post("callbacks", json={"bridgeId": "test-bridge", "path": "/x", "body": {}, "tamper": "no-token"})
    assert "Authorization" not in bridge_server.received[0]["headers"]


def test_a_bridge_that_does_not_answer_is_reported(sandbox, bridge, bridge_server):
    bridge_server.shutdown()
    bridge_server.server_close()
    answer = sandbox.post("callbacks", json={"bridgeId": "test-bridge", "path": "/x", "body": {}})
    assert answer.status_code == 200
    assert answer.json()["status"] is None


@pytest.mark.parametrize(
    "payload",
    [
        {"bridgeId": "no-such-bridge", "path": "/x", "body": {}},
        {"bridgeId": "test-bridge", "path": "/x"},
        {"bridgeId": "test-bridge", "path": "/x", "body": {}, "tamper": "wrong-kind"},
    ],
)
def test_the_callbacks_helper_refuses_bad_requests(sandbox, bridge, payload):
    answer = sandbox.post("callbacks", json=payload)
    assert answer.status_code in (400, 404)
    assert "error" in answer.json()


def test_private_sandbox_stops_and_starts_with_the_same_keys(private_abdm_sandbox):
    gateway = Gateway(private_abdm_sandbox, "state-portal")
    kid = jwt.get_unverified_header(gateway.token)["kid"]
    private_abdm_sandbox.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(private_abdm_sandbox.url + "/sandbox/v1/health", timeout=5)
    private_abdm_sandbox.start()
    # A token minted before the restart is still good: the keys live in the sandbox's database.
    assert gateway.call("GET", "/api/hiecm/gateway/v3/bridge-services").status_code == 200
    assert jwt.get_unverified_header(Gateway(private_abdm_sandbox, "state-portal").token)["kid"] == kid
