"""HIP-initiated linking against the ABDM sandbox over HTTP: a record linked to an ABHA at a facility gets its care
context linked on ABDM (link token on its callback, link calls of up to 20, the context notify), once; a refused
link is reported; the bundle of a care context passes as the network expects (NRCES profiles, typed ABHA
identifiers, references resolving inside the bundle).

Outbox messages are sent here in the test's own process (`_drain`: outbox.deliver), callbacks come from the sandbox
to the live portal; test_abdm_linking_outage.py runs the same with a real Celery worker through a sandbox outage."""

import datetime as dt
import time

import pytest

from abdm import bridge_services, client, outbox
from abdm import linking as m2
from abdm.enums import OutboxStatus
from abdm.models import OutboxMessage
from abha.identifiers import address_full
from abha.tests.factories import AbhaAccountFactory, known_to_sandbox
from core.enums import Role
from facilities.tests.factories import FacilityFactory, MembershipFactory
from records import abdm_linking
from records.enums import HiType
from records.fhir import ABHA_ADDRESS, ABHA_NUMBER, care_context_bundle, patient_identifiers, validate_bundle
from records.linking.models import AbdmCareContextLink, AbdmLinkStatus, AbdmLinkToken
from records.models import CareContext

from .factories import add_record

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def bridge(abdm_sandbox, settings, live_server):
    settings.ABDM_GATEWAY_URL = abdm_sandbox.url
    settings.ABDM_HFR_URL = abdm_sandbox.url + "/v4/int"
    client.forget_session_token()
    client.gateway_request("PATCH", "/api/hiecm/gateway/v3/bridge/url", json={"url": live_server.url})
    return abdm_sandbox


def hip_on_sandbox(sandbox, name="Sir T General Hospital"):
    """A facility on the sandbox's HFR, an active HIP service of the portal's bridge there, and the same facility
    (same HFR ID) verified in the portal, with a staff member."""
    created = sandbox.post(
        "hfr/facilities",
        json={"facilityName": name, "ownershipCode": "G", "stateLGDCode": "24", "stateName": "GUJARAT",
              "districtLGDCode": "438", "districtName": "Ahmedabad"},
    )  # fmt: skip
    assert created.status_code in (200, 201), created.text
    hip_id = created.json()["facilities"][0]["facilityId"]
    body = bridge_services.hip_service_body(facility_id=hip_id, name=name, active=True)
    client.hfr_request("POST", bridge_services.ADD_UPDATE_PATH, json=body)
    facility = FacilityFactory(name=name, facility_id=hip_id)
    staff = MembershipFactory(facility=facility, user__role=Role.FACILITY_STAFF).user
    return facility, staff


@pytest.fixture
def hospital(bridge):
    return hip_on_sandbox(bridge)


def drain(until, timeout=30.0):
    """Send due outbox messages here (no Celery) until `until()` holds; callbacks arrive on the live server."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message_id in outbox.due_message_ids():
            outbox.deliver(message_id)
        if until():
            return
        time.sleep(0.1)
    states = list(OutboxMessage.objects.values_list("kind", "status", "error_code", "last_error"))
    pytest.fail(f"not done in {timeout} s; outbox: {states[:10]}")


def _all_linked():
    return not AbdmCareContextLink.objects.exclude(status=AbdmLinkStatus.LINKED).exists()


def test_a_record_filed_for_an_abha_is_linked_on_abdm_once_with_a_token_a_link_call_and_a_notify(bridge, hospital):
    facility, staff = hospital
    patient = AbhaAccountFactory()
    known_to_sandbox(bridge, patient)
    for number in range(3):
        add_record(staff=staff, facility=facility, patient=patient, key=f"v{number}", reference=f"OPD-{number}",
                   date=dt.date(2025, 2, 10 + number))  # fmt: skip
    assert AbdmCareContextLink.objects.filter(status=AbdmLinkStatus.PENDING).count() == 3
    [token_request] = OutboxMessage.objects.filter(kind=m2.TOKEN_KIND)  # one token per patient and HIP
    assert token_request.headers["X-HIP-ID"] == facility.facility_id
    assert token_request.body["abhaNumber"] == int(patient.abha_number)

    drain(_all_linked)
    token = AbdmLinkToken.objects.get(facility=facility, patient=patient)
    assert token.token and token.expires_at > token.updated_at
    calls = OutboxMessage.objects.filter(kind=m2.LINK_KIND)
    # The three records were filed one by one: the token's callback found all three waiting, one call carries them.
    assert calls.count() == 1
    [call] = calls
    assert call.headers["X-Link-Token"] == token.token
    assert call.body["patient"][0]["count"] == 3
    assert {c["referenceNumber"] for c in call.body["patient"][0]["careContexts"]} == {"OPD-0", "OPD-1", "OPD-2"}
    drain(lambda: OutboxMessage.objects.filter(kind=m2.NOTIFY_KIND, status=OutboxStatus.DONE).exists())
    [notify] = OutboxMessage.objects.filter(kind=m2.NOTIFY_KIND)
    assert notify.body["notification"]["hip"]["id"] == facility.facility_id

    # A fourth record later goes out with the cached token: no new token request.
    add_record(staff=staff, facility=facility, patient=patient, key="v9", reference="OPD-9")
    drain(_all_linked)
    assert OutboxMessage.objects.filter(kind=m2.TOKEN_KIND).count() == 1
    assert OutboxMessage.objects.filter(kind=m2.LINK_KIND).count() == 2
    # Another record in a care context already linked on ABDM links nothing again.
    add_record(staff=staff, facility=facility, patient=patient, key="v9-lab", reference="OPD-9",
               hi_type=HiType.DIAGNOSTIC_REPORT)  # fmt: skip
    assert OutboxMessage.objects.filter(kind=m2.LINK_KIND).count() == 2
    assert AbdmCareContextLink.objects.count() == 4


def test_an_expired_token_is_asked_for_again(bridge, hospital):
    facility, staff = hospital
    patient = AbhaAccountFactory()
    known_to_sandbox(bridge, patient)
    add_record(staff=staff, facility=facility, patient=patient, key="a", reference="OPD-A")
    drain(_all_linked)
    AbdmLinkToken.objects.update(expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    add_record(staff=staff, facility=facility, patient=patient, key="b", reference="OPD-B")
    assert OutboxMessage.objects.filter(kind=m2.TOKEN_KIND).count() == 2
    drain(_all_linked)


def test_a_patient_abdm_does_not_know_is_reported_failed_with_abdms_code(bridge, hospital):
    facility, staff = hospital
    stranger = AbhaAccountFactory()  # never made known to the sandbox
    add_record(staff=staff, facility=facility, patient=stranger, key="x", reference="OPD-X")
    drain(lambda: AbdmCareContextLink.objects.filter(status=AbdmLinkStatus.FAILED).exists())
    link = AbdmCareContextLink.objects.get()
    assert link.error_code.startswith("ABDM-")


def test_silent_callbacks_are_sent_again_by_the_sweep_and_each_care_context_is_linked_once(bridge, hospital):
    facility, staff = hospital
    patient = AbhaAccountFactory()
    known_to_sandbox(bridge, patient)
    add_record(staff=staff, facility=facility, patient=patient, key="a", reference="OPD-S")
    drain(_all_linked)
    # As if the link call's callback had never come: the sweep puts it back and sends it again.
    AbdmCareContextLink.objects.update(status=AbdmLinkStatus.SENT)
    OutboxMessage.objects.filter(kind=m2.LINK_KIND).update(status=OutboxStatus.AWAITING_CALLBACK)
    abdm_linking.links_sweep(wait=dt.timedelta(0))
    drain(_all_linked)
    assert OutboxMessage.objects.filter(kind=m2.LINK_KIND).count() == 2  # ABDM answered the repeat: already linked


def test_the_bundle_of_a_care_context_names_the_patient_by_abha_number_and_address():
    facility = FacilityFactory(name="Sir T General Hospital")
    staff = MembershipFactory(facility=facility, user__role=Role.FACILITY_STAFF).user
    patient = AbhaAccountFactory()
    add_record(staff=staff, facility=facility, patient=patient, key="rx", reference="OPD-F")
    add_record(staff=staff, facility=facility, patient=patient, key="lab", reference="OPD-F",
               hi_type=HiType.DIAGNOSTIC_REPORT)  # fmt: skip
    context = CareContext.objects.get(reference="OPD-F")
    bundle = care_context_bundle(context)
    assert bundle["type"] == "document"
    assert bundle["meta"]["profile"] == ["https://nrces.in/ndhm/fhir/r4/StructureDefinition/DocumentBundle"]
    composition = bundle["entry"][0]["resource"]
    assert composition["resourceType"] == "Composition"
    assert composition["meta"]["profile"][0].startswith("https://nrces.in/ndhm/fhir/r4/StructureDefinition/")
    kinds = {(identifier.kind, identifier.value) for identifier in patient_identifiers(bundle)}
    assert kinds == {(ABHA_NUMBER, patient.abha_number_display), (ABHA_ADDRESS, address_full(patient.abha_number))}
    validate_bundle(bundle, composition_hi_type(bundle), patient=patient)  # references resolve, ABHA is theirs
    # A visit noted without a document yet: its index document, built from its fields.
    empty = CareContext.objects.create(facility=facility, patient=patient, reference="OPD-E", display="OPD visit",
                                       date=dt.date(2025, 1, 2))  # fmt: skip
    index = care_context_bundle(empty)
    validate_bundle(index, "HealthDocumentRecord", patient=patient)
    assert (ABHA_ADDRESS, address_full(patient.abha_number)) in {
        (identifier.kind, identifier.value) for identifier in patient_identifiers(index)
    }


def composition_hi_type(bundle):
    from records.fhir import composition_hi_type as hi_type_of

    return hi_type_of(bundle["entry"][0]["resource"])


def test_a_jobs_rows_abdm_refuses_are_listed_by_row_in_its_error_report(bridge, hospital):
    from records.linking import selectors, services

    from .test_linking_jobs import csv_bytes, run, upload, visit

    facility, staff = hospital
    known, stranger = AbhaAccountFactory(mobile="9700000001"), AbhaAccountFactory(mobile="9700000002")
    known_to_sandbox(bridge, known)
    rows = [visit("J-1", abha_number=known.abha_number), visit("J-2", abha_number=stranger.abha_number)]
    job = run(services.job_create(actor=staff, facility=facility, uploaded_file=upload(csv_bytes(rows))))
    assert job.linked == 2
    assert abdm_linking.job_abdm_progress(job) == {"total": 2, "linked": 0, "failed": 0, "waiting": 2}
    abdm_linking.links_sweep(wait=dt.timedelta(0))  # what the dispatch task queued after each chunk does
    drain(lambda: abdm_linking.job_abdm_progress(job)["waiting"] == 0)
    assert abdm_linking.job_abdm_progress(job) == {"total": 2, "linked": 1, "failed": 1, "waiting": 0}
    report = "".join(selectors.error_report_lines(job)).splitlines()
    [refused] = [line for line in report if ",abdm," in line]
    assert refused.startswith("3,abdm,Not linked on ABDM: ABDM-")  # the file's row 3: the stranger's visit
