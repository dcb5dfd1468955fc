"""The portal's facilities as HIPs: consent notify and health-information requests arrive as gateway callbacks signed
by the ABDM sandbox (real HTTP to a live portal), are checked against the artefact and answered through the outbox
with the bodies hiecm-m2.yaml publishes; the data push goes to an HIU over HTTP (here a small HIU of the test's own,
which decrypts with its own key material), then the transfer notification."""

import base64
import datetime as dt
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from abdm import client, dataflow, fidelius
from abdm.enums import OutboxStatus
from abdm.models import OutboxMessage
from abha.tests.factories import AbhaAccountFactory
from conftest import start_celery_worker, stop_celery_worker
from core.enums import Role
from core.models import AuditEvent
from facilities.tests.factories import FacilityFactory, MembershipFactory
from records import fhir, hip_transfer, selectors
from records.enums import HipArtefactStatus, HipTransferItemStatus, HipTransferStatus, HiType
from records.models import HipConsentArtefact, HipTransfer, HipTransferItem

from .factories import add_record

pytestmark = pytest.mark.django_db(transaction=True)


# --- Fixtures --------------------------------------------------------------------------------------------------


@pytest.fixture
def bridge(abdm_sandbox, live_server, settings):
    """The sandbox's gateway calls this test's live portal back; the portal calls the sandbox."""
    settings.ABDM_GATEWAY_URL = abdm_sandbox.url
    settings.ABDM_ABHA_URL = abdm_sandbox.url + "/abha/api"
    settings.ABDM_HFR_URL = abdm_sandbox.url + "/v4/int"
    client.forget_session_token()
    client.gateway_request("PATCH", "/api/hiecm/gateway/v3/bridge/url", json={"url": live_server.url})
    return abdm_sandbox


@pytest.fixture
def hip(db):
    """A verified facility (the HIP) with two visits of one patient (a prescription in February 2025, a lab report
    in March), another patient's visit there, and the patient's visit at another facility."""
    facility = FacilityFactory(name="Sir T General Hospital")
    other_facility = FacilityFactory(name="Sihor CHC")
    staff = MembershipFactory(facility=facility, user__role=Role.FACILITY_STAFF).user
    other_staff = MembershipFactory(facility=other_facility, user__role=Role.FACILITY_STAFF).user
    patient = AbhaAccountFactory(first_name="Asha")
    other_patient = AbhaAccountFactory(first_name="Bina")
    rx = add_record(staff=staff, facility=facility, patient=patient, hi_type=HiType.PRESCRIPTION,
                    date=dt.date(2025, 2, 10), key="rx")  # fmt: skip
    lab = add_record(staff=staff, facility=facility, patient=patient, hi_type=HiType.DIAGNOSTIC_REPORT,
                     date=dt.date(2025, 3, 5), key="lab")  # fmt: skip
    others = add_record(staff=staff, facility=facility, patient=other_patient, hi_type=HiType.PRESCRIPTION,
                        date=dt.date(2025, 2, 11), key="other")  # fmt: skip
    elsewhere = add_record(staff=other_staff, facility=other_facility, patient=patient, hi_type=HiType.PRESCRIPTION,
                           date=dt.date(2025, 2, 12), key="elsewhere")  # fmt: skip
    return type("Hip", (), {
        "facility": facility, "other_facility": other_facility, "patient": patient, "address":
        patient.addresses.first().full, "rx": rx, "lab": lab, "others": others, "elsewhere": elsewhere,
    })  # fmt: skip


class Hiu:
    """An HIU's data push URL: records each page, decrypts with its own key material, answers `statuses` in turn
    (then 202)."""

    def __init__(self):
        self.material = fidelius.generate_key_material()
        self.pages: list[dict] = []
        self.headers: list[dict] = []
        self.statuses: list[int] = []
        hiu = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                hiu.pages.append(body)
                hiu.headers.append(dict(self.headers))
                status = hiu.statuses.pop(0) if hiu.statuses else 202
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}" if status < 400 else b'{"error": {"code": "ABDM-1024", "message": "down"}}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/api-hiu/data/notification"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def key_material(self, **changes) -> dict:
        material = {
            "cryptoAlg": "ECDH",
            "curve": "curve25519",
            "dhPublicKey": {
                "expiry": (timezone.now() + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "parameters": "Curve25519/32byte random key",
                "keyValue": self.material.public_key,
            },
            "nonce": self.material.nonce,
        }
        material.update(changes)
        return material

    def decrypt(self, page: dict) -> dict[str, dict]:
        """{careContextReference: bundle} of a page, each entry checked against its checksum."""
        key = page["keyMaterial"]
        bundles = {}
        for entry in page["entries"]:
            content = fidelius.decrypt(
                entry["content"],
                requester_private_key=self.material.private_key,
                requester_nonce=self.material.nonce,
                sender_public_key=key["dhPublicKey"]["keyValue"],
                sender_nonce=key["nonce"],
            )
            assert entry["checksum"] == dataflow.checksum(content)
            assert entry["media"] == "application/fhir+json"
            bundles[entry["careContextReference"]] = json.loads(content)
        return bundles

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hiu():
    receiver = Hiu()
    yield receiver
    receiver.stop()


# --- Helpers ---------------------------------------------------------------------------------------------------


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def grant_body(hip, consent_id, *, care_contexts=None, hi_types=None, erase_in=dt.timedelta(days=30), hip_id=None):
    """The consent notify as NHA's drop publishes it (consent-management-data-flow.yaml, consent-management 1)."""
    care_contexts = care_contexts if care_contexts is not None else [hip.rx.care_context, hip.lab.care_context]
    return {
        "notification": {
            "status": "GRANTED",
            "consentId": consent_id,
            "consentDetail": {
                "schemaVersion": "v3",
                "consentId": consent_id,
                "createdAt": _iso(timezone.now()),
                "patient": {"id": hip.address},
                "careContexts": [
                    {"patientReference": hip.patient.abha_number, "careContextReference": cc.reference}
                    for cc in care_contexts
                ],
                "purpose": {"text": "Care Management", "code": "CAREMGT", "refUri": "www.abdm.gov.in"},
                "hip": {"id": hip_id or hip.facility.facility_id, "name": hip.facility.name, "type": "HIP"},
                "hiu": {"id": "IN2410000999", "name": "Civil Hospital Ahmedabad", "type": "HIU"},
                "consentManager": {"id": "sbx"},
                "requester": {
                    "name": "Dr. Anjali Mehta",
                    "identifier": {"value": "71-1227-4427-0212", "type": "REGNO", "system": "https://hpr.abdm.gov.in"},
                },
                "hiTypes": hi_types or ["Prescription", "DiagnosticReport"],
                "permission": {
                    "accessMode": "VIEW",
                    "dateRange": {"from": "2025-01-01T00:00:00.000Z", "to": "2025-03-31T00:00:00.000Z"},
                    "dataEraseAt": _iso(timezone.now() + erase_in),
                    "frequency": {"unit": "HOUR", "value": 1, "repeats": 0},
                },
            },
            "signature": base64.b64encode(b"signed by the consent manager").decode(),
            "grantAcknowledgement": False,
        }
    }


def hi_request_body(consent_id, hiu, *, key_material=None, date_from="2025-01-01T00:00:00.000Z",
                    date_to="2025-03-31T00:00:00.000Z", push_url=None) -> dict:  # fmt: skip
    """The health-information request as NHA's drop publishes it (consent-management 3)."""
    return {
        "transactionId": str(uuid.uuid4()),
        "hiRequest": {
            "consent": {"id": consent_id},
            "dateRange": {"from": date_from, "to": date_to},
            "dataPushUrl": push_url or hiu.url,
            "keyMaterial": key_material or hiu.key_material(),
        },
    }


def send(bridge, path, body, *, hip_id, request_id=None):
    """The sandbox's gateway sends the callback now; (the portal's status, its answer, the REQUEST-ID)."""
    request_id = request_id or str(uuid.uuid4())
    response = bridge.post(
        "callbacks",
        {"bridgeId": settings.ABDM_CLIENT_ID, "path": path, "body": body, "requestId": request_id,
         "headers": {"X-HIP-ID": hip_id}},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    return response.json()["status"], response.json()["body"], request_id


def grant(bridge, hip, **kwargs) -> HipConsentArtefact:
    consent_id = str(uuid.uuid4())
    status, _, _ = send(bridge, dataflow.CONSENT_NOTIFY_WEBHOOK, grant_body(hip, consent_id, **kwargs),
                        hip_id=hip.facility.facility_id)  # fmt: skip
    assert status == 202
    return HipConsentArtefact.objects.get(consent_id=consent_id)


def request(bridge, hip, body, *, hip_id=None):
    status, answer, request_id = send(
        bridge, dataflow.HEALTH_INFORMATION_REQUEST_WEBHOOK, body, hip_id=hip_id or hip.facility.facility_id
    )
    assert (status, answer) == (202, "")
    return HipTransfer.objects.get(transaction_id=body["transactionId"]), request_id


def outbox_body(kind, subject_id=None) -> dict:
    messages = OutboxMessage.objects.filter(kind=kind)
    if subject_id is not None:
        messages = messages.filter(subject_id=str(subject_id))
    [message] = messages
    return message.body


# --- Consent notify ---------------------------------------------------------------------------------------------


def test_a_granted_artefact_is_stored_with_every_field_and_acknowledged(bridge, hip):
    consent_id = str(uuid.uuid4())
    body = grant_body(hip, consent_id)
    status, answer, request_id = send(bridge, dataflow.CONSENT_NOTIFY_WEBHOOK, body, hip_id=hip.facility.facility_id)
    assert (status, answer) == (202, "")
    artefact = HipConsentArtefact.objects.get(consent_id=consent_id)
    detail = body["notification"]["consentDetail"]
    assert artefact.status == HipArtefactStatus.GRANTED
    assert (artefact.facility, artefact.patient, artefact.patient_address) == (hip.facility, hip.patient, hip.address)
    assert (artefact.hiu_id, artefact.hiu_name, artefact.hiu_type) == (
        "IN2410000999",
        "Civil Hospital Ahmedabad",
        "HIU",
    )
    assert artefact.requester_name == "Dr. Anjali Mehta"
    assert artefact.requester_identifier == detail["requester"]["identifier"]
    assert (artefact.purpose_code, artefact.purpose_text, artefact.purpose_ref_uri) == (
        "CAREMGT", "Care Management", "www.abdm.gov.in")  # fmt: skip
    assert artefact.hi_types == ["Prescription", "DiagnosticReport"]
    assert artefact.care_contexts == detail["careContexts"]
    assert (artefact.access_mode, artefact.frequency) == ("VIEW", {"unit": "HOUR", "value": 1, "repeats": 0})
    assert artefact.date_from == dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    assert artefact.date_to == dt.datetime(2025, 3, 31, tzinfo=dt.UTC)
    assert artefact.data_erase_at > timezone.now() + dt.timedelta(days=29)
    assert (artefact.consent_manager_id, artefact.schema_version) == ("sbx", "v3")
    assert artefact.signature == body["notification"]["signature"] and artefact.grant_acknowledgement is False
    # m2_consent_hip_on_notify, ConsentHipOnNotifyRequest: the REQUEST-ID of the notify echoed.
    assert outbox_body(dataflow.ON_NOTIFY_KIND) == {
        "acknowledgement": {"status": "OK", "consentId": consent_id},
        "response": {"requestId": request_id},
    }
    message = OutboxMessage.objects.get(kind=dataflow.ON_NOTIFY_KIND)
    assert (message.method, message.path) == ("POST", "/api/hiecm/consent/v3/request/hip/on-notify")
    [event] = AuditEvent.objects.filter(action=hip_transfer.NOTIFY_ACTION)
    assert event.details["status"] == "GRANTED" and event.details["hiu"] == "IN2410000999"


def test_revoke_and_expiry_notifications_change_the_status_once(bridge, hip):
    revoked, expired = grant(bridge, hip), grant(bridge, hip)
    for artefact, status in ((revoked, "REVOKED"), (expired, "EXPIRED"), (revoked, "EXPIRED")):
        body = {"notification": {"status": status, "consentId": str(artefact.consent_id)}}
        assert send(bridge, dataflow.CONSENT_NOTIFY_WEBHOOK, body, hip_id=hip.facility.facility_id)[0] == 202
    revoked.refresh_from_db()
    expired.refresh_from_db()
    assert (revoked.status, expired.status) == ("REVOKED", "EXPIRED")  # a revoked artefact stays revoked
    assert revoked.hi_types == ["Prescription", "DiagnosticReport"]  # what was granted is kept


def test_a_revoke_of_an_artefact_never_granted_here_is_acknowledged_with_abdms_error(bridge, hip):
    consent_id = str(uuid.uuid4())
    body = {"notification": {"status": "REVOKED", "consentId": consent_id}}
    _, _, request_id = send(bridge, dataflow.CONSENT_NOTIFY_WEBHOOK, body, hip_id=hip.facility.facility_id)
    assert not HipConsentArtefact.objects.exists()
    assert outbox_body(dataflow.ON_NOTIFY_KIND) == {
        "acknowledgement": {"status": "ERROR", "consentId": consent_id},
        "error": {"code": "ABDM-1112", "message": "Invalid or already expired consent artefact id"},
        "response": {"requestId": request_id},
    }


def test_an_artefact_for_a_hip_the_portal_does_not_serve_is_acknowledged_with_an_error(bridge, hip):
    artefact = grant(bridge, hip, hip_id="IN9999999999")
    assert artefact.facility is None
    body = outbox_body(dataflow.ON_NOTIFY_KIND)
    assert body["acknowledgement"]["status"] == "ERROR" and body["error"]["code"] == "ABDM-1035"


def test_a_notification_without_a_consent_id_is_refused_and_nothing_is_stored(bridge, hip):
    status, answer, _ = send(bridge, dataflow.CONSENT_NOTIFY_WEBHOOK, {"notification": {"status": "GRANTED"}},
                             hip_id=hip.facility.facility_id)  # fmt: skip
    assert status == 400 and answer["error"]["code"] == "ABDM-1006"
    assert not HipConsentArtefact.objects.exists()
    assert not OutboxMessage.objects.filter(kind=dataflow.ON_NOTIFY_KIND).exists()


# --- Health-information request: refusals -------------------------------------------------------------------------


def _refusal_case(case, bridge, hip, hiu):
    """(request body, X-HIP-ID) for each refusal; the artefact granted as needed."""
    if case == "unknown artefact":
        return hi_request_body(str(uuid.uuid4()), hiu), None
    if case == "care contexts outside":
        artefact = grant(bridge, hip, care_contexts=[hip.rx.care_context, hip.others.care_context])
        return hi_request_body(str(artefact.consent_id), hiu), None
    if case == "care context of another facility":
        artefact = grant(bridge, hip, care_contexts=[hip.rx.care_context, hip.elsewhere.care_context])
        return hi_request_body(str(artefact.consent_id), hiu), None
    artefact = grant(bridge, hip)
    consent_id = str(artefact.consent_id)
    if case in ("revoked", "expired notified"):
        status = "REVOKED" if case == "revoked" else "EXPIRED"
        send(bridge, dataflow.CONSENT_NOTIFY_WEBHOOK, {"notification": {"status": status, "consentId": consent_id}},
             hip_id=hip.facility.facility_id)  # fmt: skip
    if case == "past dataEraseAt":
        HipConsentArtefact.objects.filter(pk=artefact.pk).update(data_erase_at=timezone.now() - dt.timedelta(1))
    if case == "another hip":
        return hi_request_body(consent_id, hiu), hip.other_facility.facility_id
    if case == "dates outside":
        return hi_request_body(consent_id, hiu, date_from="2024-01-01T00:00:00.000Z"), None
    if case == "raw x25519 key":
        key = hiu.key_material()
        key["dhPublicKey"]["keyValue"] = base64.b64encode(bytes(range(32))).decode()
        return hi_request_body(consent_id, hiu, key_material=key), None
    if case == "key off the curve":
        key = hiu.key_material()
        raw = bytearray(base64.b64decode(key["dhPublicKey"]["keyValue"]))
        raw[-1] ^= 1
        key["dhPublicKey"]["keyValue"] = base64.b64encode(bytes(raw)).decode()
        return hi_request_body(consent_id, hiu, key_material=key), None
    if case == "short nonce":
        return hi_request_body(consent_id, hiu, key_material=hiu.key_material(nonce="AAAA")), None
    if case == "expired key":
        key = hiu.key_material()
        key["dhPublicKey"]["expiry"] = "2024-01-01T00:00:00.000Z"
        return hi_request_body(consent_id, hiu, key_material=key), None
    if case == "no push url":
        return hi_request_body(consent_id, hiu, push_url="ftp://hiu.example/push"), None
    return hi_request_body(consent_id, hiu), None


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("unknown artefact", "ABDM-1112"),
        ("revoked", "ABDM-1062"),
        ("expired notified", "ABDM-1061"),
        ("past dataEraseAt", "ABDM-1061"),
        ("another hip", "ABDM-1035"),
        ("dates outside", "ABDM-1063"),
        ("care contexts outside", "ABDM-1057"),
        ("care context of another facility", "ABDM-1057"),
        ("raw x25519 key", "ABDM-1006"),
        ("key off the curve", "ABDM-1006"),
        ("short nonce", "ABDM-1006"),
        ("expired key", "ABDM-1006"),
        ("no push url", "ABDM-1006"),
    ],
)
def test_a_request_the_artefact_does_not_allow_is_refused_with_abdms_error_and_nothing_is_sent(
    bridge, hip, hiu, case, code
):
    body, hip_id = _refusal_case(case, bridge, hip, hiu)
    transfer, request_id = request(bridge, hip, body, hip_id=hip_id)
    assert transfer.status == HipTransferStatus.REFUSED and transfer.error_code == code
    assert not transfer.items.exists()
    # m2_hip_health_information_on_request, ERRORED with ABDM's error (the drop's failure variant).
    on_request = outbox_body(dataflow.ON_REQUEST_KIND)
    assert on_request["hiRequest"] == {"transactionId": body["transactionId"], "sessionStatus": "ERRORED"}
    assert on_request["response"] == {"requestId": request_id}
    assert on_request["error"]["code"] == code and on_request["error"]["message"]
    [event] = AuditEvent.objects.filter(action=hip_transfer.REFUSED_ACTION)
    assert event.details["code"] == code and event.details["transaction_id"] == body["transactionId"]
    assert hip_transfer.transfer_push(transfer_id=transfer.pk) is None  # a refused request is never pushed
    assert hiu.pages == []
    assert not AuditEvent.objects.filter(action=selectors.READ_ACTION).exists()


def test_a_repeated_transaction_changes_nothing(bridge, hip, hiu):
    artefact = grant(bridge, hip)
    body = hi_request_body(str(artefact.consent_id), hiu)
    request(bridge, hip, body)
    request(bridge, hip, body)  # ABDM sends it again under a new REQUEST-ID
    assert HipTransfer.objects.count() == 1
    assert OutboxMessage.objects.filter(kind=dataflow.ON_REQUEST_KIND).count() == 1


# --- Health-information request: acknowledged, pushed, notified ---------------------------------------------------


def _acknowledge(bridge, hip, hiu, **grant_kwargs):
    artefact = grant(bridge, hip, **grant_kwargs)
    body = hi_request_body(str(artefact.consent_id), hiu)
    transfer, request_id = request(bridge, hip, body)
    assert transfer.status == HipTransferStatus.ACKNOWLEDGED
    assert outbox_body(dataflow.ON_REQUEST_KIND) == {
        "hiRequest": {"transactionId": body["transactionId"], "sessionStatus": "ACKNOWLEDGED"},
        "response": {"requestId": request_id},
    }
    return artefact, transfer


def test_an_acknowledged_request_sends_each_care_context_encrypted_and_notifies_abdm(bridge, hip, hiu):
    artefact, transfer = _acknowledge(bridge, hip, hiu)
    assert hip_transfer.transfer_push(transfer_id=transfer.pk) == HipTransferStatus.TRANSFERRED
    [page] = hiu.pages
    assert (page["pageNumber"], page["pageCount"], page["transactionId"]) == (1, 1, transfer.transaction_id)
    assert page["keyMaterial"]["cryptoAlg"] == "ECDH" and page["keyMaterial"]["curve"] == "Curve25519"
    assert page["keyMaterial"]["dhPublicKey"]["parameters"] == "Curve25519/32byte random key"
    assert hiu.headers[0]["Authorization"].startswith("Bearer ")
    bundles = hiu.decrypt(page)
    assert set(bundles) == {hip.rx.care_context.reference, hip.lab.care_context.reference}
    fhir.validate_bundle(bundles[hip.rx.care_context.reference], HiType.PRESCRIPTION, patient=hip.patient)
    fhir.validate_bundle(bundles[hip.lab.care_context.reference], HiType.DIAGNOSTIC_REPORT, patient=hip.patient)
    items = {item.care_context_reference: item for item in transfer.items.all()}
    assert {item.status for item in items.values()} == {HipTransferItemStatus.TRANSFERRED}
    assert items[hip.rx.care_context.reference].records == [str(hip.rx.uuid)]
    # The citizen's access log: sent to the HIU under the consent, as a read of the records by consent.
    entries = [e for e in selectors.access_log_for(hip.patient) if e.details.get("abdm")]
    assert len(entries) == 2
    assert {e.details["artefact"] for e in entries} == {str(artefact.consent_id)}
    assert {e.details["hiu_name"] for e in entries} == {"Civil Hospital Ahmedabad"}
    assert {tuple(e.details["records"]) for e in entries} == {(str(hip.rx.uuid),), (str(hip.lab.uuid),)}
    browser = Client()
    browser.force_login(hip.patient.user)
    page = browser.get(reverse("records:access_log")).content.decode()
    assert f"Sent to Civil Hospital Ahmedabad under consent {artefact.consent_id}" in page
    # m2_hip_data_flow_notify, DataFlowNotifyRequest.
    notify = outbox_body(dataflow.TRANSFER_NOTIFY_KIND)["notification"]
    assert (notify["consentId"], notify["transactionId"]) == (str(artefact.consent_id), transfer.transaction_id)
    assert notify["notifier"] == {"type": "HIP", "id": hip.facility.facility_id}
    assert notify["doneAt"].endswith("Z")
    status = notify["statusNotification"]
    assert (status["sessionStatus"], status["hipId"]) == ("TRANSFERRED", hip.facility.facility_id)
    assert sorted((s["careContextReference"], s["hiStatus"]) for s in status["statusResponses"]) == sorted(
        [(hip.rx.care_context.reference, "OK"), (hip.lab.care_context.reference, "OK")]
    )
    assert hip_transfer.transfer_push(transfer_id=transfer.pk) is None  # finished: a repeat sends nothing
    assert len(hiu.pages) == 1


def test_only_the_consented_types_are_sent_and_a_care_context_without_them_is_errored(bridge, hip, hiu):
    _, transfer = _acknowledge(bridge, hip, hiu, hi_types=["Prescription"])
    assert hip_transfer.transfer_push(transfer_id=transfer.pk) == HipTransferStatus.PARTLY_TRANSFERRED
    assert set(hiu.decrypt(hiu.pages[0])) == {hip.rx.care_context.reference}
    statuses = outbox_body(dataflow.TRANSFER_NOTIFY_KIND)["notification"]["statusNotification"]["statusResponses"]
    lab = next(s for s in statuses if s["careContextReference"] == hip.lab.care_context.reference)
    assert lab["hiStatus"] == "ERRORED" and "No records" in lab["description"]


def test_a_consent_revoked_before_the_push_sends_nothing(bridge, hip, hiu):
    artefact, transfer = _acknowledge(bridge, hip, hiu)
    send(bridge, dataflow.CONSENT_NOTIFY_WEBHOOK,
         {"notification": {"status": "REVOKED", "consentId": str(artefact.consent_id)}},
         hip_id=hip.facility.facility_id)  # fmt: skip
    assert hip_transfer.transfer_push(transfer_id=transfer.pk) == HipTransferStatus.FAILED
    assert hiu.pages == []
    status = outbox_body(dataflow.TRANSFER_NOTIFY_KIND)["notification"]["statusNotification"]
    assert status["sessionStatus"] == "FAILED"
    assert {s["hiStatus"] for s in status["statusResponses"]} == {"ERRORED"}


def test_a_push_url_that_fails_is_tried_again_then_the_care_contexts_are_errored(bridge, hip, hiu):
    _, transfer = _acknowledge(bridge, hip, hiu)
    hiu.statuses = [503] * hip_transfer.PUSH_ATTEMPTS
    for _ in range(hip_transfer.PUSH_ATTEMPTS - 1):
        assert hip_transfer.transfer_push(transfer_id=transfer.pk) == HipTransferStatus.ACKNOWLEDGED
        HipTransfer.objects.filter(pk=transfer.pk).update(next_push_at=None)  # the backoff's wait, skipped
    assert hip_transfer.transfer_push(transfer_id=transfer.pk) == HipTransferStatus.FAILED
    assert len(hiu.pages) == hip_transfer.PUSH_ATTEMPTS
    assert set(HipTransferItem.objects.values_list("status", flat=True)) == {HipTransferItemStatus.ERRORED}
    status = outbox_body(dataflow.TRANSFER_NOTIFY_KIND)["notification"]["statusNotification"]
    assert status["sessionStatus"] == "FAILED"
    assert all("did not accept" in s["description"] for s in status["statusResponses"])
    assert not AuditEvent.objects.filter(action=selectors.READ_ACTION).exists()  # nothing counted as sent


def test_a_refusing_hiu_is_not_asked_again(bridge, hip, hiu):
    _, transfer = _acknowledge(bridge, hip, hiu)
    hiu.statuses = [400]
    assert hip_transfer.transfer_push(transfer_id=transfer.pk) == HipTransferStatus.FAILED
    assert len(hiu.pages) == 1


def test_a_real_worker_pushes_after_the_acknowledgement_and_retries_a_failing_push_url(bridge, hip, hiu, tmp_path):
    """The push runs in a Celery task of a real worker: two failed pushes, each retried with the outbox's backoff
    (capped at a second here), then the HIU takes the page and the notification is queued."""
    _, transfer = _acknowledge(bridge, hip, hiu)
    # ABDM took the on-request (its success queues the push, as below); the worker sends nothing else of it.
    OutboxMessage.objects.filter(kind=dataflow.ON_REQUEST_KIND).update(status=OutboxStatus.DONE)
    hiu.statuses = [503, 503]
    worker = start_celery_worker(tmp_path / "worker.log", extra_env={"ABDM_OUTBOX_MAX_DELAY": "1"})
    try:
        hip_transfer.push_health_information.delay(transfer.pk)  # what the on-request's success queues
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            transfer.refresh_from_db()
            if transfer.status != HipTransferStatus.ACKNOWLEDGED:
                break
            time.sleep(0.2)
    finally:
        stop_celery_worker(worker)
    assert transfer.status == HipTransferStatus.TRANSFERRED, transfer.last_push_error
    assert transfer.push_attempts == 3 and len(hiu.pages) == 3
    assert set(hiu.decrypt(hiu.pages[-1])) == {hip.rx.care_context.reference, hip.lab.care_context.reference}
    assert OutboxMessage.objects.filter(kind=dataflow.TRANSFER_NOTIFY_KIND).exists()


def test_a_key_that_expired_before_the_push_sends_nothing(bridge, hip, hiu):
    _, transfer = _acknowledge(bridge, hip, hiu)
    key = dict(transfer.key_material)
    key["dhPublicKey"] = {**key["dhPublicKey"], "expiry": "2025-01-01T00:00:00.000Z"}
    HipTransfer.objects.filter(pk=transfer.pk).update(key_material=key)
    assert hip_transfer.transfer_push(transfer_id=transfer.pk) == HipTransferStatus.FAILED
    assert hiu.pages == []


def test_the_sweep_finds_acknowledged_transfers_nobody_pushes(bridge, hip, hiu):
    _, transfer = _acknowledge(bridge, hip, hiu)
    assert hip_transfer.transfers_to_resume() == []  # ABDM has not taken the on-request yet
    acknowledged = OutboxMessage.objects.filter(kind=dataflow.ON_REQUEST_KIND)
    acknowledged.update(status=OutboxStatus.SENT, sent_at=timezone.now() - dt.timedelta(minutes=2))
    assert hip_transfer.transfers_to_resume() == [transfer.pk]
    HipTransfer.objects.filter(pk=transfer.pk).update(next_push_at=timezone.now() + dt.timedelta(minutes=1))
    assert hip_transfer.transfers_to_resume() == []  # a worker holds it, or its backoff runs
    HipTransfer.objects.filter(pk=transfer.pk).update(next_push_at=None)
    assert hip_transfer.transfer_push(transfer_id=transfer.pk) == HipTransferStatus.TRANSFERRED
    assert hip_transfer.transfers_to_resume() == []
