"""The sandbox's consent manager over HTTP (hiecm-m3.yaml, the HIP half of hiecm-m2.yaml): consent requests from an
HIU (test-bridge), the citizen's answers in the sandbox's ABHA app, artefacts notified to the HIP (other-bridge) and
the HIU, artefact fetch, and the health-information relay with an encrypted push between the two. Each bridge is a
small local HTTP server; every callback is validated against the spec's schema facts."""

import base64
import datetime
import hashlib
import json
import re
import secrets
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jsonschema
import jwt
import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from abdm_sandbox import fidelius
from abdm_sandbox.consent import schemas

from .conftest import Gateway, timestamp

INIT = "/api/hiecm/consent/v3/request/init"
STATUS = "/api/hiecm/consent/v3/request/status"
FETCH = "/api/hiecm/consent/v3/fetch"
HIU_ON_NOTIFY = "/api/hiecm/consent/v3/request/hiu/on-notify"
HIP_ON_NOTIFY = "/api/hiecm/consent/v3/request/hip/on-notify"
HI_REQUEST = "/api/hiecm/data-flow/v3/health-information/request"
HIP_ON_REQUEST = "/api/hiecm/data-flow/v3/health-information/hip/on-request"
NOTIFY = "/api/hiecm/data-flow/v3/health-information/notify"
HRP = "/v4/int/v1/bridges/MutipleHRPAddUpdateServices"
HIU_ID = "IN2410000555"


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's name
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        with self.server.lock:
            self.server.received.append({"path": self.path, "headers": dict(self.headers), "body": body})
            failing = self.server.fail_next > 0
            self.server.fail_next -= failing
        self.send_response(503 if failing else 202)
        self.end_headers()

    def log_message(self, *args):
        return


class Bridge:
    """A bridge (or a data push URL): records what arrives, answers 202."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.received, self.server.lock, self.server.fail_next = [], threading.Lock(), 0
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{self.prefix}"

    def received(self, path: str) -> list[dict]:
        with self.server.lock:
            return [item for item in self.server.received if item["path"] == self.prefix + path]

    def wait(self, path: str, count: int = 1, timeout: float = 15) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.received(path)
            if len(found) >= count:
                for item in found:
                    if path in schemas.CALLBACK_SCHEMAS:
                        jsonschema.validate(item["body"], schemas.CALLBACK_SCHEMAS[path])
                        assert item["headers"]["X-CM-ID"] == "sbx"
                        assert item["headers"]["Authorization"].startswith("Bearer ")
                        uuid.UUID(item["headers"]["REQUEST-ID"])
                return found
            time.sleep(0.02)
        raise AssertionError(f"no {count} callback(s) on {path}: {self.server.received}")

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Network:
    """An HIU bridge (test-bridge, service HIU_ID) and an HIP bridge (other-bridge, a fresh HFR facility)."""

    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.hiu_server, self.hip_server, self.push = Bridge("/hiu"), Bridge("/hip"), Bridge("/push")
        self.hiu = Gateway(sandbox, "test-bridge")
        self.hip = Gateway(sandbox, "other-bridge")
        for gateway, server in ((self.hiu, self.hiu_server), (self.hip, self.hip_server)):
            answer = gateway.call("PATCH", "/api/hiecm/gateway/v3/bridge/url", json={"url": server.url})
            assert answer.status_code == 202
        facility = sandbox.post(
            "hfr/facilities",
            json={
                "facilityName": "Consent Test Hospital",
                "ownershipCode": "G",
                "stateLGDCode": "24",
                "stateName": "GUJARAT",
                "districtLGDCode": "438",
                "districtName": "Ahmedabad",
            },
        ).json()["facilities"][0]
        self.hip_id = facility["facilityId"]
        linked = self.hip.call(
            "POST",
            HRP,
            standard=False,
            json={
                "facilityId": self.hip_id,
                "facilityName": "Consent Test Hospital",
                "HRP": [
                    {"bridgeId": "other-bridge", "hipName": f"Consent {self.hip_id}", "type": "HIP", "active": True}
                ],
            },
        )
        assert linked.status_code == 200, linked.text
        self.mobile = "9" + "".join(secrets.choice("0123456789") for _ in range(9))
        made = sandbox.post(
            "/sandbox/v1/abha/accounts/bulk",
            json={"accounts": [{"name": "Meena Patel", "gender": "F", "yearOfBirth": 1988, "mobile": self.mobile}]},
        )
        assert made.status_code == 201, made.text
        self.patient = made.json()["accounts"][0]["preferredAbhaAddress"]
        self.abha_number = made.json()["accounts"][0]["abhaNumber"]

    def close(self):
        for server in (self.hiu_server, self.hip_server, self.push):
            server.close()

    def consent_body(self, **changes) -> dict:
        moment = datetime.datetime.now(datetime.UTC)
        consent = {
            "purpose": {"text": "Care Management", "code": "CAREMGT", "refUri": "www.abdm.gov.in"},
            "patient": {"id": self.patient},
            "hip": {"id": self.hip_id, "name": "Consent Test Hospital"},
            "careContexts": [
                {"patientReference": "PAT-1", "careContextReference": "OPD-1"},
                {"patientReference": "PAT-1", "careContextReference": "OPD-2"},
            ],
            "hiu": {"id": HIU_ID, "name": "State Hospital HIU"},
            "requester": {
                "name": "Dr. Asha Shah",
                "identifier": {"value": "G-12345", "type": "REGNO", "system": "https://www.mciindia.org"},
            },
            "hiTypes": ["OPConsultation", "Prescription", "Invoice"],
            "permission": {
                "accessMode": "VIEW",
                "dateRange": {"from": timestamp(moment - datetime.timedelta(days=365)), "to": timestamp(moment)},
                "dataEraseAt": timestamp(moment + datetime.timedelta(days=2)),
                "frequency": {"unit": "HOUR", "value": 1, "repeats": 0},
            },
        }
        consent.update(changes)
        return {"consent": consent}

    def request_consent(self, **changes) -> str:
        answer = self.hiu.call("POST", INIT, json=self.consent_body(**changes))
        assert answer.status_code == 202, answer.text
        request_id = answer.request.headers["REQUEST-ID"]
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            for item in self.hiu_server.wait("/api/v3/hiu/consent/request/on-init"):
                if item["body"]["response"]["requestId"] == request_id:
                    assert item["headers"]["X-HIU-ID"] == HIU_ID
                    assert item["body"]["error"] is None
                    return item["body"]["consentRequest"]["id"]
            time.sleep(0.05)
        raise AssertionError("no on-init for the request")

    def grant(self, consent_request_id: str, **narrowing) -> list[str]:
        answer = self.sandbox.post(f"app/consents/{consent_request_id}/grant", json=narrowing)
        assert answer.status_code == 200, answer.text
        return [item["id"] for item in answer.json()["consentArtefacts"]]

    def hiu_notifications(self, consent_request_id: str, status: str) -> list[dict]:
        found = []
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not found:
            found = [
                item["body"]["notification"]
                for item in self.hiu_server.received("/api/v3/hiu/consent/request/notify")
                if item["body"]["notification"]["consentRequestId"] == consent_request_id
                and item["body"]["notification"]["status"] == status
            ]
            time.sleep(0.05)
        self.hiu_server.wait("/api/v3/hiu/consent/request/notify")  # validates every notification's schema
        return found

    def hip_notifications(self, artefact_id: str, status: str) -> list[dict]:
        found = []
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not found:
            found = [
                item
                for item in self.hip_server.received("/api/v3/consent/request/hip/notify")
                if item["body"]["notification"]["consentId"] == artefact_id
                and item["body"]["notification"]["status"] == status
            ]
            time.sleep(0.05)
        self.hip_server.wait("/api/v3/consent/request/hip/notify")
        return found


@pytest.fixture(autouse=True)
def _sent_bodies_match_the_spec(sandbox):
    """The sandbox checks every callback it sends against schemas.py and logs a mismatch: none may appear."""
    yield
    time.sleep(0.2)  # callbacks go out after commit, from a thread
    log = sandbox.log_file.read_text(errors="replace") if hasattr(sandbox, "log_file") else ""
    assert "does not match the spec" not in log


@pytest.fixture
def network(sandbox):
    net = Network(sandbox)
    try:
        yield net
    finally:
        net.close()


def _signature_verifies(gateway: Gateway, detail: dict, signature: str) -> bool:
    keys = jwt.PyJWKSet.from_dict(gateway.call("GET", "/api/hiecm/gateway/v3/certs").json())
    canonical = json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    for key in keys.keys:
        try:
            key.key.verify(base64.b64decode(signature), canonical, padding.PKCS1v15(), hashes.SHA256())
            return True
        except Exception:  # noqa: BLE001, S112 - try the next published key
            continue
    return False


# --- consent requests --------------------------------------------------------------------------------------------


def test_init_answers_on_init_with_a_request_id_and_texts_the_citizen(sandbox, network):
    consent_request_id = network.request_consent()
    uuid.UUID(consent_request_id)
    texts = [m["text"] for m in sandbox.messages(network.mobile)]
    assert any(consent_request_id in text and "State Hospital HIU" in text for text in texts)
    listed = sandbox.get("app/consents", params={"patient": network.patient}).json()["consentRequests"]
    assert [item["id"] for item in listed] == [consent_request_id]
    assert listed[0]["status"] == "REQUESTED"
    assert listed[0]["hiTypes"] == ["OPConsultation", "Prescription", "Invoice"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"purpose": {"text": "Public Health", "code": "CAREMGT", "refUri": "www.abdm.gov.in"}}, "purpose text"),
        ({"purpose": {"text": "Care Management", "code": "CURIOUS", "refUri": "x"}}, "purpose.code"),
        ({"hiTypes": ["OPConsultation", "XRay"]}, "hiTypes"),
        ({"hiTypes": []}, "hiTypes"),
        ({"patient": {"id": "someone@gmail.com"}}, "patient.id"),
        ({"requester": None}, "requester"),
    ],
)
def test_init_refuses_what_the_spec_and_abdm_rules_forbid(network, change, message):
    answer = network.hiu.call("POST", INIT, json=network.consent_body(**change))
    assert answer.status_code == 400
    errors = answer.json()
    assert isinstance(errors, list) and errors
    assert all(re.match(r"^ABDM-\d{4}$", item["error"]["code"]) for item in errors)
    assert any(message in item["error"]["message"] for item in errors), errors


@pytest.mark.parametrize(
    ("permission", "message"),
    [
        ({"dateRange": {"from": "2025-06-01T00:00:00.000Z", "to": "2025-01-01T00:00:00.000Z"}}, "from/to"),
        ({"dateRange": {"from": "2099-01-01T00:00:00.000Z", "to": "2099-02-01T00:00:00.000Z"}}, "present/before"),
        ({"dataEraseAt": "2020-01-01T00:00:00.000Z"}, "dataEraseAt"),
        ({"frequency": {"unit": "HOUR", "value": 0, "repeats": 0}}, "frequency"),
        ({"frequency": {"unit": "FORTNIGHT", "value": 1, "repeats": 0}}, "frequency.unit"),
        ({"accessMode": "COPY"}, "accessMode"),
    ],
)
def test_init_refuses_bad_permissions(network, permission, message):
    body = network.consent_body()
    body["consent"]["permission"].update(permission)
    answer = network.hiu.call("POST", INIT, json=body)
    assert answer.status_code == 400
    assert any(message in item["error"]["message"] for item in answer.json()), answer.json()


def test_init_for_an_unknown_patient_answers_the_error_on_on_init(network):
    answer = network.hiu.call("POST", INIT, json=network.consent_body(patient={"id": "nobody.here@sbx"}))
    assert answer.status_code == 202
    [callback] = network.hiu_server.wait("/api/v3/hiu/consent/request/on-init")
    assert callback["body"]["consentRequest"] is None
    assert callback["body"]["error"]["code"] == "ABDM-1170"
    assert callback["body"]["response"]["requestId"] == answer.request.headers["REQUEST-ID"]


def test_every_invoice_and_purpose_of_abdm_is_accepted(network):
    for code, text in schemas.PURPOSES.items():
        body = network.consent_body(
            purpose={"text": text, "code": code, "refUri": "www.abdm.gov.in"}, hiTypes=list(schemas.HI_TYPES)
        )
        assert network.hiu.call("POST", INIT, json=body).status_code == 202


def test_status_answers_on_status(network):
    consent_request_id = network.request_consent()
    answer = network.hiu.call(
        "POST", STATUS, json={"consentRequestId": consent_request_id}, headers={"X-HIU-ID": HIU_ID}
    )
    assert answer.status_code == 202
    [callback] = network.hiu_server.wait("/api/v3/hiu/consent/request/on-status")
    assert callback["body"]["consentRequest"] == {"id": consent_request_id, "status": "REQUESTED"}
    assert callback["body"]["response"]["requestId"] == answer.request.headers["REQUEST-ID"]
    # Another bridge, or another HIU, or no header: not theirs.
    other = network.hip.call(
        "POST", STATUS, json={"consentRequestId": consent_request_id}, headers={"X-HIU-ID": HIU_ID}
    )
    assert other.status_code == 404
    assert network.hiu.call("POST", STATUS, json={"consentRequestId": consent_request_id}).status_code == 400
    bad = network.hiu.call("POST", STATUS, json={"consentRequestId": "nope"}, headers={"X-HIU-ID": HIU_ID})
    assert bad.status_code == 400 and bad.json()["error"]["message"] == "Invalid Consent request id"


# --- the citizen's answers ---------------------------------------------------------------------------------------


def test_a_narrowed_grant_makes_a_signed_artefact_for_the_hip_and_tells_both(network):
    consent_request_id = network.request_consent()
    # The citizen signs in to the app with an OTP to their mobile.
    started = network.sandbox.post("app/login/otp", json={"abhaAddress": network.patient})
    assert started.status_code == 200, started.text
    otp = network.sandbox.last_otp(network.mobile)
    token = network.sandbox.post("app/login/verify", json={"txnId": started.json()["txnId"], "otp": otp}).json()[
        "token"
    ]
    auth = {"Authorization": f"Bearer {token}"}
    granted = network.sandbox.post(
        f"app/consents/{consent_request_id}/grant",
        json={
            "hiTypes": ["Prescription"],
            "careContexts": [{"hipId": network.hip_id, "careContextReference": "OPD-2"}],
        },
        headers=auth,
    )
    assert granted.status_code == 200, granted.text
    [artefact] = granted.json()["consentArtefacts"]
    assert artefact["hipId"] == network.hip_id

    [notified] = network.hiu_notifications(consent_request_id, "GRANTED")
    assert notified["consentArtefacts"] == [{"id": artefact["id"]}]
    [hip_call] = network.hip_notifications(artefact["id"], "GRANTED")
    assert hip_call["headers"]["X-HIP-ID"] == network.hip_id
    notification = hip_call["body"]["notification"]
    detail = notification["consentDetail"]
    assert detail["hiTypes"] == ["Prescription"]
    assert detail["careContexts"] == [{"patientReference": "PAT-1", "careContextReference": "OPD-2"}]
    assert detail["patient"] == {"id": network.patient}
    assert detail["hip"]["id"] == network.hip_id and detail["hiu"]["id"] == HIU_ID
    assert _signature_verifies(network.hiu, detail, notification["signature"])

    ack = network.hip.call(
        "POST",
        HIP_ON_NOTIFY,
        json={
            "acknowledgement": {"status": "OK", "consentId": artefact["id"]},
            "response": {"requestId": hip_call["headers"]["REQUEST-ID"]},
        },
    )
    assert ack.status_code == 202, ack.text
    hiu_ack = network.hiu.call(
        "POST",
        HIU_ON_NOTIFY,
        json={
            "acknowledgement": [{"status": "OK", "consentId": artefact["id"]}],
            "response": {"requestId": str(uuid.uuid4())},
        },
    )
    assert hiu_ack.status_code == 202, hiu_ack.text
    shown = network.sandbox.get(f"app/consents/{consent_request_id}", headers=auth).json()
    assert shown["status"] == "GRANTED"
    assert shown["consentArtefacts"][0]["hipAcknowledgement"] == "OK"

    # The HIU fetches the artefact.
    fetched = network.hiu.call("POST", FETCH, json={"consentId": artefact["id"]}, headers={"X-HIU-ID": HIU_ID})
    assert fetched.status_code == 202
    [on_fetch] = network.hiu_server.wait("/api/v3/hiu/consent/on-fetch")
    consent = on_fetch["body"]["consent"]
    assert consent["status"] == "GRANTED"
    assert consent["consentDetail"]["consentId"] == artefact["id"]
    assert consent["consentDetail"]["permission"]["accessMode"] == "VIEW"
    assert _signature_verifies(network.hiu, consent["consentDetail"], consent["signature"])
    # A second grant is a conflict; another citizen's token sees nothing.
    assert network.sandbox.post(f"app/consents/{consent_request_id}/grant", json={}).status_code == 409


def test_grant_may_not_widen_the_request(network):
    consent_request_id = network.request_consent()
    for narrowing in (
        {"hiTypes": ["DischargeSummary"]},
        {"dateRange": {"from": "1990-01-01T00:00:00.000Z", "to": timestamp()}},
        {"dataEraseAt": "2099-01-01T00:00:00.000Z"},
        {"careContexts": [{"hipId": network.hip_id, "careContextReference": "SOMEONE-ELSES"}]},
    ):
        answer = network.sandbox.post(f"app/consents/{consent_request_id}/grant", json=narrowing)
        assert answer.status_code == 400, (narrowing, answer.text)
    shown = network.sandbox.get(f"app/consents/{consent_request_id}").json()
    assert shown["status"] == "REQUESTED" and shown["consentArtefacts"] == []


def test_deny_tells_the_hiu_and_ends_the_request(network):
    consent_request_id = network.request_consent()
    assert network.sandbox.post(f"app/consents/{consent_request_id}/deny", json={}).status_code == 200
    [notified] = network.hiu_notifications(consent_request_id, "DENIED")
    assert notified["consentArtefacts"] == []
    assert network.sandbox.post(f"app/consents/{consent_request_id}/grant", json={}).status_code == 409
    assert network.hip_server.received("/api/v3/consent/request/hip/notify") == []


def test_another_citizens_token_cannot_answer(network):
    consent_request_id = network.request_consent()
    made = network.sandbox.post(
        "/sandbox/v1/abha/accounts/bulk",
        json={"accounts": [{"name": "Other Person", "gender": "M", "yearOfBirth": 1970}]},
    ).json()["accounts"][0]
    token = network.sandbox.post("app/session", json={"abhaAddress": made["preferredAbhaAddress"]}).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert network.sandbox.post(f"app/consents/{consent_request_id}/grant", json={}, headers=auth).status_code == 404
    assert network.sandbox.get(f"app/consents/{consent_request_id}", headers=auth).status_code == 404
    assert network.sandbox.get("app/consents", headers=auth).json()["consentRequests"] == []
    bad = {"Authorization": "Bearer not-a-token"}
    assert network.sandbox.post(f"app/consents/{consent_request_id}/deny", json={}, headers=bad).status_code == 401


def test_revoke_tells_the_hip_and_the_hiu(network):
    consent_request_id = network.request_consent()
    [artefact_id] = network.grant(consent_request_id)
    assert network.sandbox.post(f"app/artefacts/{artefact_id}/revoke", json={}).status_code == 200
    [notified] = network.hiu_notifications(consent_request_id, "REVOKED")
    assert notified["consentArtefacts"] == [{"id": artefact_id}]
    assert network.hip_notifications(artefact_id, "REVOKED")
    assert network.sandbox.post(f"app/artefacts/{artefact_id}/revoke", json={}).status_code == 409


def test_expire_now_expires_a_request_and_an_artefact(network):
    waiting = network.request_consent()
    assert network.sandbox.post("consents/expire-now", json={"consentRequestId": waiting}).status_code == 200
    assert network.hiu_notifications(waiting, "EXPIRED")
    granted = network.request_consent()
    [artefact_id] = network.grant(granted)
    assert network.sandbox.post("consents/expire-now", json={"consentArtefactId": artefact_id}).status_code == 200
    [notified] = network.hiu_notifications(granted, "EXPIRED")
    assert notified["consentArtefacts"] == [{"id": artefact_id}]
    assert network.hip_notifications(artefact_id, "EXPIRED")
    # A health-information request under it is refused on on-request.
    network.hiu.call(
        "POST",
        HI_REQUEST,
        json=_hi_request(network, artefact_id, fidelius.new_key_pair()),
        headers={"X-HIU-ID": HIU_ID},
    )
    [refused] = network.hiu_server.wait("/api/v3/hiu/health-information/on-request")
    assert refused["body"]["error"]["code"] == "ABDM-1061"


# --- the health-information relay --------------------------------------------------------------------------------


def _key_material(keys: fidelius.KeyPair) -> dict:
    return {
        "cryptoAlg": "ECDH",
        "curve": "curve25519",
        "dhPublicKey": {
            "expiry": timestamp(datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)),
            "parameters": "Ephemeral public key",
            "keyValue": keys.public_key,
        },
        "nonce": keys.nonce,
    }


def _hi_request(network, artefact_id: str, keys: fidelius.KeyPair, **dates) -> dict:
    moment = datetime.datetime.now(datetime.UTC)
    return {
        "hiRequest": {
            "consent": {"id": artefact_id},
            "dateRange": {
                "from": dates.get("start") or timestamp(moment - datetime.timedelta(days=30)),
                "to": dates.get("end") or timestamp(moment - datetime.timedelta(minutes=5)),
            },
            "dataPushUrl": network.push.url + "/data",
            "keyMaterial": _key_material(keys),
        }
    }


def test_a_health_information_request_is_relayed_and_the_transfer_tracked(network):
    consent_request_id = network.request_consent()
    [artefact_id] = network.grant(consent_request_id)
    hiu_keys = fidelius.new_key_pair()
    answer = network.hiu.call(
        "POST", HI_REQUEST, json=_hi_request(network, artefact_id, hiu_keys), headers={"X-HIU-ID": HIU_ID}
    )
    assert answer.status_code == 202, answer.text
    [on_request] = network.hiu_server.wait("/api/v3/hiu/health-information/on-request")
    assert on_request["body"]["hiRequest"]["sessionStatus"] == "REQUESTED"
    transaction_id = on_request["body"]["hiRequest"]["transactionId"]
    [to_hip] = network.hip_server.wait("/api/v3/hip/health-information/request")
    assert to_hip["headers"]["X-HIP-ID"] == network.hip_id
    assert to_hip["body"]["transactionId"] == transaction_id
    assert to_hip["body"]["hiRequest"]["keyMaterial"]["dhPublicKey"]["keyValue"] == hiu_keys.public_key

    # The HIP acknowledges, encrypts for the HIU's key, pushes, and notifies.
    acked = network.hip.call(
        "POST",
        HIP_ON_REQUEST,
        json={
            "hiRequest": {"transactionId": transaction_id, "sessionStatus": "ACKNOWLEDGED"},
            "response": {"requestId": to_hip["headers"]["REQUEST-ID"]},
        },
    )
    assert acked.status_code == 202, acked.text
    hip_keys = fidelius.new_key_pair()
    bundle = json.dumps({"resourceType": "Bundle", "type": "document"})
    content = fidelius.encrypt(
        bundle,
        private_key=hip_keys.private_key,
        nonce=hip_keys.nonce,
        peer_public_key=hiu_keys.public_key,
        peer_nonce=hiu_keys.nonce,
    )
    push = {
        "pageNumber": 1,
        "pageCount": 1,
        "transactionId": transaction_id,
        "entries": [
            {
                "content": content,
                "media": "application/fhir+json",
                "careContextReference": "OPD-1",
                "checksum": hashlib.md5(bundle.encode(), usedforsecurity=False).hexdigest(),
            }
        ],
        "keyMaterial": _key_material(hip_keys),
    }
    jsonschema.validate(push, schemas.DATA_PUSH)
    assert requests.post(to_hip["body"]["hiRequest"]["dataPushUrl"], json=push, timeout=10).status_code == 202
    [pushed] = network.push.wait("/data")
    entry = pushed["body"]["entries"][0]
    assert (
        fidelius.decrypt(
            entry["content"],
            private_key=hiu_keys.private_key,
            nonce=hiu_keys.nonce,
            peer_public_key=pushed["body"]["keyMaterial"]["dhPublicKey"]["keyValue"],
            peer_nonce=pushed["body"]["keyMaterial"]["nonce"],
        )
        == bundle
    )
    for gateway, notifier, session, status in (
        (network.hip, {"type": "HIP", "id": network.hip_id}, "TRANSFERRED", "OK"),
        (network.hiu, {"type": "HIU", "id": HIU_ID}, "RECEIVED", "OK"),
    ):
        notified = gateway.call(
            "POST",
            NOTIFY,
            json={
                "notification": {
                    "consentId": artefact_id,
                    "transactionId": transaction_id,
                    "doneAt": timestamp(),
                    "notifier": notifier,
                    "statusNotification": {
                        "sessionStatus": session,
                        "hipId": network.hip_id,
                        "statusResponses": [
                            {"careContextReference": "OPD-1", "hiStatus": status, "description": "Delivered"}
                        ],
                    },
                }
            },
        )
        assert notified.status_code == 202, notified.text
    status = network.hiu.call("GET", f"/api/hiecm/data-flow/v3/health-information/request/status/{transaction_id}")
    assert status.status_code == 200
    jsonschema.validate(status.json(), schemas.TRANSFER_STATUS)
    assert status.json() == {"transactionId": transaction_id, "status": "TRANSFERRED"}
    # A stranger's notification, or one for another consent, is refused.
    stranger = network.hiu.call(
        "POST",
        NOTIFY,
        json={
            "notification": {
                "consentId": str(uuid.uuid4()),
                "transactionId": transaction_id,
                "doneAt": timestamp(),
                "notifier": {"type": "HIU", "id": HIU_ID},
                "statusNotification": {"sessionStatus": "RECEIVED", "hipId": network.hip_id, "statusResponses": []},
            }
        },
    )
    assert stranger.status_code == 400 and stranger.json()["code"] == "ABDM-1017"


@pytest.mark.parametrize("case", ["revoked", "other-hiu", "dates", "unknown"])
def test_a_health_information_request_outside_the_artefact_is_refused_on_on_request(network, case):
    consent_request_id = network.request_consent()
    [artefact_id] = network.grant(consent_request_id)
    hiu_id, dates = HIU_ID, {}
    if case == "revoked":
        network.sandbox.post(f"app/artefacts/{artefact_id}/revoke", json={})
    elif case == "other-hiu":
        hiu_id = "IN2410000999"
    elif case == "dates":
        dates = {"start": "1999-01-01T00:00:00.000Z"}
    else:
        artefact_id = str(uuid.uuid4())
    answer = network.hiu.call(
        "POST",
        HI_REQUEST,
        json=_hi_request(network, artefact_id, fidelius.new_key_pair(), **dates),
        headers={"X-HIU-ID": hiu_id},
    )
    assert answer.status_code == 202
    [refused] = network.hiu_server.wait("/api/v3/hiu/health-information/on-request")
    expected = {"revoked": "ABDM-1062", "other-hiu": "ABDM-1040", "dates": "ABDM-1063", "unknown": "ABDM-1112"}
    assert refused["body"]["error"]["code"] == expected[case]
    assert refused["body"]["hiRequest"] is None
    time.sleep(0.3)
    assert network.hip_server.received("/api/v3/hip/health-information/request") == []


def test_a_malformed_health_information_request_is_refused_at_once(network):
    body = _hi_request(network, str(uuid.uuid4()), fidelius.new_key_pair())
    del body["hiRequest"]["keyMaterial"]["dhPublicKey"]
    answer = network.hiu.call("POST", HI_REQUEST, json=body, headers={"X-HIU-ID": HIU_ID})
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "ABDM-1015"
    body = _hi_request(network, str(uuid.uuid4()), fidelius.new_key_pair())
    body["hiRequest"]["dataPushUrl"] = "ftp://example.org/x"
    assert network.hiu.call("POST", HI_REQUEST, json=body, headers={"X-HIU-ID": HIU_ID}).status_code == 400


def _link_at_hip(network: Network, references: list[str], hip_id: str | None = None) -> None:
    """Link care contexts to the patient at the HIP through the sandbox's M2 (link token, then carecontext)."""
    from .test_linking import LINK, TOKEN, _entry  # noqa: PLC0415 - the M2 helpers, only for this test

    request_id = str(uuid.uuid4())
    token_body = {
        "abhaNumber": int(network.abha_number),
        "abhaAddress": network.patient,
        "name": "Meena Patel",
        "gender": "F",
        "yearOfBirth": 1988,
    }
    hip_id = hip_id or network.hip_id
    headers = {"X-HIP-ID": hip_id, "REQUEST-ID": request_id}
    assert network.hip.call("POST", TOKEN, headers=headers, json=token_body).status_code == 202
    token = None
    deadline = time.monotonic() + 15
    while token is None and time.monotonic() < deadline:
        for item in network.hip_server.received("/api/v3/hip/token/on-generate-token"):
            if item["body"]["response"]["requestId"] == request_id:
                token = item["body"]["linkToken"]
        time.sleep(0.05)
    assert token, network.hip_server.server.received
    request_id = str(uuid.uuid4())
    linked = network.hip.call(
        "POST",
        LINK,
        headers={"X-HIP-ID": hip_id, "X-LINK-TOKEN": token, "REQUEST-ID": request_id},
        json={
            "abhaNumber": network.abha_number,
            "abhaAddress": network.patient,
            "patient": [_entry("PAT-9", references)],
        },
    )
    assert linked.status_code == 202, linked.text
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        done = [
            i
            for i in network.hip_server.received("/api/v3/link/on_carecontext")
            if i["body"]["response"]["requestId"] == request_id
        ]
        if done:
            assert "error" not in done[0]["body"] or not done[0]["body"]["error"], done[0]["body"]
            return
        time.sleep(0.05)
    raise AssertionError("no on_carecontext")


def test_a_grant_covers_the_care_contexts_linked_on_abdm_when_the_hiu_names_none(network):
    _link_at_hip(network, ["VISIT-1", "VISIT-2"])
    consent_request_id = network.request_consent(careContexts=None)
    offered = network.sandbox.get(f"app/consents/{consent_request_id}").json()["careContexts"]
    assert sorted(c["careContextReference"] for c in offered) == ["VISIT-1", "VISIT-2"]
    [artefact_id] = network.grant(consent_request_id)
    [hip_call] = network.hip_notifications(artefact_id, "GRANTED")
    assert hip_call["body"]["notification"]["consentDetail"]["careContexts"] == [
        {"patientReference": "PAT-9", "careContextReference": "VISIT-1"},
        {"patientReference": "PAT-9", "careContextReference": "VISIT-2"},
    ]
    # Without a HIP named either, the citizen may pick: here only the second visit.
    second = network.request_consent(careContexts=None, hip=None)
    [artefact_id] = network.grant(second, careContexts=[{"hipId": network.hip_id, "careContextReference": "VISIT-2"}])
    [hip_call] = network.hip_notifications(artefact_id, "GRANTED")
    assert hip_call["body"]["notification"]["consentDetail"]["careContexts"] == [
        {"patientReference": "PAT-9", "careContextReference": "VISIT-2"}
    ]


def test_a_bridge_that_fails_is_called_again_with_the_same_request_id(network):
    consent_request_id = network.request_consent()
    network.hiu_server.server.fail_next = 1
    assert network.sandbox.post(f"app/consents/{consent_request_id}/deny", json={}).status_code == 200
    first, second = network.hiu_server.wait("/api/v3/hiu/consent/request/notify", count=2)
    assert first["headers"]["REQUEST-ID"] == second["headers"]["REQUEST-ID"]
    assert first["body"] == second["body"]


def test_a_grant_over_two_hips_makes_one_artefact_for_each(network):
    second = network.sandbox.post(
        "hfr/facilities",
        json={
            "facilityName": "Second Test Clinic",
            "ownershipCode": "P",
            "stateLGDCode": "24",
            "stateName": "GUJARAT",
            "districtLGDCode": "438",
            "districtName": "Ahmedabad",
        },
    ).json()["facilities"][0]["facilityId"]
    linked = network.hip.call(
        "POST",
        HRP,
        standard=False,
        json={
            "facilityId": second,
            "facilityName": "Second Test Clinic",
            "HRP": [{"bridgeId": "other-bridge", "hipName": f"Clinic {second}", "type": "HIP", "active": True}],
        },
    )
    assert linked.status_code == 200, linked.text
    _link_at_hip(network, ["A-1"])
    _link_at_hip(network, ["B-1", "B-2"], hip_id=second)
    consent_request_id = network.request_consent(careContexts=None, hip=None)
    artefact_ids = network.grant(consent_request_id)
    assert len(artefact_ids) == 2
    [notified] = network.hiu_notifications(consent_request_id, "GRANTED")
    assert sorted(a["id"] for a in notified["consentArtefacts"]) == sorted(artefact_ids)
    by_hip = {}
    for artefact_id in artefact_ids:
        [call] = network.hip_notifications(artefact_id, "GRANTED")
        detail = call["body"]["notification"]["consentDetail"]
        assert call["headers"]["X-HIP-ID"] == detail["hip"]["id"]
        by_hip[detail["hip"]["id"]] = sorted(c["careContextReference"] for c in detail["careContexts"])
    assert by_hip == {network.hip_id: ["A-1"], second: ["B-1", "B-2"]}
