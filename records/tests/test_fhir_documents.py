"""The documents the portal writes itself are NRCES document bundles (issue 15, item 15), and the hiTypes NRCES
names by text only, Invoice and Wellness Record, are accepted that way (item 16)."""

import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from abha.identifiers import abha_number_display
from abha.tests.factories import AbhaAccountFactory
from records.enums import COMPOSITION_PROFILES, HiType
from records.fhir import (
    BundleError,
    bundle_sha256,
    composition_hi_type,
    document_bundle,
    facility_system,
    index_bundle,
    summarize,
    validate_bundle,
)
from records.linking import rows
from records.linking.documents import escaped, index_document
from records.models import HealthRecord

from .factories import bundle_for

NRCES = "https://nrces.in/ndhm/fhir/r4/StructureDefinition/"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _resources(bundle: dict) -> dict[str, dict]:
    return {entry["resource"]["resourceType"]: entry["resource"] for entry in bundle["entry"]}


def _assert_nrces_document(bundle: dict, *, hi_type: str, abha_number: str, facility_id: str, base_url: str):
    resources = _resources(bundle)
    composition, patient, organization = resources["Composition"], resources["Patient"], resources["Organization"]
    assert bundle["meta"]["profile"] == [NRCES + "DocumentBundle"]
    assert composition["meta"]["profile"] == [COMPOSITION_PROFILES[hi_type]]
    assert patient["meta"]["profile"] == [NRCES + "Patient"]
    assert organization["meta"]["profile"] == [NRCES + "Organization"]
    assert patient["identifier"] == [
        {
            "type": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                        "code": "MR",
                        "display": "Medical record number",
                    }
                ]
            },
            "system": "https://healthid.ndhm.gov.in",
            "value": abha_number_display(abha_number),
        }
    ]
    assert bundle["identifier"]["system"] == facility_system(facility_id)
    assert bundle["identifier"]["system"].startswith(base_url.rstrip("/") + "/")
    assert facility_id in bundle["identifier"]["system"]
    assert composition["author"] == [{"reference": "Organization/1"}]
    assert composition["custodian"] == {"reference": "Organization/1"}
    assert organization["identifier"][0]["system"] == "https://facility.ndhm.gov.in"
    assert organization["identifier"][0]["value"] == facility_id
    assert bundle["entry"][0]["resource"] is composition


@pytest.mark.parametrize("hi_type", HiType.values)
def test_a_generated_pdf_document_is_an_nrces_bundle_that_passes_the_portals_validation(db, settings, hi_type):
    settings.PORTAL_BASE_URL = "https://abdm.gujarat.example/"
    patient = AbhaAccountFactory()
    bundle = document_bundle(
        hi_type=hi_type,
        title="Scanned report",
        date="2025-02-03",
        content_type="application/pdf",
        data=PDF,
        patient_abha=patient.abha_number,  # given as 14 digits, written hyphenated
        patient_name="Asha Patel",
        facility_id="IN2410000123",
        facility_name="Sir T General Hospital",
    )
    _assert_nrces_document(
        bundle,
        hi_type=hi_type,
        abha_number=patient.abha_number,
        facility_id="IN2410000123",
        base_url=settings.PORTAL_BASE_URL,
    )
    assert _resources(bundle)["DocumentReference"]["meta"]["profile"] == [NRCES + "DocumentReference"]
    validate_bundle(bundle, hi_type, patient=patient)
    assert summarize(bundle)["authors"] == ["Sir T General Hospital"]  # the facility, not the patient


@pytest.mark.parametrize("hi_type", HiType.values)
def test_a_generated_index_document_is_an_nrces_bundle_that_passes_the_portals_validation(db, hi_type, settings):
    patient = AbhaAccountFactory()
    bundle = index_bundle(
        bundle_id="0123abcd",
        hi_type=hi_type,
        title="OPD visit, 03 Feb 2025",
        date="2025-02-03",
        patient_abha=abha_number_display(patient.abha_number),
        patient_name="Asha Patel",
        custodian="Sir T General Hospital (IN2410000123)",
        facility_id="IN2410000123",
    )
    _assert_nrces_document(
        bundle,
        hi_type=hi_type,
        abha_number=patient.abha_number,
        facility_id="IN2410000123",
        base_url=settings.PORTAL_BASE_URL,
    )
    validate_bundle(bundle, hi_type, patient=patient)


@pytest.mark.parametrize("abha", ["91-1234-5678-9012", "91123456789012", ""])
def test_index_documents_with_a_facility_are_exactly_the_canonical_bundle(abha):
    values = {
        "bundle_id": "abc123",
        "hi_type": HiType.INVOICE,
        "title": 'Bill {1} "paid"\\',
        "date": "2025-10-03",
        "patient_abha": abha,
        "patient_name": "Asha",
        "facility_id": "IN2410000001",
    }
    text, summary, sha = index_document(**values, custodian=escaped("Sir T. Hospital (IN2410000001)"))
    bundle = index_bundle(**values, custodian="Sir T. Hospital (IN2410000001)")
    assert json.loads(text) == bundle
    assert sha == bundle_sha256(bundle)
    assert json.loads(summary) == summarize(bundle)


def test_a_pdf_uploaded_on_the_record_page_is_filed_as_the_facilitys_nrces_document(world, client, settings):
    client.force_login(world.staff_a)
    data = {
        "facility": world.a.pk,
        "patient": world.patient.abha_number,
        "reference": "INV-1",
        "display": "Pharmacy bill",
        "date": "2025-02-03",
        "hi_type": HiType.INVOICE,
        "document": SimpleUploadedFile("bill.pdf", PDF, content_type="application/pdf"),
    }
    assert client.post(reverse("records:record_add"), data).status_code == 302
    record = HealthRecord.objects.get(care_context__reference="INV-1")
    assert record.hi_type == HiType.INVOICE
    _assert_nrces_document(
        record.bundle,
        hi_type=HiType.INVOICE,
        abha_number=world.patient.abha_number,
        facility_id=world.a.facility_id,
        base_url=settings.PORTAL_BASE_URL,
    )
    assert _resources(record.bundle)["Organization"]["name"] == world.a.name


# --- 16. Invoice, and the kinds NRCES names by text ------------------------------------------------------------


def _text_only(hi_type: str, text: str) -> dict:
    bundle = bundle_for(HiType.WELLNESS_RECORD)
    composition = bundle["entry"][0]["resource"]
    composition["type"] = {"text": text}
    composition["meta"]["profile"] = [COMPOSITION_PROFILES[hi_type]]
    return bundle


def _post(world, api_as, hi_type, bundle):
    payload = {
        "facility": world.a.facility_id,
        "abha_number": world.patient.abha_number,
        "care_context": {"reference": f"TXT-{hi_type}", "display": "Visit", "date": "2025-02-03"},
        "hi_type": hi_type,
        "bundle": bundle,
    }
    return api_as(world.staff_a).post("/api/v1/records/", payload, format="json")


@pytest.mark.parametrize(
    ("hi_type", "text"), [(HiType.WELLNESS_RECORD, "Wellness Record"), (HiType.INVOICE, "Invoice Record")]
)
def test_a_composition_typed_by_nrces_text_alone_is_accepted(world, api_as, hi_type, text):
    response = _post(world, api_as, hi_type, _text_only(hi_type, text))
    assert response.status_code == 201, response.json()
    assert response.json()["hi_type"] == hi_type


def test_the_type_text_must_be_the_hi_types_own():
    with pytest.raises(BundleError) as refused:
        validate_bundle(_text_only(HiType.WELLNESS_RECORD, "Invoice Record"), HiType.WELLNESS_RECORD)
    assert refused.value.errors == [
        'entry.0.resource.type: the Composition type code must be WellnessRecord (or the text "Wellness Record") '
        "for WellnessRecord."
    ]
    with pytest.raises(BundleError):
        validate_bundle(bundle_for(HiType.PRESCRIPTION), HiType.INVOICE)


def test_a_text_only_type_names_its_hi_type_in_an_ndjson_line():
    bundle = _text_only(HiType.INVOICE, "invoice  record")
    assert composition_hi_type(bundle["entry"][0]["resource"]) == HiType.INVOICE
    row = rows.ndjson_row(1, json.dumps(bundle), today=dt.date(2026, 1, 1))
    assert row.hi_type == HiType.INVOICE
