"""Reading an artefact's records runs a fixed number of SQL queries, whatever the record count."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from records.enums import AccessMode, HiType
from records.fhir import summarize, validate_bundle
from records.models import CareContext, HealthRecord

from .factories import bundle_for, request_consent

pytestmark = pytest.mark.django_db


def _bulk_records(world, count: int, *, stored: bool = True):
    """`count` prescriptions at facility A in Feb 2025 (bulk, for speed; the services are tested elsewhere); not
    `stored`: without a bundle, as a linking job files a row without one (its index document is built on read)."""
    bundle = bundle_for(HiType.PRESCRIPTION) if stored else None
    summary = summarize(bundle) if stored else None
    contexts = CareContext.objects.bulk_create(
        CareContext(
            facility=world.a, patient=world.patient, reference=f"BULK-{n}", display="OPD", date=dt.date(2025, 2, 1)
        )
        for n in range(count)
    )
    HealthRecord.objects.bulk_create(
        HealthRecord(
            care_context=context,
            facility=world.a,
            patient=world.patient,
            hi_type=HiType.PRESCRIPTION,
            record_key=f"bulk-{n}",
            record_date=context.date,
            title="Prescription record",
            bundle=bundle,
            summary=summary,
            bundle_sha256=str(n) if stored else "",
        )
        for n, context in enumerate(contexts)
    )


def _granted_artefact(world, frequency_repeats=0, **kwargs):
    from records.services import consent_grant

    consent_request = request_consent(
        doctor=world.doctor,
        patient=world.patient,
        hi_types=[HiType.PRESCRIPTION],
        frequency_repeats=frequency_repeats,
        **kwargs,
    )
    _request, artefacts = consent_grant(
        actor=world.citizen, request_uuid=consent_request.uuid, facility_ids=[world.a.facility_id]
    )
    return artefacts[0]


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.json()
    return len(queries), response.json()["count"]


@pytest.mark.parametrize("frequency_repeats", [0, 50])
def test_reading_1_or_100_records_runs_the_same_number_of_queries(world, api_as, frequency_repeats):
    artefact = _granted_artefact(world, frequency_repeats)
    client = api_as(world.doctor)
    url = f"/api/v1/consents/artefacts/{artefact.uuid}/records/"
    few_queries, few = _count_queries(client, url)
    _bulk_records(world, 99)
    many_queries, many = _count_queries(client, url)
    assert (few, many) == (1, 100)
    assert few_queries == many_queries


def test_reading_an_artefact_pins_its_query_count(world, api_as, django_assert_num_queries):
    artefact = _granted_artefact(world)
    _bulk_records(world, 99)
    client = api_as(world.doctor)
    url = f"/api/v1/consents/artefacts/{artefact.uuid}/records/"
    # token + user, savepoint, artefact, membership, records, audit insert, savepoint release
    with django_assert_num_queries(7):
        assert client.get(url).json()["count"] == 100


def test_records_stored_without_a_bundle_are_read_with_their_index_document_in_the_same_queries(
    world, api_as, django_assert_num_queries
):
    artefact = _granted_artefact(world, access_mode=AccessMode.STORE)  # the bundles too
    _bulk_records(world, 30, stored=False)
    assert HealthRecord.objects.filter(bundle__isnull=True, summary__isnull=True).count() == 30
    client = api_as(world.doctor)
    url = f"/api/v1/consents/artefacts/{artefact.uuid}/records/"
    with django_assert_num_queries(7):  # as with stored bundles: the patient and facility come in the same query
        body = client.get(url).json()
    built = {str(uuid) for uuid in HealthRecord.objects.filter(bundle__isnull=True).values_list("uuid", flat=True)}
    assert body["count"] == 31  # and the world's own record
    assert built <= {record["uuid"] for record in body["records"]}
    for record in (record for record in body["records"] if record["uuid"] in built):
        assert record["summary"]["custodian"].startswith(world.a.name)
        assert record["summary"]["patient_name"] == world.patient.full_name
        assert record["bundle"]["id"] == record["uuid"]
        validate_bundle(record["bundle"], HiType.PRESCRIPTION, patient=world.patient)


def test_request_list_query_count_does_not_grow_with_requests(world, api_as):
    client = api_as(world.doctor)
    request_consent(doctor=world.doctor, patient=world.patient)
    one, _count = _count_list(client)
    for _ in range(5):
        request_consent(doctor=world.doctor, patient=world.patient)
    assert _count_list(client)[0] == one


def _count_list(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/consents/requests/")
    assert response.status_code == 200
    return len(queries), response.json()["count"]
