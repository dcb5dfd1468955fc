"""POST/GET /api/v1/records/: the seven real bundles, bad bundles, versions, and who may do what."""

import copy
import datetime as dt

import pytest

from abha.tests.factories import AbhaAccountFactory
from core.models import AuditEvent
from core.tests.factories import StateOfficialFactory
from records.enums import HiType
from records.models import HealthRecord

from .factories import ALL_BUNDLES, bundle_for

URL = "/api/v1/records/"


def _payload(world, hi_type=HiType.PRESCRIPTION, bundle=None, reference="OPD-2025-0001", **extra):
    return {
        "facility": world.a.facility_id,
        "abha_address": world.patient.addresses.first().full,
        "care_context": {"reference": reference, "display": "OPD visit, 03 Feb 2025", "date": "2025-02-03"},
        "hi_type": hi_type,
        "bundle": bundle if bundle is not None else bundle_for(hi_type),
        **extra,
    }


@pytest.mark.parametrize("hi_type", ALL_BUNDLES)
def test_each_real_abdm_bundle_is_accepted_as_is_and_kept_unchanged(world, api_as, hi_type):
    owner = AbhaAccountFactory(abha_number="22722548295255")  # the ABHA number the samples' Patient carries
    payload = _payload(world, hi_type, bundle=copy.deepcopy(ALL_BUNDLES[hi_type]), reference=f"REAL-{hi_type}")
    payload.pop("abha_address")
    payload["abha_number"] = owner.abha_number
    response = api_as(world.staff_a).post(URL, payload, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["hi_type"] == hi_type and body["version"] == 1 and body["facility"] == world.a.facility_id
    record = HealthRecord.objects.get(uuid=body["uuid"])
    assert record.patient == owner
    # The bundle's own Patient identifiers (22-7225-4829-5255) are kept exactly as sent.
    assert record.bundle == ALL_BUNDLES[hi_type]


def test_sending_the_same_bundle_again_is_a_no_op_and_a_changed_one_is_a_new_version(world, api_as):
    client = api_as(world.staff_a)
    first = client.post(URL, _payload(world), format="json")
    again = client.post(URL, _payload(world), format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["uuid"] == again.json()["uuid"]
    changed = bundle_for(HiType.PRESCRIPTION)
    changed["entry"][0]["resource"]["title"] = "Prescription record (amended)"
    amended = client.post(URL, _payload(world, bundle=changed), format="json")
    assert amended.status_code == 201 and amended.json()["version"] == 2
    versions = HealthRecord.objects.filter(care_context__reference="OPD-2025-0001").order_by("version")
    assert [(r.version, r.is_current) for r in versions] == [(1, False), (2, True)]
    assert versions[1].supersedes == versions[0]  # the old version stays for the audit trail
    assert AuditEvent.objects.filter(action="records.amend").count() == 1


def _bad(mutate):
    bundle = bundle_for(HiType.PRESCRIPTION)
    mutate(bundle)
    return bundle


BAD_BUNDLES = {
    "not_a_document": _bad(lambda b: b.update(type="collection")),
    "composition_not_first": _bad(lambda b: b["entry"].reverse()),
    "wrong_composition_code": _bad(lambda b: b["entry"][0]["resource"]["type"]["coding"][0].update(code="371530004")),
    "no_patient_reference": _bad(lambda b: b["entry"][0]["resource"].pop("subject")),
    "invalid_fhir_datatype": _bad(lambda b: b["entry"][0]["resource"].update(date="yesterday")),
    "unknown_field": _bad(lambda b: b["entry"][0]["resource"].update(colour="blue")),
    "not_a_bundle": {"resourceType": "Patient", "id": "1"},
}


@pytest.mark.parametrize("name", BAD_BUNDLES)
def test_a_bad_bundle_is_rejected_with_its_validation_errors(world, api_as, name):
    response = api_as(world.staff_a).post(URL, _payload(world, bundle=copy.deepcopy(BAD_BUNDLES[name])), format="json")
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["fields"]["bundle"], error
    assert not HealthRecord.objects.filter(care_context__reference="OPD-2025-0001").exists()


def test_bundle_must_be_json_object_and_hi_type_from_the_list(world, api_as):
    client = api_as(world.staff_a)
    response = client.post(URL, _payload(world, bundle=[1, 2]), format="json")
    assert response.status_code == 400 and "bundle" in response.json()["error"]["fields"]
    response = client.post(URL, _payload(world, hi_type="XRay", bundle=bundle_for(HiType.PRESCRIPTION)), format="json")
    assert response.status_code == 400 and "hi_type" in response.json()["error"]["fields"]


def test_a_wrong_hi_type_for_the_bundle_is_rejected(world, api_as):
    payload = _payload(world, hi_type=HiType.OP_CONSULTATION, bundle=bundle_for(HiType.PRESCRIPTION))
    response = api_as(world.staff_a).post(URL, payload, format="json")
    assert response.status_code == 400
    assert "371530004" in " ".join(response.json()["error"]["fields"]["bundle"])


def test_unknown_abha_and_future_date_are_refused(world, api_as):
    client = api_as(world.staff_a)
    response = client.post(URL, _payload(world, abha_address="nobody.here@sbx"), format="json")
    assert response.status_code == 400 and "patient" in response.json()["error"]["fields"]
    payload = _payload(world)
    payload["care_context"]["date"] = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    assert client.post(URL, payload, format="json").status_code == 400


def test_a_care_context_reference_cannot_be_reused_for_another_patient(world, api_as):
    client = api_as(world.staff_a)
    assert client.post(URL, _payload(world), format="json").status_code == 201
    other = _payload(world, abha_number=world.other_citizen.abha.abha_number)
    other.pop("abha_address")
    response = client.post(URL, other, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "care_context_other_patient"


@pytest.mark.parametrize(
    "who, status",
    [("staff_a", 201), ("staff_b", 403), ("doctor", 403), ("citizen", 403), ("other_citizen", 403), ("official", 403)],
)
def test_only_staff_of_the_facility_add_records_there(world, api_as, who, status):
    user = StateOfficialFactory() if who == "official" else getattr(world, who)
    response = api_as(user).post(URL, _payload(world), format="json")
    assert response.status_code == status, response.json()


def test_anonymous_cannot_add_or_list_records(world, api_client):
    assert api_client.post(URL, {}, format="json").status_code == 401
    assert api_client.get(URL, {"patient": world.patient.abha_number}).status_code == 401


def test_staff_list_only_their_facility_records_and_the_read_is_audited(world, api_as):
    response = api_as(world.staff_a).get(URL, {"patient": world.patient.abha_number})
    assert response.status_code == 200
    uuids = {r["uuid"] for r in response.json()["results"]}
    expected = {str(r.uuid) for r in (world.records.a_rx, world.records.a_lab, world.records.a_old)}
    assert uuids == expected
    assert all(r["summary"]["sections"] for r in response.json()["results"])
    event = AuditEvent.objects.get(action="records.read", actor=world.staff_a)
    assert event.details["basis"] == "facility" and set(event.details["records"]) == expected


def test_staff_of_another_facility_or_a_doctor_without_consent_see_none_of_them(world, api_as):
    for user in (world.doctor, world.other_doctor):
        response = api_as(user).get(URL, {"patient": world.patient.abha_number})
        assert response.status_code == 200 and response.json()["results"] == []
    staff_b = api_as(world.staff_b).get(URL, {"patient": world.patient.abha_number}).json()["results"]
    assert {r["facility"] for r in staff_b} == {world.b.facility_id}


def test_the_patient_sees_their_own_records_and_another_citizen_does_not(world, api_as):
    own = api_as(world.citizen).get(URL).json()
    assert own["count"] == 5
    other = api_as(world.other_citizen).get(URL, {"patient": world.patient.abha_number}).json()
    assert other["count"] == 0
    assert api_as(StateOfficialFactory()).get(URL).status_code == 403


def test_staff_list_needs_a_patient(world, api_as):
    response = api_as(world.staff_a).get(URL)
    assert response.status_code == 400 and "patient" in response.json()["error"]["fields"]
