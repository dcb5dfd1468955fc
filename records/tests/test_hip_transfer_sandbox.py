"""A consent granted in the ABDM sandbox leads to an encrypted transfer that the sandbox's own HIU decrypts (with its
own Fidelius implementation, abdm_sandbox/fidelius.py) and validates as FHIR: the whole M2 data flow over HTTP, the
portal's live server as the bridge, a real Celery worker sending the outbox and running the push."""

import datetime as dt
import secrets

import pytest

from abdm import dataflow
from abdm.enums import OutboxStatus
from abdm.models import OutboxMessage
from abha.tests.factories import AbhaAccountFactory
from conftest import start_celery_worker, stop_celery_worker
from core.enums import Role
from facilities.tests.factories import FacilityFactory, MembershipFactory
from records import selectors
from records.enums import HipArtefactStatus, HipTransferStatus, HiType
from records.models import HipConsentArtefact, HipTransfer

from .factories import add_record, sandbox_hfr_facility, sandbox_hip_of_this_portal, sandbox_patient
from .factories import wait_until as _wait
from .test_hip_transfer import bridge  # noqa: F401 - the fixture: the sandbox calls this test's live portal

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def network(bridge, tmp_path):  # noqa: F811 - the imported fixture
    """A facility on the sandbox's HFR, active as an HIP service of the portal's bridge; a patient the sandbox knows
    with two visits there; a real worker (the outbox's backoff capped at a second)."""
    sandbox = bridge
    hip_id = sandbox_hfr_facility(sandbox, "Sir T General Hospital")
    sandbox_hip_of_this_portal(hip_id, "Sir T General Hospital")
    facility = FacilityFactory(name="Sir T General Hospital", facility_id=hip_id)
    staff = MembershipFactory(facility=facility, user__role=Role.FACILITY_STAFF).user
    patient = AbhaAccountFactory(abha_number="91" + "".join(secrets.choice("0123456789") for _ in range(12)))
    address = sandbox_patient(sandbox, patient)
    rx = add_record(staff=staff, facility=facility, patient=patient, hi_type=HiType.PRESCRIPTION,
                    date=dt.date(2025, 2, 10), key=f"rx-{patient.abha_number}")  # fmt: skip
    lab = add_record(staff=staff, facility=facility, patient=patient, hi_type=HiType.DIAGNOSTIC_REPORT,
                     date=dt.date(2025, 3, 5), key=f"lab-{patient.abha_number}")  # fmt: skip
    worker = start_celery_worker(tmp_path / "worker.log", extra_env={"ABDM_OUTBOX_MAX_DELAY": "1"})
    try:
        yield type("Network", (), {"sandbox": sandbox, "hip_id": hip_id, "facility": facility, "patient": patient,
                                   "address": address, "rx": rx, "lab": lab})  # fmt: skip
    finally:
        stop_celery_worker(worker)


def _consent(network, **changes) -> tuple[str, str]:
    """The sandbox's HIU asks for the two visits; the citizen grants in the sandbox's ABHA app. (request, artefact)"""
    body = {
        "patient": network.address,
        "hiTypes": ["Prescription", "DiagnosticReport"],
        "hip": {"id": network.hip_id, "name": "Sir T General Hospital"},
        "careContexts": [
            {"patientReference": network.patient.abha_number, "careContextReference": record.care_context.reference}
            for record in (network.rx, network.lab)
        ],
        "dateRange": {"from": "2025-01-01T00:00:00.000Z", "to": "2025-12-31T00:00:00.000Z"},
        **changes,
    }
    asked = network.sandbox.post("hiu/consent-requests", body)
    assert asked.status_code == 201, asked.text
    request_id = asked.json()["consentRequestId"]
    granted = network.sandbox.post(f"app/consents/{request_id}/grant", json={})
    assert granted.status_code == 200, granted.text
    [artefact] = granted.json()["consentArtefacts"]
    return request_id, artefact["id"]


def test_a_consent_granted_in_the_sandbox_leads_to_a_transfer_the_sandbox_decrypts_and_validates(network):
    _, artefact_id = _consent(network)
    artefact = _wait(lambda: HipConsentArtefact.objects.filter(consent_id=artefact_id).first(), what="the notify")
    assert artefact.status == HipArtefactStatus.GRANTED and artefact.facility == network.facility
    assert artefact.hiu_id and len(artefact.care_contexts) == 2 and artefact.signature
    _wait(
        lambda: OutboxMessage.objects.filter(kind=dataflow.ON_NOTIFY_KIND, status=OutboxStatus.SENT).exists(),
        what="the on-notify sent to the sandbox",
    )

    fetched = network.sandbox.post("hiu/fetch", {"consentArtefactId": artefact_id})
    assert fetched.status_code == 202, fetched.text
    transaction_id = fetched.json()["transactionId"]
    transfer = _wait(
        lambda: HipTransfer.objects.filter(transaction_id=transaction_id, notified_at__isnull=False).first(),
        what="the transfer notified",
    )
    assert transfer.status == HipTransferStatus.TRANSFERRED

    outcome = network.sandbox.get(f"hiu/fetch/{transaction_id}").json()
    assert outcome["hiuStatus"] == "RECEIVED", outcome
    assert outcome["hipSessionStatus"] in ("ACKNOWLEDGED", "TRANSFERRED"), outcome
    results = {item["careContextReference"]: item for item in outcome["careContexts"]}
    assert set(results) == {network.rx.care_context.reference, network.lab.care_context.reference}
    for item in results.values():
        assert item["status"] == "OK" and item["problems"] == [], item
    assert "Composition" in results[network.rx.care_context.reference]["resourceTypes"]
    hip_notices = [n for n in outcome["notifications"] if (n.get("notifier") or {}).get("type") == "HIP"]
    assert hip_notices and hip_notices[-1]["statusNotification"]["sessionStatus"] == "TRANSFERRED"

    # The citizen sees both visits sent to the HIU under this consent.
    sent = [e for e in selectors.access_log_for(network.patient) if e.details.get("abdm")]
    assert {e.details["care_context"] for e in sent} == set(results)
    assert {e.details["artefact"] for e in sent} == {artefact_id}


def test_a_revoke_in_the_sandbox_reaches_the_hip_and_the_consent_manager_stops_requests(network):
    _, artefact_id = _consent(network)
    _wait(lambda: HipConsentArtefact.objects.filter(consent_id=artefact_id).exists(), what="the notify")
    revoked = network.sandbox.post(f"app/artefacts/{artefact_id}/revoke", json={})
    assert revoked.status_code == 200, revoked.text
    _wait(
        lambda: HipConsentArtefact.objects.filter(consent_id=artefact_id, status=HipArtefactStatus.REVOKED).exists(),
        what="the revoke notify",
    )
    assert network.sandbox.post("hiu/fetch", {"consentArtefactId": artefact_id}).status_code == 409
    assert not HipTransfer.objects.exists()


def test_a_request_naming_a_care_context_the_hip_does_not_hold_is_refused_on_on_request(network):
    """The HIU named a visit this HIP does not have for the patient; the consent manager relays the request and the
    HIP answers ERRORED with ABDM-1057 on the on-request (the sandbox checks that body too); nothing is pushed."""
    patient_reference = network.patient.abha_number
    named = [network.rx.care_context.reference, "NOT-HERE-1"]
    _, artefact_id = _consent(
        network,
        careContexts=[{"patientReference": patient_reference, "careContextReference": ref} for ref in named],
    )
    _wait(lambda: HipConsentArtefact.objects.filter(consent_id=artefact_id).exists(), what="the notify")
    fetched = network.sandbox.post("hiu/fetch", {"consentArtefactId": artefact_id})
    assert fetched.status_code == 202, fetched.text
    transaction_id = fetched.json()["transactionId"]
    transfer = _wait(lambda: HipTransfer.objects.filter(transaction_id=transaction_id).first(), what="the request")
    assert transfer.status == HipTransferStatus.REFUSED and transfer.error_code == "ABDM-1057"
    message = _wait(
        lambda: OutboxMessage.objects.filter(
            kind=dataflow.ON_REQUEST_KIND, subject_id=str(transfer.pk), status__in=[OutboxStatus.SENT, "failed"]
        ).first(),
        what="the on-request sent",
    )
    assert message.status == OutboxStatus.SENT, (message.error_code, message.last_error)
    outcome = network.sandbox.get(f"hiu/fetch/{transaction_id}").json()
    assert outcome["status"] == "ERRORED", outcome
    assert {"hipError": {"code": "ABDM-1057", "message": "Invalid Care Contexts"}} in outcome["notifications"]
    assert outcome["pushes"] == 0 and outcome["careContexts"] == []
    assert not [e for e in selectors.access_log_for(network.patient) if e.details.get("abdm")]
