"""The sandbox gateway's M2 side over HTTP: HIP-initiated linking (link token, care-context link, context notify),
user-initiated linking played from the sandbox's ABHA app, Scan & Share's patient share, and the linking stats.
A small HTTP server plays the HIP's bridge; every callback it receives is checked against the spec's schema, and
the bodies the tests send as the HIP are the spec's shapes."""

import json
import os
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jsonschema
import pytest

from abdm_sandbox.linking import schemas
from abdm_sandbox.testing import SandboxProcess, _database_url, _drop_database

from .conftest import CLIENTS, Gateway

M2 = "/api/hiecm"
TOKEN = f"{M2}/v3/token/generate-token"
LINK = f"{M2}/hip/v3/link/carecontext"
NOTIFY = f"{M2}/hip/v3/link/context/notify"
ON_DISCOVER = f"{M2}/user-initiated-linking/v3/patient/care-context/on-discover"
ON_INIT = f"{M2}/user-initiated-linking/v3/link/care-context/on-init"
ON_CONFIRM = f"{M2}/user-initiated-linking/v3/link/care-context/on-confirm"
ON_SHARE = f"{M2}/patient-share/v3/on-share"
CALLS = int(os.environ.get("LINKING_TEST_CALLS") or 100)
HRP = "/v4/int/v1/bridges/MutipleHRPAddUpdateServices"

# What each webhook must carry (hiecm-m2.yaml webhooks, patient-share.yaml).
WEBHOOK_SCHEMAS = {
    "/abdm/api/v3/hip/token/on-generate-token": schemas.ON_GENERATE_TOKEN,
    "/abdm/api/v3/link/on_carecontext": schemas.ON_CARE_CONTEXT,
    "/abdm/api/v3/links/context/on-notify": schemas.ON_CONTEXT_NOTIFY,
    "/abdm/api/v3/hip/patient/care-context/discover": schemas.DISCOVER,
    "/abdm/api/v3/hip/link/care-context/init": schemas.LINK_INIT,
    "/abdm/api/v3/hip/link/care-context/confirm": schemas.LINK_CONFIRM,
    "/abdm/api/v3/hip/patient/share": schemas.PATIENT_SHARE,
}


class _Bridge(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's name
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        with self.server.lock:
            self.server.received.append({"path": self.path, "headers": dict(self.headers), "body": body})
        with self.server.lock:
            status = self.server.answer_plan.pop(0) if self.server.answer_plan else self.server.answer_status
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args):
        return


class BridgeServer:
    def __init__(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Bridge)
        self.server.received = []
        self.server.lock = threading.Lock()
        self.server.answer_status = 202
        self.server.answer_plan = []  # statuses for the next callbacks, before answer_status again
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/abdm"

    def received(self, path: str) -> list[dict]:
        with self.server.lock:
            return [item for item in self.server.received if item["path"] == "/abdm" + path]

    def wait(self, path: str, *, count: int = 1, timeout: float = 15) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.received(path)
            if len(found) >= count:
                for item in found:
                    jsonschema.validate(item["body"], WEBHOOK_SCHEMAS[item["path"]])
                    assert item["headers"]["X-CM-ID"] == "sbx"
                    assert item["headers"]["Authorization"].startswith("Bearer ")
                    uuid.UUID(item["headers"]["REQUEST-ID"])
                return found
            time.sleep(0.02)
        raise AssertionError(f"no {count} callback(s) on {path}: {self.server.received}")

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _hip_on(sandbox) -> Gateway:
    """test-bridge with its URL on a local server and an HFR facility linked to it as an active HIP."""
    server = BridgeServer()
    gateway = Gateway(sandbox)
    assert gateway.call("PATCH", "/api/hiecm/gateway/v3/bridge/url", json={"url": server.url}).status_code == 202
    facility = sandbox.post(
        "hfr/facilities",
        json={"facilityName": "Linking Test Hospital", "ownershipCode": "G", "stateLGDCode": "24",
              "stateName": "GUJARAT", "districtLGDCode": "438", "districtName": "Ahmedabad"},
    ).json()["facilities"][0]  # fmt: skip
    hip_id = facility["facilityId"]
    linked = gateway.call(
        "POST", HRP, standard=False,
        json={"facilityId": hip_id, "facilityName": "Linking Test Hospital",
              "HRP": [{"bridgeId": "test-bridge", "hipName": f"Linking {hip_id}", "type": "HIP", "active": True}]},
    )  # fmt: skip
    assert linked.status_code == 200, linked.text
    gateway.hip_id = hip_id
    gateway.server = server
    return gateway


@pytest.fixture
def hip(sandbox):
    gateway = _hip_on(sandbox)
    yield gateway
    gateway.server.close()


def _account(sandbox, **fields) -> dict:
    row = {"name": "Meera Jayesh Patel", "gender": "F", "dob": "1990-04-12", "mobile": "9876500011", **fields}
    answer = sandbox.post("abha/accounts/bulk", json={"accounts": [row]})
    assert answer.status_code == 201, answer.text
    created = answer.json()["accounts"][0]
    return {**row, "abhaNumber": created["abhaNumber"], "abhaAddress": created["preferredAbhaAddress"]}


@pytest.fixture
def patient(sandbox):
    return _account(sandbox)


def _token_body(patient, **overrides) -> dict:
    body = {"abhaNumber": int(patient["abhaNumber"]), "abhaAddress": patient["abhaAddress"], "name": patient["name"],
            "gender": patient["gender"], "yearOfBirth": int(patient["dob"][:4])}  # fmt: skip
    return {**body, **overrides}


def _link_token(hip, patient) -> str:
    request_id = str(uuid.uuid4())
    answer = hip.call("POST", TOKEN, headers={"X-HIP-ID": hip.hip_id, "REQUEST-ID": request_id},
                      json=_token_body(patient))  # fmt: skip
    assert answer.status_code == 202, answer.text
    assert answer.content == b""
    callback = _answer_to(hip, "/api/v3/hip/token/on-generate-token", request_id)
    assert callback["headers"]["X-HIP-ID"] == hip.hip_id
    assert callback["body"]["abhaAddress"] == patient["abhaAddress"]
    return callback["body"]["linkToken"]


def _answer_to(hip, path: str, request_id: str, timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for item in hip.server.received(path):
            if item["body"].get("response", {}).get("requestId") == request_id:
                hip.server.wait(path)  # schema and headers
                return item
        time.sleep(0.02)
    raise AssertionError(f"no answer to {request_id} on {path}")


def _entry(patient_ref: str, refs: list[str], hi_types=("OPConsultation",)) -> dict:
    return {
        "referenceNumber": patient_ref,
        "display": "Meera Patel",
        "careContexts": [{"referenceNumber": ref, "display": f"OPD visit {ref}"} for ref in refs],
        "hiType": list(hi_types),
        "count": len(refs),
    }


def _link(hip, patient, token: str, entries: list[dict], **body) -> tuple[int, dict | None]:
    request_id = str(uuid.uuid4())
    payload = {"abhaNumber": patient["abhaNumber"], "abhaAddress": patient["abhaAddress"], "patient": entries, **body}
    answer = hip.call("POST", LINK, headers={"X-HIP-ID": hip.hip_id, "X-LINK-TOKEN": token, "REQUEST-ID": request_id},
                      json=payload)  # fmt: skip
    if answer.status_code != 202:
        return answer.status_code, answer.json()
    return 202, _answer_to(hip, "/api/v3/link/on_carecontext", request_id)["body"]


def _stats(sandbox, hip_id: str) -> dict:
    hips = sandbox.get(f"linking/stats?hipId={hip_id}").json()["hips"]
    return hips[0] if hips else {"careContexts": 0}


# --- HIP-initiated linking -----------------------------------------------------------------------------------


def test_link_token_then_a_batch_linked_once(sandbox, hip, patient):
    token = _link_token(hip, patient)
    status, body = _link(hip, patient, token, [_entry("PAT-1", [f"VISIT-{n}" for n in range(20)])])
    assert status == 202
    assert body["status"] == "Successfully Linked care context"
    assert body["abhaAddress"] == patient["abhaAddress"]
    assert _stats(sandbox, hip.hip_id)["careContexts"] == 20

    # The same batch again (a retry after an outage): nothing new, ABDM-1056, still 20.
    status, body = _link(hip, patient, token, [_entry("PAT-1", [f"VISIT-{n}" for n in range(20)])])
    assert body["error"]["code"] == "ABDM-1056"
    # Half old, half new: only the new ones are added.
    status, body = _link(hip, patient, token, [_entry("PAT-1", [f"VISIT-{n}" for n in range(10, 30)])])
    assert body["status"] == "Successfully Linked care context"
    assert _stats(sandbox, hip.hip_id)["careContexts"] == 30

    linked = sandbox.get(f"linking/care-contexts?abhaAddress={patient['abhaAddress']}&hipId={hip.hip_id}").json()
    assert len(linked["careContexts"]) == 30
    assert linked["careContexts"][0]["hiTypes"] == ["OPConsultation"]
    assert linked["careContexts"][0]["hipName"] == f"Linking {hip.hip_id}"
    # By the default address too (the same account).
    default = f"{patient['abhaNumber']}@sbx"
    assert len(sandbox.get(f"linking/care-contexts?abhaAddress={default}").json()["careContexts"]) == 30


def test_a_callback_the_bridge_did_not_take_is_sent_again(sandbox, hip, patient):
    token = _link_token(hip, patient)
    hip.server.server.answer_plan = [503]
    status, body = _link(hip, patient, token, [_entry("PAT-R", ["V-R1"])])
    assert body["status"] == "Successfully Linked care context"
    request_id = body["response"]["requestId"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        tries = [item for item in hip.server.received("/api/v3/link/on_carecontext")
                 if item["body"]["response"]["requestId"] == request_id]  # fmt: skip
        if len(tries) == 2:
            break
        time.sleep(0.05)
    assert len(tries) == 2
    assert tries[0]["headers"]["REQUEST-ID"] == tries[1]["headers"]["REQUEST-ID"]
    assert tries[0]["body"] == tries[1]["body"]


def test_link_token_refusals_come_on_the_callback(sandbox, hip, patient):
    cases = [
        (_token_body(patient, abhaAddress="nobody.here@sbx"), "ABDM-1051"),
        (_token_body(patient, abhaNumber=int(patient["abhaNumber"]) + 1), "ABDM-1051"),
        (_token_body(patient, name="Someone Else"), "ABDM-1043"),
        (_token_body(patient, gender="M"), "ABDM-1043"),
        (_token_body(patient, yearOfBirth=1991), "ABDM-1043"),
    ]
    for body, code in cases:
        request_id = str(uuid.uuid4())
        answer = hip.call("POST", TOKEN, headers={"X-HIP-ID": hip.hip_id, "REQUEST-ID": request_id}, json=body)
        assert answer.status_code == 202
        callback = _answer_to(hip, "/api/v3/hip/token/on-generate-token", request_id)["body"]
        assert callback["error"]["code"] == code, body
        assert "linkToken" not in callback
    # A name without the middle name still matches.
    request_id = str(uuid.uuid4())
    hip.call("POST", TOKEN, headers={"X-HIP-ID": hip.hip_id, "REQUEST-ID": request_id},
             json=_token_body(patient, name="MEERA PATEL"))  # fmt: skip
    assert "linkToken" in _answer_to(hip, "/api/v3/hip/token/on-generate-token", request_id)["body"]


def test_link_token_request_refused_at_once(sandbox, hip, patient):
    other_hip = hip.call("POST", TOKEN, headers={"X-HIP-ID": "IN2400000000"}, json=_token_body(patient))
    assert other_hip.status_code == 400
    assert other_hip.json()["error"]["code"] == "ABDM-1035"
    no_year = dict(_token_body(patient))
    del no_year["yearOfBirth"]
    bad = hip.call("POST", TOKEN, headers={"X-HIP-ID": hip.hip_id}, json=no_year)
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "ABDM-1006"
    string_year = hip.call(
        "POST", TOKEN, headers={"X-HIP-ID": hip.hip_id}, json=_token_body(patient, yearOfBirth="1990")
    )
    assert string_year.status_code == 400
    request_id = str(uuid.uuid4())
    first = hip.call(
        "POST", TOKEN, headers={"X-HIP-ID": hip.hip_id, "REQUEST-ID": request_id}, json=_token_body(patient)
    )
    again = hip.call(
        "POST", TOKEN, headers={"X-HIP-ID": hip.hip_id, "REQUEST-ID": request_id}, json=_token_body(patient)
    )
    assert first.status_code == 202
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "ABDM-1092"
    no_cm = hip.call("POST", TOKEN, headers={"X-HIP-ID": hip.hip_id, "X-CM-ID": "abdm"}, json=_token_body(patient))
    assert no_cm.status_code == 400
    assert no_cm.json()["error"]["code"] == "ABDM-2403"


def test_link_refusals(sandbox, hip, patient):
    token = _link_token(hip, patient)
    other = _account(sandbox, name="Ravi Shah", gender="M", dob="1985-01-01", mobile="9876500012")
    other_token = _link_token(hip, other)

    status, body = _link(hip, patient, "not-a-token", [_entry("PAT-9", ["V-1"])])
    assert body["error"]["code"] == "ABDM-1026"
    status, body = _link(hip, patient, other_token, [_entry("PAT-9", ["V-1"])])
    assert body["error"]["code"] == "ABDM-1038"
    status, body = _link(hip, patient, token, [_entry("PAT-9", ["V-1"])], abhaNumber=other["abhaNumber"])
    assert body["error"]["code"] == "ABDM-1062"
    status, body = _link(hip, patient, token, [{**_entry("PAT-9", ["V-1", "V-2"]), "count": 3}])
    assert body["error"]["code"] == "ABDM-1037"
    # More than 20 in an entry: refused at once, ABDM's message.
    status, body = _link(hip, patient, token, [_entry("PAT-9", [f"V-{n}" for n in range(21)])])
    assert status == 400
    assert body["error"] == {
        "code": "ABDM-1006",
        "message": "Invalid count, must be 2 digit and ranges between 1 to 20",
    }
    status, body = _link(hip, patient, token, [{**_entry("PAT-9", ["V-1"]), "hiType": ["XRay"]}])
    assert status == 400
    # A care context of this HIP linked to another ABHA cannot be taken by this one.
    status, body = _link(hip, other, other_token, [_entry("PAT-OTHER", ["V-X"])])
    assert body["status"] == "Successfully Linked care context"
    status, body = _link(hip, patient, token, [_entry("PAT-OTHER", ["V-X", "V-NEW"])])
    assert body["error"]["code"] == "ABDM-1057"
    mine = sandbox.get(f"linking/care-contexts?abhaAddress={patient['abhaAddress']}").json()["careContexts"]
    assert [c["referenceNumber"] for c in mine if c["patientReference"] == "PAT-OTHER"] == []
    # Missing link token header
    answer = hip.call("POST", LINK, headers={"X-HIP-ID": hip.hip_id},
                      json={"abhaAddress": patient["abhaAddress"], "patient": [_entry("P", ["V"])]})  # fmt: skip
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "ABDM-1026"
    # The raw drop's spelling (hiTypes as a string, abhaNumber as a number) is taken too.
    entry = _entry("PAT-9", ["V-RAW"])
    entry["hiTypes"] = entry.pop("hiType")[0]
    status, body = _link(hip, patient, token, [entry], abhaNumber=int(patient["abhaNumber"]))
    assert body["status"] == "Successfully Linked care context"


def test_context_notify(sandbox, hip, patient):
    token = _link_token(hip, patient)
    _link(hip, patient, token, [_entry("PAT-N", ["V-N1"])])

    def notify(reference, hip_id=None):
        request_id = str(uuid.uuid4())
        body = {"notification": {
            "patient": {"id": patient["abhaAddress"]},
            "careContext": {"patientReference": "PAT-N", "careContextReference": reference},
            "hiTypes": ["Prescription"], "date": "2026-01-10T12:00:00.000Z",
            "hip": {"id": hip_id or hip.hip_id, "name": "Linking Test Hospital", "type": "HIP"}}}  # fmt: skip
        answer = hip.call("POST", NOTIFY, headers={"X-HIP-ID": hip.hip_id, "REQUEST-ID": request_id}, json=body)
        if answer.status_code != 202:
            return answer
        return _answer_to(hip, "/api/v3/links/context/on-notify", request_id)["body"]

    assert notify("V-N1")["acknowledgement"] == {"status": "SUCCESS"}
    linked = sandbox.get(f"linking/care-contexts?abhaAddress={patient['abhaAddress']}").json()["careContexts"]
    assert linked[0]["hiTypes"] == ["OPConsultation", "Prescription"]
    unknown = notify("V-NOPE")
    assert unknown["acknowledgement"] == {"status": "ERRORED"}
    assert unknown["error"]["code"] == "ABDM-1057"
    assert notify("V-N1", hip_id="IN2400000001").json()["error"]["code"] == "ABDM-1035"


# --- user-initiated linking --------------------------------------------------------------------------------


def _answer_leg(hip, path: str, body: dict):
    return hip.call("POST", path, json=body)


def test_user_initiated_discover_init_confirm(sandbox, hip, patient):
    mr = [{"type": "MR", "value": "MR-77"}]
    started = sandbox.post(
        "app/discover", json={"abhaAddress": patient["abhaAddress"], "hipId": hip.hip_id, "unverifiedIdentifiers": mr}
    )
    assert started.status_code == 202, started.text
    transaction_id = started.json()["transactionId"]
    [discover] = hip.server.wait("/api/v3/hip/patient/care-context/discover")
    assert discover["headers"]["X-HIP-ID"] == hip.hip_id
    assert discover["body"]["transactionId"] == transaction_id
    person = discover["body"]["patient"]
    assert person["id"] == patient["abhaAddress"]
    assert {"type": "ABHA_NUMBER", "value": "-".join([patient["abhaNumber"][:2], patient["abhaNumber"][2:6],
            patient["abhaNumber"][6:10], patient["abhaNumber"][10:]])} in person["verifiedIdentifiers"]  # fmt: skip
    assert person["unverifiedIdentifiers"] == [{"type": "MR", "value": "MR-77"}]
    assert (person["name"], person["gender"], person["yearOfBirth"]) == ("Meera Jayesh Patel", "F", 1990)
    discover_id = discover["headers"]["REQUEST-ID"]

    entry = _entry("PAT-U", ["OLD-1", "OLD-2"], ("DiagnosticReport",))
    on_discover = {"transactionId": transaction_id, "patient": [entry], "response": {"requestId": discover_id}}
    bad = _answer_leg(hip, ON_DISCOVER, {**on_discover, "response": {"requestId": str(uuid.uuid4())}})
    assert bad.json()["error"]["code"] == "ABDM-1052"
    assert _answer_leg(hip, ON_DISCOVER, on_discover).status_code == 202
    again = _answer_leg(hip, ON_DISCOVER, on_discover)
    assert again.json()["error"]["code"] == "ABDM-1106"
    flow = sandbox.get(f"app/links/{transaction_id}").json()
    assert flow["status"] == "DISCOVERED"
    assert flow["discovered"] == [entry]

    pick = [{"referenceNumber": "PAT-U", "careContexts": [{"referenceNumber": "OLD-2"}]}]
    init = sandbox.post("app/link/init", json={"transactionId": transaction_id, "patient": pick})
    assert init.status_code == 202, init.text
    [link_init] = hip.server.wait("/api/v3/hip/link/care-context/init")
    assert link_init["body"]["abhaAddress"] == patient["abhaAddress"]
    assert link_init["body"]["patient"][0]["careContexts"] == [
        {"referenceNumber": "OLD-2", "display": "OPD visit OLD-2"}
    ]
    assert link_init["body"]["patient"][0]["hiType"] == "DiagnosticReport"
    link_ref = str(uuid.uuid4())
    on_init = {"transactionId": transaction_id,
               "link": {"referenceNumber": link_ref, "authenticationType": "DIRECT",
                        "meta": {"communicationMedium": "MOBILE", "communicationHint": "******0011",
                                 "communicationExpiry": "2026-01-10T12:10:00.000Z"}},
               "response": {"requestId": link_init["headers"]["REQUEST-ID"]}}  # fmt: skip
    assert _answer_leg(hip, ON_INIT, {**on_init, "link": {**on_init["link"], "authenticationType": "OTP"}}).json()[
        "error"]["code"] == "ABDM-1110"  # fmt: skip
    assert _answer_leg(hip, ON_INIT, on_init).status_code == 202
    assert sandbox.get(f"app/links/{transaction_id}").json()["linkRefNumber"] == link_ref

    # A wrong OTP: the HIP answers with an error, the app may try again.
    assert sandbox.post("app/link/confirm", json={"transactionId": transaction_id, "otp": "111111"}).status_code == 202
    [first] = hip.server.wait("/api/v3/hip/link/care-context/confirm")
    assert first["body"] == {"confirmation": {"token": 111111, "linkRefNumber": link_ref}}
    refused = {"patient": [], "error": {"code": "ABDM-1006", "message": "Invalid OTP"},
               "response": {"requestId": first["headers"]["REQUEST-ID"]}}  # fmt: skip
    assert _answer_leg(hip, ON_CONFIRM, refused).status_code == 202
    flow = sandbox.get(f"app/links/{transaction_id}").json()
    assert (flow["status"], flow["error"]["message"]) == ("AWAITING_OTP", "Invalid OTP")

    assert sandbox.post("app/link/confirm", json={"transactionId": transaction_id, "otp": "424242"}).status_code == 202
    second = hip.server.wait("/api/v3/hip/link/care-context/confirm", count=2)[1]
    linked = {**_entry("PAT-U", ["OLD-2"], ("DiagnosticReport",)),
              "response": None}  # fmt: skip
    linked.pop("response")
    on_confirm = {"patient": [linked], "response": {"requestId": second["headers"]["REQUEST-ID"]}}
    assert _answer_leg(hip, ON_CONFIRM, on_confirm).status_code == 202
    assert _answer_leg(hip, ON_CONFIRM, on_confirm).json()["error"]["code"] == "ABDM-1108"
    flow = sandbox.get(f"app/links/{transaction_id}").json()
    assert flow["status"] == "LINKED"
    contexts = sandbox.get(f"linking/care-contexts?abhaAddress={patient['abhaAddress']}&hipId={hip.hip_id}").json()
    assert [(c["referenceNumber"], c["source"]) for c in contexts["careContexts"]] == [("OLD-2", "USER")]
    assert _stats(sandbox, hip.hip_id)["byUser"] >= 1


def test_discovery_with_nothing_found_and_an_unreachable_hip(sandbox, hip, patient):
    transaction_id = sandbox.post("app/discover", json={"abhaAddress": patient["abhaAddress"],
                                                        "hipId": hip.hip_id}).json()["transactionId"]  # fmt: skip
    [discover] = hip.server.wait("/api/v3/hip/patient/care-context/discover")
    empty = {
        "transactionId": transaction_id,
        "patient": [],
        "response": {"requestId": discover["headers"]["REQUEST-ID"]},
    }
    assert _answer_leg(hip, ON_DISCOVER, empty).status_code == 202
    flow = sandbox.get(f"app/links/{transaction_id}").json()
    assert (flow["status"], flow["error"]["code"]) == ("FAILED", "ABDM-1001")
    assert sandbox.post("app/link/init", json={"transactionId": transaction_id}).json()["error"]["code"] == "ABDM-2406"

    # A bridge answering 5xx is called again after 1, 3 and 9 s with the same REQUEST-ID, then the flow fails.
    hip.server.server.answer_status = 500
    transaction_id = sandbox.post("app/discover", json={"abhaAddress": patient["abhaAddress"],
                                                        "hipId": hip.hip_id}).json()["transactionId"]  # fmt: skip
    assert sandbox.get(f"app/links/{transaction_id}?wait=10").json()["status"] == "DISCOVERING"
    flow = sandbox.get(f"app/links/{transaction_id}?wait=10").json()
    assert (flow["status"], flow["error"]["code"]) == ("FAILED", "ABDM-1401")
    tries = [item for item in hip.server.received("/api/v3/hip/patient/care-context/discover")
             if item["body"]["transactionId"] == transaction_id]  # fmt: skip
    assert len(tries) == 4
    assert len({item["headers"]["REQUEST-ID"] for item in tries}) == 1

    unknown = sandbox.post("app/discover", json={"abhaAddress": "nobody.here@sbx", "hipId": hip.hip_id})
    assert unknown.json()["error"]["code"] == "ABDM-1051"
    no_hip = sandbox.post("app/discover", json={"abhaAddress": patient["abhaAddress"], "hipId": "IN2400000002"})
    assert no_hip.json()["error"]["code"] == "ABDM-1035"


# --- Scan & Share ------------------------------------------------------------------------------------------


def test_patient_share_and_the_hips_token(sandbox, hip, patient):
    started = sandbox.post("app/share", json={"abhaAddress": patient["abhaAddress"], "hipId": hip.hip_id,
                                              "counterId": "OPD1", "latitude": 23.02, "longitude": 72.57})  # fmt: skip
    assert started.status_code == 202, started.text
    request_id = started.json()["requestId"]
    [share] = hip.server.wait("/api/v3/hip/patient/share")
    assert share["headers"]["REQUEST-ID"] == request_id
    assert share["headers"]["X-HIP-ID"] == hip.hip_id
    body = share["body"]
    assert body["intent"] == "PROFILE_SHARE"
    assert body["metaData"]["hipId"] == hip.hip_id
    assert body["metaData"]["context"] == "OPD1"
    person = body["profile"]["patient"]
    assert (person["abhaAddress"], person["name"], person["gender"], person["yearOfBirth"]) == (
        patient["abhaAddress"], "Meera Jayesh Patel", "F", "1990")  # fmt: skip
    assert person["phoneNumber"] == "9876500011"
    assert sandbox.get(f"app/share/{request_id}").json()["status"] == "SENT"

    answer = {"acknowledgement": {"status": "SUCCESS", "abhaAddress": patient["abhaAddress"],
                                  "profile": {"context": "OPD1", "tokenNumber": "7", "expiry": "1800"}},
              "response": {"requestId": request_id}}  # fmt: skip
    assert hip.call("POST", ON_SHARE, json=answer).status_code == 202
    assert hip.call("POST", ON_SHARE, json=answer).json()["error"]["code"] == "ABDM-1087"
    result = sandbox.get(f"app/share/{request_id}?wait=5").json()
    assert (result["status"], result["tokenNumber"], result["expiry"], result["error"]) == (
        "ANSWERED",
        "7",
        "1800",
        None,
    )
    unknown = hip.call("POST", ON_SHARE, json={**answer, "response": {"requestId": str(uuid.uuid4())}})
    assert unknown.json()["error"]["code"] == "ABDM-1052"


def test_share_refused_for_an_unknown_or_inactive_hip(sandbox, hip, patient):
    unknown = sandbox.post("app/share", json={"abhaAddress": patient["abhaAddress"], "hipId": "IN2400000003",
                                              "counterId": "OPD1"})  # fmt: skip
    assert unknown.status_code == 400
    assert unknown.json()["error"]["code"] == "ABDM-1035"
    off = hip.call("POST", HRP, standard=False, json={"facilityId": hip.hip_id, "facilityName": "Linking Test Hospital",
                   "HRP": [{"bridgeId": "test-bridge", "hipName": f"Linking {hip.hip_id}", "type": "HIP",
                            "active": False}]})  # fmt: skip
    assert off.status_code == 200, off.text
    inactive = sandbox.post("app/share", json={"abhaAddress": patient["abhaAddress"], "hipId": hip.hip_id,
                                               "counterId": "OPD1"})  # fmt: skip
    assert inactive.json()["error"]["code"] == "ABDM-1035"
    assert hip.server.received("/api/v3/hip/patient/share") == []


def test_share_refused_for_a_bad_counter(sandbox, hip, patient):
    bad = sandbox.post("app/share", json={"abhaAddress": patient["abhaAddress"], "hipId": hip.hip_id,
                                          "counterId": "-bad!"})  # fmt: skip
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "ABDM-1006"


# --- scale -------------------------------------------------------------------------------------------------


def test_two_thousand_care_contexts_in_batches_of_twenty_quickly(sandbox, hip, patient):
    from concurrent.futures import ThreadPoolExecutor

    token = _link_token(hip, patient)

    def one(batch: int):
        request_id = str(uuid.uuid4())
        payload = {"abhaAddress": patient["abhaAddress"], "abhaNumber": patient["abhaNumber"],
                   "patient": [_entry("PAT-BULK", [f"B{batch}-{n}" for n in range(20)])]}  # fmt: skip
        answer = hip.call("POST", LINK, headers={"X-HIP-ID": hip.hip_id, "X-LINK-TOKEN": token,
                                                 "REQUEST-ID": request_id}, json=payload)  # fmt: skip
        assert answer.status_code == 202, answer.text

    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(CALLS)))
    took = time.monotonic() - started
    hip.server.wait("/api/v3/link/on_carecontext", count=CALLS, timeout=120)
    print(f"{CALLS} link calls of 20: {took:.2f} s")
    assert _stats(sandbox, hip.hip_id)["careContexts"] == CALLS * 20
    assert took < CALLS / 5, f"{CALLS} link calls took {took:.1f} s"


@pytest.fixture
def short_token_sandbox():
    """A sandbox of its own whose link tokens live 2 seconds."""
    database_url = _database_url(f"abdm_sandbox_linking_{uuid.uuid4().hex[:8]}")
    with tempfile.TemporaryDirectory(prefix="abdm-sandbox-linking-") as workdir:
        process = SandboxProcess(
            database_url=database_url,
            workdir=Path(workdir),
            env={
                "ABDM_SANDBOX_CLIENTS": ",".join(f"{key}:{value}" for key, value in CLIENTS.items()),
                "ABDM_SANDBOX_LINK_TOKEN_SECONDS": "2",
            },
        )
        process.start()
        try:
            yield process
        finally:
            process.stop()
            _drop_database(database_url)


def test_an_expired_link_token_is_refused(short_token_sandbox):
    sandbox = short_token_sandbox
    gateway = _hip_on(sandbox)
    try:
        patient = _account(sandbox)
        token = _link_token(gateway, patient)
        status, body = _link(gateway, patient, token, [_entry("PAT-E", ["V-E1"])])
        assert body["status"] == "Successfully Linked care context"
        time.sleep(2.5)
        status, body = _link(gateway, patient, token, [_entry("PAT-E", ["V-E2"])])
        assert body["error"] == {"code": "ABDM-1026", "message": "Invalid Link Token"}
        # A new token links it.
        status, body = _link(gateway, patient, _link_token(gateway, patient), [_entry("PAT-E", ["V-E2"])])
        assert body["status"] == "Successfully Linked care context"
    finally:
        gateway.server.close()
