"""What the HIU side refuses (issue 18, "Bad input and faults"), over HTTP: a consent notification for a request the
portal never made (signed by the sandbox's gateway), pushes for an unknown transaction, bundles that do not decrypt
or are another patient's, a push under a revoked artefact; and ABDM down while a doctor requests."""

import datetime as dt
import json
import uuid

import jwt
import pytest
import requests
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from abdm import callbacks, fidelius, outbox
from abdm import client as abdm_client
from abdm import consent as m3
from abdm.enums import OutboxStatus
from abdm.models import OutboxMessage
from abha import tokens
from abha.tests.factories import AbhaAccountFactory
from core.enums import Role
from core.exceptions import Throttled
from core.models import AuditEvent
from facilities.enums import FacilityStatus, MembershipRole
from facilities.tests.factories import FacilityFactory, MembershipFactory
from records import fhir, hiu
from records.enums import HiType, HiuArtefactStatus, HiuRequestStatus, HiuTransferStatus
from records.forms import ConsentRequestForm
from records.models import HiuArtefact, HiuConsentRequest, HiuRecord, HiuTransfer
from records.services import btg_grant
from records.services.common import FacilityNotActive

from .factories import add_record
from .test_hip_transfer import bridge  # noqa: F401 - the fixture: the sandbox calls this test's live portal

PUSH_URL = "/records/hiu/data-push/"


def _refusals():
    return list(AuditEvent.objects.filter(action=hiu.REFUSED_ACTION).values_list("details", flat=True))


@pytest.fixture
def opened(db, abdm_sandbox):
    """A granted artefact of a doctor's request, with an open transfer under key material the portal issued; the
    care context's bundle as the HIP would send it."""
    hip = FacilityFactory(name="Sir T General Hospital")
    staff = MembershipFactory(facility=hip, user__role=Role.FACILITY_STAFF).user
    hiu_facility = FacilityFactory(name="Sihor CHC")
    doctor = MembershipFactory(facility=hiu_facility, role=MembershipRole.DOCTOR, user__role=Role.DOCTOR).user
    patient = AbhaAccountFactory()
    other = AbhaAccountFactory()
    address = patient.addresses.first().full
    record = add_record(staff=staff, facility=hip, patient=patient, hi_type=HiType.PRESCRIPTION, key="rx")
    others = add_record(staff=staff, facility=hip, patient=other, hi_type=HiType.PRESCRIPTION, key="other")
    now = timezone.now()
    consent_request = HiuConsentRequest.objects.create(
        requester=doctor, facility=hiu_facility, patient_address=address, requester_name="Dr", purpose="CAREMGT",
        hi_types=["Prescription"], date_from=now - dt.timedelta(days=900), date_to=now,
        data_erase_at=now + dt.timedelta(days=1), init_request_id=uuid.uuid4(), consent_request_id=uuid.uuid4(),
        status=HiuRequestStatus.GRANTED,
    )  # fmt: skip
    artefact = HiuArtefact.objects.create(
        consent_request=consent_request, artefact_id=uuid.uuid4(), fetched_at=now, patient_address=address,
        hip_id=hip.facility_id, hi_types=["Prescription"], access_mode="VIEW", date_from=consent_request.date_from,
        date_to=now, data_erase_at=consent_request.data_erase_at,
        care_contexts=[{"patientReference": patient.abha_number,
                        "careContextReference": record.care_context.reference}],
    )  # fmt: skip
    keys = fidelius.generate_key_material()
    transfer = HiuTransfer.objects.create(
        artefact=artefact, request_id=uuid.uuid4(), transaction_id=uuid.uuid4(),
        status=HiuTransferStatus.REQUESTED, public_key=keys.public_key, nonce=keys.nonce,
        sealed_private_key=tokens.seal(keys.private_key),
    )  # fmt: skip
    return type("Opened", (), {
        "doctor": doctor, "artefact": artefact, "transfer": transfer, "record": record, "address": address,
        "bundle": fhir.care_context_bundle(record.care_context),
        "other_bundle": fhir.care_context_bundle(others.care_context),
    })  # fmt: skip


def _push_body(opened, bundle, *, to_key=None, reference=None, transaction_id=None) -> dict:
    """The HIP's data push body: `bundle` encrypted under a fresh HIP key for `to_key` (default: the transfer's own)."""
    sender = fidelius.generate_key_material()
    to_key = to_key or (opened.transfer.public_key, opened.transfer.nonce)
    content = fidelius.encrypt(
        json.dumps(bundle),
        sender_private_key=sender.private_key,
        sender_nonce=sender.nonce,
        requester_public_key=to_key[0],
        requester_nonce=to_key[1],
    )
    body = {
        "pageNumber": 1,
        "pageCount": 1,
        "transactionId": str(transaction_id or opened.transfer.transaction_id),
        "entries": [
            {
                "content": content,
                "media": "application/fhir+json",
                "checksum": "",
                "careContextReference": reference or opened.record.care_context.reference,
            }
        ],
        "keyMaterial": {
            "cryptoAlg": fidelius.CRYPTO_ALG,
            "curve": fidelius.CURVE,
            "dhPublicKey": {"expiry": "2030-01-01T00:00:00.000Z", "parameters": fidelius.KEY_PARAMETERS,
                            "keyValue": sender.public_key},
            "nonce": sender.nonce,
        },
    }  # fmt: skip
    return body


def _push(client, opened, bundle, **changes):
    """The HIP's push: `bundle` encrypted under a fresh HIP key for `to_key` (default: the transfer's own), with the
    HIP's ABDM session token (here the portal's own, from the sandbox's gateway)."""
    body = _push_body(opened, bundle, **changes)
    bearer = f"Bearer {abdm_client.session_token()}"
    return client.post(PUSH_URL, json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=bearer)


@pytest.mark.django_db
def test_a_good_push_is_stored_and_read_by_the_requesting_doctor_only(client, opened):
    answer = _push(client, opened, opened.bundle)
    assert answer.status_code == 202, answer.content
    assert answer.json()["acknowledgement"][0]["status"] == "OK"
    [record] = HiuRecord.objects.filter(artefact=opened.artefact)
    assert record.hi_type == "Prescription" and record.bundle["resourceType"] == "Bundle"
    transfer = HiuTransfer.objects.get(pk=opened.transfer.pk)
    assert transfer.status == HiuTransferStatus.RECEIVED and transfer.sealed_private_key == ""
    notify = OutboxMessage.objects.get(kind=m3.HI_NOTIFY_KIND)
    assert notify.path == m3.HI_NOTIFY_PATH
    status = notify.body["notification"]["statusNotification"]
    assert status["sessionStatus"] == "RECEIVED" and status["statusResponses"][0]["hiStatus"] == "OK"
    assert notify.body["notification"]["notifier"] == {
        "type": "HIU",
        "id": opened.artefact.consent_request.facility.facility_id,
    }
    # A second push on the finished transaction: its key is gone, refused.
    assert _push(client, opened, opened.bundle).status_code == 409


@pytest.mark.django_db
def test_a_push_for_an_unknown_transaction_is_refused_and_audited(client, opened):
    answer = _push(client, opened, opened.bundle, transaction_id=uuid.uuid4())
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "ABDM-1017"
    assert any("unknown transaction" in d["reason"] for d in _refusals())
    assert not HiuRecord.objects.exists()
    bearer = f"Bearer {abdm_client.session_token()}"
    assert (
        client.post(PUSH_URL, "not json", content_type="application/json", HTTP_AUTHORIZATION=bearer).status_code == 400
    )


def _forged_token(kid: str) -> str:
    """A session token's shape, signed by a key of our own, not the gateway's."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(timezone.now().timestamp())
    claims = {"iss": settings.ABDM_GATEWAY_URL, "clientId": "someone", "iat": now, "exp": now + 600}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


@pytest.mark.django_db(transaction=True)
def test_a_push_without_abdms_session_token_is_refused_over_http_and_nothing_changes(live_server, opened):
    """The spec's data push carries the HIP's ABDM session token: none, or one the gateway did not sign, is a 401
    (logged, not audited: anyone could send those); the transfer stays open for the real push."""
    url = live_server.url + PUSH_URL
    body = _push_body(opened, opened.bundle)
    [kid] = list(callbacks.gateway_keys()["keys"])[:1]
    for authorization in (None, "Token abc", "Bearer not-a-jwt", f"Bearer {_forged_token('forged')}",
                          f"Bearer {_forged_token(kid)}"):  # fmt: skip
        headers = {"Authorization": authorization} if authorization else {}
        answer = requests.post(url, json=body, headers=headers, timeout=30)
        assert answer.status_code == 401, (authorization, answer.text)
        assert answer.json()["code"] == "900901"
    assert not HiuRecord.objects.exists() and not AuditEvent.objects.filter(action=hiu.REFUSED_ACTION).exists()
    assert HiuTransfer.objects.get(pk=opened.transfer.pk).status == HiuTransferStatus.REQUESTED

    # Under ABDM's token: an unknown transaction is refused and audited; the open one is stored.
    bearer = {"Authorization": f"Bearer {abdm_client.session_token()}"}
    unknown = requests.post(url, json={**body, "transactionId": str(uuid.uuid4())}, headers=bearer, timeout=30)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "ABDM-1017"
    assert any("unknown transaction" in d["reason"] for d in _refusals())
    assert not HiuRecord.objects.exists()
    assert requests.post(url, json=body, headers=bearer, timeout=30).status_code == 202
    assert HiuRecord.objects.filter(artefact=opened.artefact).count() == 1


@pytest.mark.django_db
def test_a_bundle_under_key_material_the_portal_did_not_issue_does_not_decrypt_and_nothing_is_stored(client, opened):
    stranger = fidelius.generate_key_material()
    answer = _push(client, opened, opened.bundle, to_key=(stranger.public_key, stranger.nonce))
    assert answer.status_code == 202
    assert answer.json()["acknowledgement"][0]["status"] == "ERRORED"
    assert not HiuRecord.objects.exists()
    assert any(d.get("problems") and "decryption" in d["problems"][0] for d in _refusals())
    notify = OutboxMessage.objects.get(kind=m3.HI_NOTIFY_KIND).body["notification"]
    assert notify["statusNotification"]["sessionStatus"] == "FAILED"
    assert HiuTransfer.objects.get(pk=opened.transfer.pk).status == HiuTransferStatus.FAILED


@pytest.mark.django_db
@pytest.mark.parametrize(
    "case, expected",
    [("another patient", "ABHA"), ("not a document", "document"), ("care context not granted", "not in the consent")],
)
def test_bundles_failing_validation_are_refused_and_nothing_is_stored(client, opened, case, expected):
    bundle, reference = opened.bundle, None
    if case == "another patient":
        bundle = opened.other_bundle
    elif case == "not a document":
        bundle = {**opened.bundle, "type": "collection"}
    else:
        reference = "CC-NOT-GRANTED"
    answer = _push(client, opened, bundle, reference=reference)
    assert answer.status_code == 202
    assert answer.json()["acknowledgement"][0]["status"] == "ERRORED"
    assert not HiuRecord.objects.exists()
    [refusal] = _refusals()
    assert expected in " ".join(refusal["problems"]), refusal


@pytest.mark.django_db
def test_a_push_after_the_revocation_stores_nothing(client, opened):
    HiuArtefact.objects.filter(pk=opened.artefact.pk).update(status=HiuArtefactStatus.REVOKED)
    answer = _push(client, opened, opened.bundle)
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "ABDM-1062"
    assert not HiuRecord.objects.exists()
    transfer = HiuTransfer.objects.get(pk=opened.transfer.pk)
    assert transfer.status == HiuTransferStatus.FAILED and transfer.sealed_private_key == ""


@pytest.mark.django_db(transaction=True)
def test_a_notification_for_a_request_the_portal_never_made_is_refused_audited_and_changes_nothing(bridge):  # noqa: F811
    body = {
        "notification": {
            "consentRequestId": str(uuid.uuid4()),
            "status": "GRANTED",
            "reason": None,
            "consentArtefacts": [{"id": str(uuid.uuid4())}],
        }
    }
    sent = bridge.post("callbacks", {"bridgeId": settings.ABDM_CLIENT_ID, "path": m3.NOTIFY_WEBHOOK, "body": body})
    assert sent.status_code == 200, sent.text
    assert sent.json()["status"] == 400
    refused = AuditEvent.objects.filter(action="abdm.callback_refused").values_list("details", flat=True)
    assert any(d["path"] == m3.NOTIFY_WEBHOOK and "unknown_request" in d["reason"] for d in refused)
    assert not HiuArtefact.objects.exists() and not OutboxMessage.objects.filter(kind=m3.FETCH_KIND).exists()


@pytest.mark.django_db(transaction=True)
def test_abdm_down_the_request_waits_in_the_outbox_and_the_doctor_sees_it(private_abdm_sandbox, settings, client):
    settings.ABDM_GATEWAY_URL = private_abdm_sandbox.url
    abdm_client.forget_session_token()
    private_abdm_sandbox.stop()
    hiu_facility = FacilityFactory(name="Sihor CHC")
    doctor = MembershipFactory(facility=hiu_facility, role=MembershipRole.DOCTOR, user__role=Role.DOCTOR).user
    made = hiu.consent_request_create(
        actor=doctor,
        patient_address="asha.patel@sbx",
        purpose="CAREMGT",
        hi_types=["Prescription", "Invoice"],
        date_from=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        date_to=timezone.now(),
        data_erase_at=timezone.now() + dt.timedelta(hours=2),
    )
    message = OutboxMessage.objects.get(request_id=made.init_request_id)
    assert message.body["consent"]["hiTypes"] == ["Prescription", "Invoice"]
    assert outbox.deliver(message.pk) == OutboxStatus.PENDING
    assert HiuConsentRequest.objects.get(pk=made.pk).status == HiuRequestStatus.QUEUED
    client.force_login(doctor)
    page = client.get("/records/requests/").content.decode()
    assert "Waiting for ABDM" in page and "Waiting to reach ABDM" in page


@pytest.mark.django_db
def test_break_the_glass_asks_abdm_with_the_emergency_purpose_under_the_states_checks(settings):

    settings.BTG_RATE = "1/day"
    facility = FacilityFactory(name="Sihor CHC")
    doctor = MembershipFactory(facility=facility, role=MembershipRole.DOCTOR, user__role=Role.DOCTOR).user
    patient = AbhaAccountFactory()
    reason = "Unconscious after a road accident, no family present"
    grant = btg_grant(actor=doctor, patient_identifier=patient.abha_number, reason=reason)
    [asked] = HiuConsentRequest.objects.filter(requester=doctor)
    assert asked.purpose == "BTG" and str(grant.uuid) in asked.emergency_reason
    assert asked.data_erase_at == grant.expires_at and grant.needs_review
    consent = OutboxMessage.objects.get(request_id=asked.init_request_id).body["consent"]
    assert consent["purpose"]["code"] == "BTG" and consent["purpose"]["text"] == "Break the Glass"
    assert consent["patient"]["id"] == patient.addresses.first().full.lower()
    # Rate-limited per doctor: the second use is refused and asks ABDM nothing.
    with pytest.raises(Throttled):
        btg_grant(actor=doctor, patient_identifier=patient.abha_number, reason=reason)
    # A suspended facility's doctor, or one whose membership ended, asks nothing either.
    other = MembershipFactory(
        facility=FacilityFactory(status=FacilityStatus.SUSPENDED), role=MembershipRole.DOCTOR, user__role=Role.DOCTOR
    ).user
    with pytest.raises(FacilityNotActive):
        btg_grant(actor=other, patient_identifier=patient.abha_number, reason=reason)
    assert HiuConsentRequest.objects.count() == 1
    # The ABDM request form offers no emergency purpose: only break-the-glass sends it.
    assert "BTG" not in dict(ConsentRequestForm.base_fields["purpose"].choices)


@pytest.mark.django_db
def test_the_api_shows_view_records_without_bundles_and_store_records_with_them(client, opened):
    assert _push(client, opened, opened.bundle).status_code == 202
    api = APIClient()
    api.force_authenticate(opened.doctor)
    url = f"/api/v1/consents/abdm/artefacts/{opened.artefact.uuid}/records/"
    view = api.get(url).json()
    assert view["count"] == 1 and view["records"][0]["bundle"] is None and view["records"][0]["summary"]
    HiuArtefact.objects.filter(pk=opened.artefact.pk).update(access_mode="STORE")
    assert api.get(url).json()["records"][0]["bundle"]["resourceType"] == "Bundle"
    HiuArtefact.objects.filter(pk=opened.artefact.pk).update(status=HiuArtefactStatus.REVOKED)
    refused = api.get(url)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "consent_inactive"
    listed = api.get("/api/v1/consents/abdm/requests/").json()
    assert listed[0]["artefacts"][0]["uuid"] == str(opened.artefact.uuid)
    made = api.post(
        "/api/v1/consents/abdm/requests/",
        {"patient": opened.address, "purpose": "CAREMGT", "hi_types": ["Invoice"], "date_from": "2025-01-01T00:00:00Z",
         "date_to": "2025-03-31T00:00:00Z", "data_erase_at": "2030-01-01T00:00:00Z"},
        format="json",
    )  # fmt: skip
    assert made.status_code == 201 and made.json()["status"] == "QUEUED"
    assert (
        api.post("/api/v1/consents/abdm/requests/", {**made.json(), "purpose": "BTG"}, format="json").status_code == 400
    )
