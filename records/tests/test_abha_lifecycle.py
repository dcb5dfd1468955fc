"""A citizen's consents follow their ABHA: deactivation suspends every granted artefact (reads refuse), reactivation
grants them again while still valid, deletion revokes them, expires unanswered requests and erases the identifiers
that consent requests and Scan & Share profiles copied; audit rows keep the fact, not the person (issue 15 #3)."""

import datetime as dt

import pytest
from django.utils import timezone

from abha import services as abha_services
from abha.enums import OtpPurpose
from abha.tests.conftest import last_otp
from core.exceptions import Conflict
from core.models import AuditEvent
from facilities.tests.factories import CounterFactory
from records import services
from records.enums import HiType
from records.models import ConsentArtefact, ConsentRequest, Notification
from scanshare import services as scan_services

from .factories import request_consent

pytestmark = pytest.mark.django_db

BTG = "/api/v1/consents/btg/"


@pytest.fixture
def change(sms_outbox, django_capture_on_commit_callbacks):
    """change(account, purpose): the citizen's OTP round trip through abha's services."""

    def run(account, purpose):
        with django_capture_on_commit_callbacks(execute=True):
            txn = abha_services.account_otp_start(account=account, actor=account.user, purpose=purpose)
        with django_capture_on_commit_callbacks(execute=True):
            return abha_services.account_confirm(
                account=account, actor=account.user, txn_id=txn.uuid, otp=last_otp(sms_outbox), purpose=purpose
            )

    return run


@pytest.fixture
def artefact(world):
    consent_request = request_consent(doctor=world.doctor, patient=world.patient, hi_types=[HiType.PRESCRIPTION])
    _request, artefacts = services.consent_grant(actor=world.citizen, request_uuid=consent_request.uuid)
    return next(a for a in artefacts if a.source_facility_id == world.a.pk)


def _url(artefact):
    return f"/api/v1/consents/artefacts/{artefact.uuid}/records/"


def _reads():
    return AuditEvent.objects.filter(action="records.read").count()


def test_deactivation_suspends_every_artefact_and_reads_refuse(world, api_as, artefact, change):
    other = ConsentArtefact.objects.exclude(pk=artefact.pk).get()  # the grant's artefact at facility B
    assert api_as(world.doctor).get(_url(artefact)).status_code == 200
    before = _reads()
    change(world.patient, OtpPurpose.DEACTIVATE)
    assert set(ConsentArtefact.objects.values_list("status", flat=True)) == {"SUSPENDED"}
    for suspended in (artefact, other):
        refused = api_as(world.doctor).get(_url(suspended))
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "consent_inactive"
        assert "records" not in refused.json()
    assert _reads() == before  # nothing read, nothing logged as a read
    assert AuditEvent.objects.filter(action="consent.suspend").count() == 2
    assert Notification.objects.filter(user=world.doctor, event="SUSPENDED").count() == 2


def test_an_open_emergency_access_ends_when_the_abha_is_deactivated(world, api_as, change):
    body = {"patient": world.patient.abha_number, "reason": "Unconscious after a road accident"}
    grant = api_as(world.doctor).post(BTG, body, format="json").json()
    change(world.patient, OtpPurpose.DEACTIVATE)
    refused = api_as(world.doctor).get(f"{BTG}{grant['uuid']}/records/")
    assert refused.status_code == 403 and "records" not in refused.json()


def test_a_deactivated_patient_cannot_grant_a_pending_request(world, change):
    pending = request_consent(doctor=world.doctor, patient=world.patient)
    change(world.patient, OtpPurpose.DEACTIVATE)
    with pytest.raises(Conflict) as refused:
        services.consent_grant(actor=world.citizen, request_uuid=pending.uuid)
    assert refused.value.code == "abha_inactive"
    assert not ConsentArtefact.objects.filter(request=pending).exists()


def test_reactivation_restores_artefacts_still_valid_and_expires_the_others(world, api_as, artefact, change):
    other = ConsentArtefact.objects.exclude(pk=artefact.pk).get()
    change(world.patient, OtpPurpose.DEACTIVATE)
    ConsentArtefact.objects.filter(pk=other.pk).update(data_erase_at=timezone.now() - dt.timedelta(seconds=1))
    change(world.patient, OtpPurpose.REACTIVATE)
    artefact.refresh_from_db()
    other.refresh_from_db()
    assert (artefact.status, other.status) == ("GRANTED", "EXPIRED")
    assert api_as(world.doctor).get(_url(artefact)).status_code == 200
    assert api_as(world.doctor).get(_url(other)).status_code == 403


def test_the_expiry_task_expires_suspended_artefacts_too(world, artefact, change):
    change(world.patient, OtpPurpose.DEACTIVATE)
    ConsentArtefact.objects.update(data_erase_at=timezone.now() - dt.timedelta(seconds=1))
    assert services.consents_expire()["artefacts"] == 2
    assert set(ConsentArtefact.objects.values_list("status", flat=True)) == {"EXPIRED"}


def test_the_patient_may_revoke_a_suspended_artefact(world, artefact, change):
    change(world.patient, OtpPurpose.DEACTIVATE)
    world.patient.refresh_from_db()
    assert services.artefact_revoke(actor=world.citizen, artefact_uuid=artefact.uuid).status == "REVOKED"


def test_deletion_revokes_consents_and_erases_the_copied_identifiers(world, api_as, artefact, change):
    address = world.patient.addresses.first().full
    pending = request_consent(doctor=world.doctor, patient=world.patient)
    counter = CounterFactory(facility=world.a, code="OPD1")
    token, _created = scan_services.token_issue(
        account=world.patient, actor=world.citizen, hip_id=world.a.facility_id, counter_code=counter.code
    )
    assert token.profile["name"] and token.profile["abha_address"] == address
    change(world.patient, OtpPurpose.DELETE)

    assert set(ConsentArtefact.objects.values_list("status", flat=True)) == {"REVOKED"}
    assert not ConsentArtefact.objects.filter(revoked_at__isnull=True).exists()
    refused = api_as(world.doctor).get(_url(artefact))
    assert refused.status_code == 403 and "records" not in refused.json()
    pending.refresh_from_db()
    assert pending.status == "EXPIRED"
    assert set(ConsentRequest.objects.values_list("patient_address", flat=True)) == {""}
    assert api_as(world.doctor).get("/api/v1/consents/requests/").json()["results"][0]["patient"] == ""
    token.refresh_from_db()
    assert token.profile == {} and token.status == "expired" and token.number == 1  # the fact stays
    # The audit trail keeps every fact (requested, granted, revoked, shared) but not the person's address or name.
    assert AuditEvent.objects.filter(action="consent.revoke").count() == 2
    assert AuditEvent.objects.filter(action="scan_share.erase").exists()
    for event in AuditEvent.objects.all():
        text = f"{event.target_label} {event.details}"
        assert address not in text and "Asha" not in text, event.action
    # Requesters were told, without the erased address.
    assert Notification.objects.filter(user=world.doctor, event="REVOKED").count() == 2


def test_a_deleted_abha_cannot_be_asked_again(world, api_as, change):
    address = world.patient.addresses.first().full
    change(world.patient, OtpPurpose.DELETE)
    body = {
        "patient": address,
        "purpose": "CAREMGT",
        "hi_types": ["Prescription"],
        "date_from": "2025-01-01",
        "date_to": "2025-03-31",
        "data_erase_at": (timezone.now() + dt.timedelta(days=30)).isoformat(),
    }
    response = api_as(world.doctor).post("/api/v1/consents/requests/", body, format="json")
    assert response.status_code == 400 and "patient" in response.json()["error"]["fields"]
