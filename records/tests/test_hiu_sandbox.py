"""The portal's doctors as HIU users through the ABDM sandbox over HTTP (issue 18): a consent request goes to ABDM's
consent manager, the citizen grants in the sandbox's ABHA app, the artefact is fetched, the data pulled under a
fresh key, pushed encrypted by the HIP (here a facility of the same portal, its own hip_transfer), decrypted,
validated and shown to the doctor; revocation and dataEraseAt end it at once. The live server is the bridge, a real
Celery worker sends the outbox."""

import datetime as dt
import secrets

import pytest
from django.conf import settings
from django.utils import timezone

from abdm import consent as m3
from abdm.enums import OutboxStatus
from abdm.models import OutboxMessage
from abha.tests.factories import AbhaAccountFactory
from conftest import start_celery_worker, stop_celery_worker
from core.enums import Role
from core.exceptions import NotAllowed
from core.models import AuditEvent
from facilities.enums import MembershipRole
from facilities.tests.factories import FacilityFactory, MembershipFactory
from records import hiu
from records.enums import HiType, HiuArtefactStatus, HiuRequestStatus, HiuTransferStatus
from records.models import HiuArtefact, HiuConsentRequest, HiuRecord, HiuTransfer
from records.services.common import ConsentInactive

from .factories import add_record, sandbox_hfr_facility, sandbox_hip_of_this_portal, sandbox_patient
from .factories import wait_until as _wait
from .test_hip_transfer import bridge  # noqa: F401 - the fixture: the sandbox calls this test's live portal

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def network(bridge, live_server, tmp_path, settings):  # noqa: F811 - the imported fixture
    """An HIP of the portal on the sandbox's HFR with two visits of a patient the sandbox knows; a doctor at another
    facility (the HIU); a real worker (the outbox's backoff capped at a second)."""
    settings.ABDM_BRIDGE_URL = live_server.url
    sandbox = bridge
    hip_id = sandbox_hfr_facility(sandbox, "Sir T General Hospital")
    sandbox_hip_of_this_portal(hip_id, "Sir T General Hospital")
    facility = FacilityFactory(name="Sir T General Hospital", facility_id=hip_id)
    staff = MembershipFactory(facility=facility, user__role=Role.FACILITY_STAFF).user
    hiu_facility = FacilityFactory(name="Sihor CHC")
    doctor = MembershipFactory(facility=hiu_facility, role=MembershipRole.DOCTOR, user__role=Role.DOCTOR).user
    patient = AbhaAccountFactory(abha_number="91" + "".join(secrets.choice("0123456789") for _ in range(12)))
    address = sandbox_patient(sandbox, patient)
    rx = add_record(staff=staff, facility=facility, patient=patient, hi_type=HiType.PRESCRIPTION,
                    date=dt.date(2025, 2, 10), key=f"rx-{patient.abha_number}")  # fmt: skip
    lab = add_record(staff=staff, facility=facility, patient=patient, hi_type=HiType.DIAGNOSTIC_REPORT,
                     date=dt.date(2025, 3, 5), key=f"lab-{patient.abha_number}")  # fmt: skip
    worker = start_celery_worker(tmp_path / "worker.log", extra_env={"ABDM_OUTBOX_MAX_DELAY": "1"})
    try:
        yield type("Network", (), {"sandbox": sandbox, "hip_id": hip_id, "facility": facility, "patient": patient,
                                   "address": address, "rx": rx, "lab": lab, "doctor": doctor,
                                   "hiu_facility": hiu_facility})  # fmt: skip
    finally:
        stop_celery_worker(worker)


def _request(network, **changes) -> HiuConsentRequest:
    values = {
        "actor": network.doctor,
        "patient_address": network.address,
        "purpose": "CAREMGT",
        "hi_types": ["Prescription", "DiagnosticReport"],
        "date_from": dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        "date_to": timezone.now(),
        "data_erase_at": timezone.now() + dt.timedelta(days=1),
        "hip_id": network.hip_id,
        "hip_name": "Sir T General Hospital",
        "care_contexts": [
            {"patientReference": network.patient.abha_number, "careContextReference": r.care_context.reference}
            for r in (network.rx, network.lab)
        ],
        **changes,
    }
    made = hiu.consent_request_create(**values)
    return _wait(
        lambda: HiuConsentRequest.objects.filter(pk=made.pk, consent_request_id__isnull=False).first(),
        what="ABDM's consent request ID (on-init)",
    )


def _granted_and_received(network, **changes):
    consent_request = _request(network, **changes)
    assert consent_request.status == HiuRequestStatus.REQUESTED
    granted = network.sandbox.post(f"app/consents/{consent_request.consent_request_id}/grant", json={})
    assert granted.status_code == 200, granted.text
    [item] = granted.json()["consentArtefacts"]
    artefact = _wait(
        lambda: HiuArtefact.objects.filter(artefact_id=item["id"], fetched_at__isnull=False).first(),
        what="the artefact fetched",
    )
    _wait(
        lambda: HiuTransfer.objects.filter(artefact=artefact, status=HiuTransferStatus.RECEIVED).exists(),
        seconds=90,
        what="the data received",
    )
    artefact.refresh_from_db()
    return consent_request, artefact


def test_a_doctor_gets_records_through_abdm_and_they_end_at_revocation(network, client):
    consent_request, artefact = _granted_and_received(network)
    consent_request.refresh_from_db()
    assert consent_request.status == HiuRequestStatus.GRANTED
    # The artefact kept with every field the spec carries.
    assert artefact.status == HiuArtefactStatus.GRANTED and artefact.signature
    assert artefact.hip_id == network.hip_id and artefact.hiu_id == network.hiu_facility.facility_id
    assert artefact.purpose_code == "CAREMGT" and artefact.purpose_text == "Care Management"
    assert artefact.consent_manager_id == settings.ABDM_CM_ID and artefact.requester["name"]
    assert len(artefact.care_contexts) == 2 and artefact.frequency["unit"] == "HOUR"
    assert artefact.detail["consentId"] == str(artefact.artefact_id)
    records = list(HiuRecord.objects.filter(artefact=artefact))
    assert {r.care_context_reference for r in records} == {
        network.rx.care_context.reference,
        network.lab.care_context.reference,
    }
    transfer = HiuTransfer.objects.get(artefact=artefact)
    assert transfer.sealed_private_key == "" and transfer.key_erased_at  # erased after use
    # The HIU's transfer notification reached ABDM.
    _wait(
        lambda: OutboxMessage.objects.filter(kind=m3.HI_NOTIFY_KIND, status=OutboxStatus.SENT).exists(),
        what="the HIU's transfer notification",
    )

    # The doctor sees them on the record page; VIEW: no download.
    client.force_login(network.doctor)
    page = client.get(f"/records/abdm/artefacts/{artefact.uuid}/")
    assert page.status_code == 200
    assert page.content.decode().count('class="card record"') == 2
    assert "Download the FHIR bundle" not in page.content.decode()
    download = client.get(f"/records/abdm/artefacts/{artefact.uuid}/records/{records[0].uuid}.json")
    assert download.status_code == 403
    with pytest.raises(NotAllowed):
        hiu.record_download(actor=network.doctor, artefact_uuid=artefact.uuid, record_uuid=records[0].uuid)
    # The read is in the citizen's access log.
    assert AuditEvent.objects.filter(action="records.read", details__abdm_hiu=True).exists()
    # The list shows the request with its artefact.
    listing = client.get("/records/requests/").content.decode()
    assert str(consent_request.uuid) in listing and f"/records/abdm/artefacts/{artefact.uuid}/" in listing

    # The citizen revokes in the ABHA app: reads refuse, copies erased.
    revoked = network.sandbox.post(f"app/artefacts/{artefact.artefact_id}/revoke", json={})
    assert revoked.status_code == 200, revoked.text
    _wait(
        lambda: HiuArtefact.objects.filter(pk=artefact.pk, status=HiuArtefactStatus.REVOKED).exists(),
        what="the revoke notification",
    )
    with pytest.raises(ConsentInactive):
        hiu.artefact_read(actor=network.doctor, artefact_uuid=artefact.uuid)
    assert client.get(f"/records/abdm/artefacts/{artefact.uuid}/").status_code == 403
    assert not HiuRecord.objects.filter(artefact=artefact, bundle__isnull=False).exists()
    _wait(
        lambda: OutboxMessage.objects.filter(kind=m3.ON_NOTIFY_KIND, status=OutboxStatus.SENT).count() >= 2,
        what="the notifications acknowledged",
    )


def test_store_consents_download_and_data_erase_at_ends_reads_before_the_task(network, client):
    _, artefact = _granted_and_received(network, access_mode="STORE")
    record = HiuRecord.objects.filter(artefact=artefact).first()
    client.force_login(network.doctor)
    download = client.get(f"/records/abdm/artefacts/{artefact.uuid}/records/{record.uuid}.json")
    assert download.status_code == 200 and download["Content-Type"] == "application/fhir+json"

    # dataEraseAt passes: every read refuses at once, before the beat task runs; then the task erases.
    HiuArtefact.objects.filter(pk=artefact.pk).update(data_erase_at=timezone.now() - dt.timedelta(seconds=1))
    with pytest.raises(ConsentInactive):
        hiu.artefact_read(actor=network.doctor, artefact_uuid=artefact.uuid)
    assert HiuRecord.objects.filter(artefact=artefact, bundle__isnull=False).exists()
    assert hiu.erase_due() == 2
    assert not HiuRecord.objects.filter(artefact=artefact, bundle__isnull=False).exists()
    assert HiuArtefact.objects.get(pk=artefact.pk).status == HiuArtefactStatus.EXPIRED


def test_the_citizen_is_told_sees_the_request_with_the_abha_apps_link_and_a_denial_reaches_the_doctor(network, client):
    consent_request = _request(network)
    # The ABHA app's notification: the sandbox's SMS to the citizen's mobile.
    texts = [m["text"] for m in network.sandbox.messages(network.patient.mobile)]
    assert any(str(consent_request.consent_request_id) in text for text in texts), texts
    client.force_login(network.patient.user)
    page = client.get("/records/me/consents/").content.decode()
    app_link = f"/sandbox/v1/app/requests/{consent_request.consent_request_id}"
    assert app_link in page and "Sihor CHC" in page
    assert "requests wait for your answer" in client.get("/abha/me/").content.decode() or "1 request" in (
        client.get("/abha/me/").content.decode()
    )
    denied = network.sandbox.post(f"app/consents/{consent_request.consent_request_id}/deny", json={})
    assert denied.status_code == 200, denied.text
    _wait(
        lambda: HiuConsentRequest.objects.filter(pk=consent_request.pk, status=HiuRequestStatus.DENIED).exists(),
        what="the denial",
    )
    assert not HiuArtefact.objects.filter(consent_request=consent_request).exists()


def test_abdm_refuses_an_unknown_patient_and_the_doctor_sees_why(network):
    made = hiu.consent_request_create(
        actor=network.doctor,
        patient_address="nobody.here@sbx",
        purpose="CAREMGT",
        hi_types=["Invoice"],
        date_from=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        date_to=timezone.now(),
        data_erase_at=timezone.now() + dt.timedelta(days=1),
    )
    failed = _wait(
        lambda: HiuConsentRequest.objects.filter(pk=made.pk, status=HiuRequestStatus.FAILED).first(),
        what="ABDM's refusal",
    )
    assert "ABDM-1170" in failed.error
