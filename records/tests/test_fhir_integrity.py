"""Record integrity (issue 15, items 12-14): a bundle is filed only under the ABHA its Patient names, a misspelled
resourceType is a 400 naming the entry, and the FHIR rules a document must keep (references, subject, bdl-7, bdl-9,
Composition.status) are enforced; ABDM's seven real samples still pass as they are."""

import copy
import csv
import datetime as dt
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from abha.identifiers import abha_number_display
from abha.models import AbhaAddress
from abha.tests.factories import AbhaAccountFactory
from core.enums import Role
from facilities.tests.factories import FacilityFactory, MembershipFactory
from records.enums import HiType
from records.fhir import BundleError, bundle_patient_errors, validate_bundle
from records.linking import processing, rows, services
from records.linking.files import OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from records.models import CareContext, HealthRecord

from .factories import ALL_BUNDLES, DATA, bundle_for

URL = "/api/v1/records/"
SAMPLE_ABHA = "22-7225-4829-5255"  # the ABHA number the samples' Patient carries


def _patient_of(bundle: dict) -> dict:
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")


def _with_identifiers(bundle: dict, *identifiers: dict) -> dict:
    _patient_of(bundle)["identifier"] = list(identifiers)
    return bundle


def _number(value: str) -> dict:
    coding = [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]
    return {"type": {"coding": coding}, "system": "https://healthid.ndhm.gov.in", "value": value}


def _address(value: str) -> dict:
    return {"system": "https://healthid.ndhm.gov.in", "value": value}


def _payload(world, bundle, *, reference="INT-1", **identity):
    return {
        "facility": world.a.facility_id,
        **(identity or {"abha_number": world.patient.abha_number}),
        "care_context": {"reference": reference, "display": "OPD visit, 03 Feb 2025", "date": "2025-02-03"},
        "hi_type": HiType.PRESCRIPTION,
        "bundle": bundle,
    }


def _refused(response) -> list[str]:
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "invalid"
    return error["fields"]["bundle"]


# --- 12. The bundle's patient is the patient the record is filed under ----------------------------------------


def test_a_bundle_naming_another_persons_abha_number_is_refused_by_the_api(world, api_as):
    other = world.other_citizen.abha
    bundle = _with_identifiers(bundle_for(HiType.PRESCRIPTION), _number(abha_number_display(other.abha_number)))
    messages = _refused(api_as(world.staff_a).post(URL, _payload(world, bundle), format="json"))
    assert any(m.startswith("entry.1.resource.identifier.0:") and "ABHA number" in m for m in messages), messages
    assert not CareContext.objects.filter(reference="INT-1").exists()


@pytest.mark.parametrize("written", ["hyphenated", "digits"])
def test_the_patients_own_abha_number_in_either_format_is_accepted(world, api_as, written):
    number = world.patient.abha_number
    value = abha_number_display(number) if written == "hyphenated" else number
    bundle = _with_identifiers(bundle_for(HiType.PRESCRIPTION), _number(value))
    response = api_as(world.staff_a).post(URL, _payload(world, bundle), format="json")
    assert response.status_code == 201, response.json()
    assert HealthRecord.objects.get(uuid=response.json()["uuid"]).patient == world.patient


def test_a_bundle_naming_another_persons_abha_address_is_refused_and_the_patients_own_accepted(world, api_as):
    AbhaAddress.objects.create(account=world.other_citizen.abha, local="bina.other1")
    AbhaAddress.objects.create(account=world.patient, local="asha.own99")
    client = api_as(world.staff_a)
    own_number = _number(world.patient.abha_number)
    bundle = _with_identifiers(bundle_for(HiType.PRESCRIPTION), own_number, _address("bina.other1@sbx"))
    messages = _refused(client.post(URL, _payload(world, bundle), format="json"))
    assert any(m.startswith("entry.1.resource.identifier.1:") and "ABHA address" in m for m in messages), messages
    bundle = _with_identifiers(bundle_for(HiType.PRESCRIPTION), own_number, _address("Asha.Own99@sbx"))
    identity = {"abha_address": "asha.own99@sbx"}
    assert client.post(URL, _payload(world, bundle, **identity), format="json").status_code == 201


def test_the_real_samples_are_refused_for_anyone_but_their_own_abha(world, api_as):
    response = api_as(world.staff_a).post(
        URL, _payload(world, copy.deepcopy(ALL_BUNDLES["Prescription"])), format="json"
    )
    assert _refused(response)


def test_a_bundle_whose_patient_has_no_abha_identifier_is_filed_under_the_requested_abha(world, api_as):
    bundle = _with_identifiers(
        bundle_for(HiType.PRESCRIPTION), {"system": "https://hospital.example/mrn", "value": "7"}
    )
    response = api_as(world.staff_a).post(URL, _payload(world, bundle), format="json")
    assert response.status_code == 201, response.json()
    assert HealthRecord.objects.get(uuid=response.json()["uuid"]).patient == world.patient


COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
VISIT = (timezone.localdate() - dt.timedelta(days=10)).isoformat()


def _csv(rows_: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows_:
        writer.writerow({column: row.get(column, "") for column in COLUMNS})
    return out.getvalue().encode()


def _run(staff, facility, content: bytes, name: str):
    job = services.job_create(
        actor=staff, facility=facility, uploaded_file=SimpleUploadedFile(name, content, content_type="text/csv")
    )
    processing.job_prepare(job_id=job.pk)
    processing.job_work(job_id=job.pk)
    job.refresh_from_db()
    return job


@pytest.fixture
def clinic(db):
    facility = FacilityFactory(name="Kumbharwada Clinic")
    return facility, MembershipFactory(facility=facility, user__role=Role.FACILITY_STAFF).user


def test_a_linking_row_whose_bundle_names_another_person_is_not_linked(clinic):
    facility, staff = clinic
    asha, bina = AbhaAccountFactory(first_name="Asha"), AbhaAccountFactory(first_name="Bina")
    AbhaAddress.objects.create(account=bina, local="bina.other1")
    own = bundle_for(HiType.PRESCRIPTION, key="own", patient=asha)
    theirs = _with_identifiers(bundle_for(HiType.PRESCRIPTION, key="theirs"), _number(bina.abha_number))
    by_address = _with_identifiers(
        bundle_for(HiType.PRESCRIPTION, key="addr"), _number(asha.abha_number), _address("bina.other1@sbx")
    )
    lines = [
        {
            "care_context_reference": f"L-{n}",
            "visit_date": VISIT,
            "hi_type": "Prescription",
            "fhir_bundle": json.dumps(b),
        }
        for n, b in enumerate([own, theirs, by_address, bundle_for(HiType.PRESCRIPTION, key="none")], start=1)
    ]
    for line in lines:
        line["abha_number"] = asha.abha_number
    job = _run(staff, facility, _csv(lines), "batch.csv")
    assert (job.linked, job.failed_rows) == (2, 2)
    assert set(CareContext.objects.values_list("reference", flat=True)) == {"L-1", "L-4"}
    errors = set(job.row_errors.values_list("row_number", "field", "code"))
    assert errors == {(3, "fhir_bundle", "bundle_other_patient"), (4, "fhir_bundle", "bundle_other_patient")}


def test_an_ndjson_bundle_naming_two_people_is_not_linked_to_either(clinic):
    facility, staff = clinic
    asha, bina = AbhaAccountFactory(first_name="Asha"), AbhaAccountFactory(first_name="Bina")
    bundle = _with_identifiers(bundle_for(HiType.PRESCRIPTION, key="two"), _number(asha.abha_number))
    second = copy.deepcopy(_patient_of(bundle))
    second.update(id="2", identifier=[_number(bina.abha_number)])
    bundle["entry"].append({"fullUrl": "Patient/2", "resource": second})
    encounter = {"resourceType": "Encounter", "id": "e1", "status": "finished", "identifier": [{"value": "ND-2"}]}
    encounter["class"] = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"}
    bundle["entry"].append({"fullUrl": "Encounter/e1", "resource": encounter})
    job = _run(staff, facility, json.dumps(bundle).encode(), "bundles.ndjson")
    assert (job.linked, job.failed_rows) == (0, 1)
    assert list(job.row_errors.values_list("field", "code")) == [("bundle", "bundle_other_patient")]


# --- 13. A misspelled resourceType is a 400 naming the entry, not a 500 -----------------------------------------


@pytest.mark.parametrize(("index", "misspelled"), [(0, "Compositio"), (1, "Patiant")])
def test_a_misspelled_resource_type_is_a_400_naming_the_entry(world, api_as, index, misspelled):
    bundle = bundle_for(HiType.PRESCRIPTION)
    assert bundle["entry"][index]["resource"]["resourceType"] in ("Composition", "Patient")
    bundle["entry"][index]["resource"]["resourceType"] = misspelled
    messages = _refused(api_as(world.staff_a).post(URL, _payload(world, bundle), format="json"))
    assert messages == [f'entry.{index}.resource.resourceType: "{misspelled}" is not a FHIR R4 resource type.']


def test_a_misspelled_resource_type_in_a_linking_line_is_a_row_error_not_a_failed_chunk():
    bundle = bundle_for(HiType.PRESCRIPTION)
    _patient_of(bundle)["identifier"] = [_number(SAMPLE_ABHA)]
    bundle["entry"][3]["resource"]["resourceType"] = "MedicationRequst"
    encounter = {"resourceType": "Encounter", "id": "e1", "status": "finished", "identifier": [{"value": "ND-3"}]}
    bundle["entry"].append({"fullUrl": "Encounter/e1", "resource": encounter})
    row = rows.ndjson_row(1, json.dumps(bundle), today=timezone.localdate())
    row_bundle_errors = [(field, code, detail) for field, code, detail in row.errors if code == "bundle_invalid"]
    assert len(row_bundle_errors) == 1 and row_bundle_errors[0][2].startswith("entry.3.resource.resourceType")


def test_an_unknown_resource_type_inside_a_resource_is_refused_too():
    bundle = bundle_for(HiType.PRESCRIPTION)
    bundle["entry"][3]["resource"]["contained"] = [{"resourceType": "Medicatio", "id": "m1"}]
    with pytest.raises(BundleError):
        validate_bundle(bundle, HiType.PRESCRIPTION)


# --- 14. What FHIR requires of a document bundle -------------------------------------------------------------


def _bad(mutate):
    bundle = bundle_for(HiType.PRESCRIPTION)
    mutate(bundle)
    return bundle


def _composition(bundle):
    return bundle["entry"][0]["resource"]


INVALID = {
    "dangling_section_reference": (
        lambda b: _composition(b)["section"][0]["entry"].append({"reference": "Condition/99"}),
        'entry.0.resource.section.0.entry.3: the reference "Condition/99" names nothing in the bundle.',
    ),
    "dangling_reference_in_a_resource": (
        lambda b: b["entry"][3]["resource"].update(requester={"reference": "Practitioner/404"}),
        'entry.3.resource.requester: the reference "Practitioner/404" names nothing in the bundle.',
    ),
    "dangling_urn_reference": (
        lambda b: _composition(b).update(author=[{"reference": "urn:uuid:4b4ab2b0-4f2b-4e0c-9d6e-2b3c0b1f3a11"}]),
        "entry.0.resource.author.0: the reference",
    ),
    "subject_is_not_a_patient": (
        lambda b: _composition(b).update(subject={"reference": "Practitioner/1"}),
        "entry.0.resource.subject: the Composition's subject must be a Patient, not a Practitioner.",
    ),
    "duplicate_full_url": (
        lambda b: b["entry"][4].update(fullUrl=b["entry"][3]["fullUrl"]),
        'entry.4.fullUrl: "MedicationRequest/1" appears twice in the bundle (FHIR bdl-7).',
    ),
    "no_bundle_identifier": (
        lambda b: b.pop("identifier"),
        "identifier: a document bundle must have an identifier with a system and a value (bdl-9).",
    ),
    "bundle_identifier_without_system": (
        lambda b: b["identifier"].pop("system"),
        "identifier: a document bundle must have an identifier with a system and a value (bdl-9).",
    ),
    "invalid_composition_status": (
        lambda b: _composition(b).update(status="done"),
        "entry.0.resource.status: the Composition status must be one of preliminary, final, amended, entered-in-error.",
    ),
}


@pytest.mark.parametrize("name", INVALID)
def test_an_invalid_document_is_refused_with_its_reason(name):
    mutate, reason = INVALID[name]
    with pytest.raises(BundleError) as refused:
        validate_bundle(_bad(mutate), HiType.PRESCRIPTION)
    assert any(error.startswith(reason) for error in refused.value.errors), refused.value.errors


@pytest.mark.parametrize("name", ["dangling_section_reference", "subject_is_not_a_patient", "no_bundle_identifier"])
def test_the_api_refuses_an_invalid_document_with_a_bundle_field_error(world, api_as, name):
    mutate, reason = INVALID[name]
    messages = _refused(api_as(world.staff_a).post(URL, _payload(world, _bad(mutate)), format="json"))
    assert any(message.startswith(reason) for message in messages), messages


@pytest.mark.parametrize("status", ["preliminary", "final", "amended", "entered-in-error"])
def test_each_allowed_composition_status_passes(status):
    validate_bundle(_bad(lambda b: _composition(b).update(status=status)), HiType.PRESCRIPTION)


def test_references_to_contained_resources_and_versioned_references_resolve():
    def mutate(bundle):
        request = bundle["entry"][3]["resource"]
        request["contained"] = [{"resourceType": "Medication", "id": "med", "code": {"text": "Paracetamol"}}]
        request.pop("medicationCodeableConcept", None)
        request["medicationReference"] = {"reference": "#med"}
        _composition(bundle)["subject"] = {"reference": "Patient/1/_history/1"}

    validate_bundle(_bad(mutate), HiType.PRESCRIPTION)


@pytest.mark.parametrize("path", sorted(DATA.glob("Bundle-*.json")), ids=lambda path: path.stem)
def test_each_real_abdm_sample_passes_unchanged_and_only_for_its_own_abha(db, path):
    """records/fixtures/fhir holds ABDM's seven samples as published (the same files as the shared reference data)."""
    bundle = json.loads(path.read_text())
    hi_type = path.stem.removeprefix("Bundle-")
    validate_bundle(copy.deepcopy(bundle), hi_type)
    validate_bundle(copy.deepcopy(bundle), hi_type, patient=AbhaAccountFactory(abha_number="22722548295255"))
    with pytest.raises(BundleError):
        validate_bundle(copy.deepcopy(bundle), hi_type, patient=AbhaAccountFactory())


def test_bundle_patient_errors_names_only_identifiers_of_someone_else(db):
    asha, bina = AbhaAccountFactory(), AbhaAccountFactory()
    own = bundle_for(HiType.PRESCRIPTION, patient=asha)
    assert bundle_patient_errors(own, asha) == []
    assert bundle_patient_errors(bundle_for(HiType.PRESCRIPTION), bina) == []  # no ABHA named: nothing to refuse
    assert bundle_patient_errors(own, bina) == [
        "entry.1.resource.identifier.0: this ABHA number is not the one of the patient the record is filed under."
    ]
