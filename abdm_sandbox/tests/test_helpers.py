"""The sandbox-only helpers: faults on purpose and the record of callbacks sent."""

import json
import time

import jsonschema
import pytest
import requests

from abdm_sandbox.testing import SandboxClient

from . import schemas
from .conftest import Gateway, standard_headers

SERVICES = "/api/hiecm/gateway/v3/bridge-services"


@pytest.fixture
def no_faults(sandbox):
    requests.delete(sandbox.url + "/sandbox/v1/faults", timeout=10)
    yield
    requests.delete(sandbox.url + "/sandbox/v1/faults", timeout=10)


def test_a_503_fault_answers_the_specs_body_then_ends(sandbox, gateway, no_faults):
    made = sandbox.post("faults", json={"path": SERVICES, "status": 503, "times": 2})
    assert made.status_code == 201
    for _ in range(2):
        answer = gateway.call("GET", SERVICES)
        assert answer.status_code == 503
        assert answer.json() == {"code": "ABDM-1024", "message": "Dependent service unavailable"}
    assert gateway.call("GET", SERVICES).status_code == 200
    assert sandbox.get("faults").json() == {
        "faults": [
            {"id": made.json()["id"], "path": SERVICES, "method": None, "status": 503, "code": None,
             "message": None, "delaySeconds": 0.0, "times": 0}
        ]
    }  # fmt: skip


def test_a_fault_with_a_chosen_code(sandbox, gateway, no_faults):
    sandbox.post("faults", json={"path": "/api/hiecm/gateway/v3/", "method": "GET", "status": 400,
                                 "code": "ABDM-1204", "message": "UIDAI Error code : 300"})  # fmt: skip
    answer = gateway.call("GET", SERVICES)
    assert answer.status_code == 400
    jsonschema.validate(answer.json(), schemas.WRAPPED_ERROR)
    assert answer.json()["error"]["code"] == "ABDM-1204"
    # Another method is not affected.
    assert (
        gateway.call("PATCH", "/api/hiecm/gateway/v3/bridge/url", json={"url": "https://x.example"}).status_code == 202
    )


def test_a_slow_sandbox_times_a_client_out(sandbox, gateway, no_faults):
    sandbox.post("faults", json={"path": SERVICES, "delaySeconds": 2})
    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        requests.get(sandbox.url + SERVICES, headers={**standard_headers(),
                     "Authorization": f"Bearer {gateway.token}"}, timeout=0.5)  # fmt: skip
    assert time.monotonic() - started < 2
    requests.delete(sandbox.url + "/sandbox/v1/faults", timeout=10)
    time.sleep(2)  # let the delayed request finish before the next test


def test_gateway_502_is_a_proxy_page(sandbox, no_faults):
    sandbox.post("faults", json={"path": "/api/hiecm/gateway/v3/sessions", "status": 502, "times": 1})
    answer = requests.post(sandbox.url + "/api/hiecm/gateway/v3/sessions", json={}, timeout=10)
    assert answer.status_code == 502
    assert answer.headers["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    "body",
    [{"path": "no-slash", "status": 503}, {"path": "/x"}, {"path": "/x", "status": 200}, {"path": "/x", "times": 0,
     "status": 503}, {"path": "/x", "delaySeconds": 1000}],
)  # fmt: skip
def test_faults_refuse_bad_requests(sandbox, body, no_faults):
    assert sandbox.post("faults", json=body).status_code == 400
    assert sandbox.get("faults").json() == {"faults": []}


def test_sent_callbacks_are_listed(sandbox):
    gateway = Gateway(sandbox, "other-bridge")
    gateway.call("PATCH", "/api/hiecm/gateway/v3/bridge/url", json={"url": "http://127.0.0.1:9/nowhere"})
    sent = sandbox.post("callbacks", json={"bridgeId": "other-bridge", "path": "/api/v3/x", "body": {}}).json()
    listed = sandbox.get(f"callbacks?bridgeId=other-bridge&requestId={sent['requestId']}").json()["callbacks"]
    assert [(row["path"], row["status"]) for row in listed] == [("/api/v3/x", None)]


def test_last_otp_reads_the_newest_code_sent_to_that_mobile(tmp_path):
    outbox = tmp_path / "outbox.jsonl"
    lines = [
        {"to": "9876543210", "text": "111111 is your Aadhaar OTP. -UIDAI", "at": "2026-12-03T10:00:00+00:00"},
        {"to": "+91 98765 43211", "text": "222222 is your OTP. -ABDM", "at": "2026-12-03T10:01:00+00:00"},
        {"to": "9876543210", "text": "333333 is your OTP to verify. -ABDM", "at": "2026-12-03T10:02:00+00:00"},
    ]
    outbox.write_text("\n".join(json.dumps(line) for line in lines) + "\nnot json\n", encoding="utf-8")
    client = SandboxClient("http://127.0.0.1:1", outbox)
    assert client.last_otp("98765 43210") == "333333"
    assert client.last_otp("9876543211") == "222222"
    assert client.last_otp("9000000000") is None
    assert len(client.messages()) == 3
    assert SandboxClient("http://127.0.0.1:1", tmp_path / "missing.jsonl").last_otp("9876543210") is None
