"""A VIEW consent never hands out the FHIR bundle, in the API as on the page: the API answers what the page shows
(the rendered summary) with `bundle: null`; only a STORE consent carries the bundle. Both reads are audited
(issue 15 #1: the API returned every record's complete bundle under VIEW)."""

import pytest

from core.models import AuditEvent
from core.tests.openapi import assert_documented
from records import services
from records.enums import HiType

from .factories import request_consent

pytestmark = pytest.mark.django_db

URL = "/api/v1/consents/artefacts/{uuid}/records/"


def _artefact_at_a(world, access_mode):
    consent_request = request_consent(
        doctor=world.doctor, patient=world.patient, hi_types=[HiType.PRESCRIPTION], access_mode=access_mode
    )
    _request, artefacts = services.consent_grant(actor=world.citizen, request_uuid=consent_request.uuid)
    return next(a for a in artefacts if a.source_facility_id == world.a.pk)


def _reads(artefact):
    return AuditEvent.objects.filter(action="records.read", details__artefact=str(artefact.uuid))


def test_a_view_only_consent_answers_the_summary_and_no_bundle(world, api_as):
    artefact = _artefact_at_a(world, "VIEW")
    response = api_as(world.doctor).get(URL.format(uuid=artefact.uuid))
    assert response.status_code == 200
    records = response.json()["records"]
    assert [r["uuid"] for r in records] == [str(world.records.a_rx.uuid)]
    assert records[0]["bundle"] is None
    assert records[0]["summary"]["title"] == "Prescription record" and records[0]["summary"]["sections"]
    # No trace of the bundle in any form: no FHIR resource, no fullUrl, no base64 attachment in the answer.
    text = response.content.decode()
    assert '"resourceType"' not in text and "fullUrl" not in text and '"entry"' not in text
    assert_documented(response, "GET", "/api/v1/consents/artefacts/{uuid}/records/")
    assert _reads(artefact).count() == 1  # the view is an audited read all the same


def test_a_store_consent_answers_the_bundle(world, api_as):
    artefact = _artefact_at_a(world, "STORE")
    response = api_as(world.doctor).get(URL.format(uuid=artefact.uuid))
    assert response.status_code == 200
    record = response.json()["records"][0]
    assert record["bundle"]["resourceType"] == "Bundle" and record["summary"]["title"] == "Prescription record"
    assert_documented(response, "GET", "/api/v1/consents/artefacts/{uuid}/records/")
    assert _reads(artefact).count() == 1


@pytest.mark.parametrize("who", ["colleague", "other_doctor", "staff_a", "citizen"])
def test_nobody_else_gets_even_the_summary_of_a_view_only_consent(world, api_as, who):
    artefact = _artefact_at_a(world, "VIEW")
    response = api_as(getattr(world, who)).get(URL.format(uuid=artefact.uuid))
    assert response.status_code in (403, 404) and "records" not in response.json()
    assert _reads(artefact).count() == 0


def test_the_schema_says_the_bundle_is_null_under_view(api_as, world):
    schema = api_as(world.doctor).get("/api/schema/", {"format": "json"}).json()
    bundle = schema["components"]["schemas"]["ConsentRecord"]["properties"]["bundle"]
    assert bundle["nullable"] is True and "VIEW" in bundle["description"]
    operation = schema["paths"]["/api/v1/consents/artefacts/{uuid}/records/"]["get"]
    assert "VIEW" in operation["description"]
