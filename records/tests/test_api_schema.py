"""The records and consent API answers what its OpenAPI schema says (found by `make fuzz`: the schema promised
plain arrays where the views answer envelopes, and a non-null `revoked_at` on active consents)."""

from core.tests.openapi import assert_documented

REQUESTS = "/api/v1/consents/requests/"


def test_record_reads_and_the_access_log_answer_their_documented_envelopes(world, api_as):
    staff_read = api_as(world.staff_a).get("/api/v1/records/", {"patient": world.patient.abha_number})
    assert staff_read.status_code == 200 and staff_read.json()["count"] == 3
    assert_documented(staff_read, "GET", "/api/v1/records/")
    own_read = api_as(world.citizen).get("/api/v1/records/")
    assert_documented(own_read, "GET", "/api/v1/records/")
    log = api_as(world.citizen).get("/api/v1/abha/me/access-log/")
    assert log.json()["count"] == 1
    assert_documented(log, "GET", "/api/v1/abha/me/access-log/")


def test_link_discovery_answers_its_documented_envelope(world, api_as):
    response = api_as(world.citizen).get("/api/v1/records/links/discover/", {"facility": world.a.facility_id})
    assert response.status_code == 200 and response.json()["facility"] == world.a.facility_id
    assert_documented(response, "GET", "/api/v1/records/links/discover/")


def test_consent_inbox_and_reads_under_consent_and_btg_match_the_schema(world, api_as):
    body = {
        "patient": world.patient.addresses.first().full,
        "purpose": "CAREMGT",
        "hi_types": ["Prescription"],
        "date_from": "2025-01-01",
        "date_to": "2025-03-31",
        "data_erase_at": "2030-01-01T00:00:00Z",
    }
    requested = api_as(world.doctor).post(REQUESTS, body, format="json").json()
    granted = api_as(world.citizen).post(f"{REQUESTS}{requested['uuid']}/grant/", {}, format="json")
    assert granted.json()["artefacts"][0]["revoked_at"] is None
    assert_documented(granted, "POST", "/api/v1/consents/requests/{uuid}/grant/")
    inbox = api_as(world.citizen).get(REQUESTS)
    assert_documented(inbox, "GET", "/api/v1/consents/requests/")

    artefact = granted.json()["artefacts"][0]["uuid"]
    read = api_as(world.doctor).get(f"/api/v1/consents/artefacts/{artefact}/records/")
    assert read.status_code == 200 and read.json()["count"] >= 1
    assert_documented(read, "GET", "/api/v1/consents/artefacts/{uuid}/records/")

    btg = api_as(world.doctor).post(
        "/api/v1/consents/btg/",
        {"patient": world.patient.abha_number, "reason": "Unconscious after road accident"},
        format="json",
    )
    emergency_read = api_as(world.doctor).get(f"/api/v1/consents/btg/{btg.json()['uuid']}/records/")
    assert emergency_read.status_code == 200
    assert_documented(emergency_read, "GET", "/api/v1/consents/btg/{uuid}/records/")


def test_a_consent_conflict_is_a_documented_409(world, api_as):
    body = {
        "patient": world.patient.addresses.first().full,
        "purpose": "CAREMGT",
        "hi_types": ["Prescription"],
        "date_from": "2025-01-01",
        "date_to": "2025-03-31",
        "data_erase_at": "2030-01-01T00:00:00Z",
    }
    requested = api_as(world.doctor).post(REQUESTS, body, format="json").json()
    api_as(world.citizen).post(f"{REQUESTS}{requested['uuid']}/deny/")
    again = api_as(world.citizen).post(f"{REQUESTS}{requested['uuid']}/grant/", {}, format="json")
    assert again.status_code == 409
    assert_documented(again, "POST", "/api/v1/consents/requests/{uuid}/grant/")


def test_the_linking_review_list_answers_its_documented_envelope(world, api_as):
    response = api_as(world.staff_a).get("/api/v1/linking-reviews/")
    assert response.status_code == 200 and response.json() == {"count": 0, "results": []}
    assert_documented(response, "GET", "/api/v1/linking-reviews/")
