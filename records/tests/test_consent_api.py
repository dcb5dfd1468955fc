"""The consent lifecycle through the API: request, grant (narrowing), deny, revoke, read, expiry, BTG."""

import datetime as dt

import pytest
from django.utils import timezone

from core.tests.factories import StateOfficialFactory
from core.tests.sms_backends import gateway_down
from records.enums import HiType
from records.models import ConsentArtefact, ConsentRequest, Notification
from records.services import consents_expire

REQUESTS = "/api/v1/consents/requests/"


def _request_body(world, **extra):
    return {
        "patient": world.patient.addresses.first().full,
        "purpose": "CAREMGT",
        "hi_types": ["Prescription", "DiagnosticReport"],
        "date_from": "2025-01-01",
        "date_to": "2025-03-31",
        "data_erase_at": (timezone.now() + dt.timedelta(days=30)).isoformat(),
        **extra,
    }


@pytest.fixture
def requested(world, api_as):
    response = api_as(world.doctor).post(REQUESTS, _request_body(world), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


@pytest.fixture
def granted(world, api_as, requested):
    """Granted narrowed to prescriptions from facility A in Feb 2025."""
    body = {"hi_types": ["Prescription"], "date_from": "2025-02-01", "date_to": "2025-02-28"}
    body["facilities"] = [world.a.facility_id]
    response = api_as(world.citizen).post(f"{REQUESTS}{requested['uuid']}/grant/", body, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def _records_url(artefact_uuid):
    return f"/api/v1/consents/artefacts/{artefact_uuid}/records/"


# --- Requests ---------------------------------------------------------------------------


def test_doctor_requests_consent(world, requested):
    assert requested["status"] == "REQUESTED" and requested["artefacts"] == []
    assert requested["requester_facility"] == world.c.facility_id
    assert requested["frequency"] == {"unit": "HOUR", "value": 1, "repeats": 0}


@pytest.mark.parametrize(
    "change, field",
    [
        ({"date_from": "2025-04-01"}, "date_to"),
        ({"data_erase_at": "2020-01-01T00:00:00Z"}, "data_erase_at"),
        ({"purpose": "SHOPPING"}, "purpose"),
        ({"hi_types": ["Xray"]}, "hi_types"),
        ({"hi_types": []}, "hi_types"),
        ({"frequency": {"unit": "HOUR", "value": 0, "repeats": 0}}, "frequency"),
        ({"frequency": {"unit": "HOUR", "value": 1, "repeats": -1}}, "frequency"),
        ({"frequency": {"unit": "FORTNIGHT", "value": 1}}, "frequency"),
        ({"patient": "nobody.here@sbx"}, "patient"),
    ],
)
def test_invalid_requests_are_refused_with_the_field(world, api_as, change, field):
    response = api_as(world.doctor).post(REQUESTS, _request_body(world, **change), format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["error"]["fields"]


@pytest.mark.parametrize("who", ["staff_a", "citizen", "other_citizen"])
def test_only_doctors_request_consent(world, api_as, who):
    response = api_as(getattr(world, who)).post(REQUESTS, _request_body(world), format="json")
    assert response.status_code == 403


def test_anonymous_gets_401_on_every_consent_endpoint(world, api_client, granted):
    artefact = granted["artefacts"][0]["uuid"]
    for method, url in [
        ("get", REQUESTS),
        ("post", REQUESTS),
        ("post", f"{REQUESTS}{granted['uuid']}/grant/"),
        ("post", f"{REQUESTS}{granted['uuid']}/deny/"),
        ("post", f"/api/v1/consents/artefacts/{artefact}/revoke/"),
        ("get", _records_url(artefact)),
        ("post", "/api/v1/consents/btg/"),
        ("get", "/api/v1/abha/me/access-log/"),
    ]:
        assert getattr(api_client, method)(url).status_code == 401, url


def test_request_lists_are_scoped_to_the_caller(world, api_as, requested):
    def uuids(user):
        return [r["uuid"] for r in api_as(user).get(REQUESTS).json()["results"]]

    assert uuids(world.citizen) == [requested["uuid"]]
    assert uuids(world.doctor) == [requested["uuid"]]
    for outsider in (world.other_citizen, world.other_doctor, world.staff_a, world.colleague):
        assert uuids(outsider) == []


# --- Grant / deny -----------------------------------------------------------------------


def test_citizen_narrows_and_grants_one_artefact_per_chosen_facility(world, granted, sms_outbox):
    assert granted["status"] == "GRANTED"
    [artefact] = granted["artefacts"]
    assert artefact["facility"] == world.a.facility_id and artefact["status"] == "GRANTED"
    assert artefact["hi_types"] == ["Prescription"]
    assert (artefact["date_from"], artefact["date_to"]) == ("2025-02-01", "2025-02-28")
    assert Notification.objects.filter(user=world.doctor, event="GRANTED").count() == 1


def test_granting_without_narrowing_covers_every_facility_holding_records(world, api_as, requested):
    response = api_as(world.citizen).post(f"{REQUESTS}{requested['uuid']}/grant/", {}, format="json")
    assert response.status_code == 200
    assert {a["facility"] for a in response.json()["artefacts"]} == {world.a.facility_id, world.b.facility_id}


def test_the_requester_is_told_by_sms(world, api_as, requested, sms_outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        api_as(world.citizen).post(f"{REQUESTS}{requested['uuid']}/deny/", format="json")
    assert [m["to"] for m in sms_outbox] == [world.doctor.mobile]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"hi_types": ["Prescription", "WellnessRecord"]}, "hi_types"),
        ({"date_from": "2024-12-01"}, "date_from"),
        ({"date_to": "2025-04-30"}, "date_to"),
        ({"data_erase_at": "2099-01-01T00:00:00Z"}, "data_erase_at"),
        ({"data_erase_at": "2020-01-01T00:00:00Z"}, "data_erase_at"),
        ({"facilities": ["IN2499999999"]}, "facilities"),
    ],
)
def test_a_grant_cannot_widen_the_request(world, api_as, requested, body, field):
    response = api_as(world.citizen).post(f"{REQUESTS}{requested['uuid']}/grant/", body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["error"]["fields"]
    assert ConsentRequest.objects.get(uuid=requested["uuid"]).status == "REQUESTED"


@pytest.mark.parametrize("action", ["grant", "deny"])
def test_only_the_patient_answers(world, api_as, requested, action):
    url = f"{REQUESTS}{requested['uuid']}/{action}/"
    assert api_as(world.doctor).post(url, {}, format="json").status_code == 403  # not their own request
    assert api_as(world.colleague).post(url, {}, format="json").status_code == 404
    assert api_as(world.other_citizen).post(url, {}, format="json").status_code == 404
    assert api_as(world.staff_a).post(url, {}, format="json").status_code == 404
    assert ConsentRequest.objects.get(uuid=requested["uuid"]).status == "REQUESTED"


def test_answering_twice_is_a_conflict(world, api_as, granted):
    client = api_as(world.citizen)
    assert client.post(f"{REQUESTS}{granted['uuid']}/grant/", {}, format="json").status_code == 409
    assert client.post(f"{REQUESTS}{granted['uuid']}/deny/", {}, format="json").status_code == 409


def test_a_denied_request_cannot_be_granted(world, api_as, requested):
    client = api_as(world.citizen)
    assert client.post(f"{REQUESTS}{requested['uuid']}/deny/").json()["status"] == "DENIED"
    assert client.post(f"{REQUESTS}{requested['uuid']}/grant/", {}, format="json").status_code == 409


def test_an_unanswered_request_expires(world, api_as, requested):
    ConsentRequest.objects.filter(uuid=requested["uuid"]).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = api_as(world.citizen).post(f"{REQUESTS}{requested['uuid']}/grant/", {}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "request_expired"
    assert consents_expire() == {"requests": 1, "artefacts": 0}
    assert ConsentRequest.objects.get(uuid=requested["uuid"]).status == "EXPIRED"
    assert consents_expire() == {"requests": 0, "artefacts": 0}  # idempotent


def test_request_ttl_follows_the_setting(world, api_as, settings):
    settings.CONSENT_REQUEST_TTL_HOURS = 2
    body = api_as(world.doctor).post(REQUESTS, _request_body(world), format="json").json()
    request = ConsentRequest.objects.get(uuid=body["uuid"])
    assert dt.timedelta(hours=1, minutes=59) < request.expires_at - request.created_at <= dt.timedelta(hours=2)


# --- Reading under consent --------------------------------------------------------------


def test_doctor_reads_only_what_was_granted(world, api_as, granted):
    response = api_as(world.doctor).get(_records_url(granted["artefacts"][0]["uuid"]))
    assert response.status_code == 200, response.json()
    records = response.json()["records"]
    # a_lab (type not granted), a_old (before the range) and B's records (facility not chosen) stay hidden.
    assert [r["uuid"] for r in records] == [str(world.records.a_rx.uuid)]
    assert records[0]["summary"]["title"] == "Prescription record"
    assert records[0]["bundle"] is None  # a VIEW consent (the default) shows, it does not hand out copies


@pytest.mark.parametrize(
    "who, status, code",
    [
        ("other_doctor", 404, "not_found"),
        ("colleague", 404, "not_found"),  # same facility, not the requester: no reuse
        ("citizen", 403, "permission_denied"),
        ("other_citizen", 404, "not_found"),
        ("staff_a", 403, "permission_denied"),  # the source facility sees the artefact, not through it
        ("staff_b", 404, "not_found"),
        ("official", 404, "not_found"),
    ],
)
def test_nobody_else_reads_through_an_artefact(world, api_as, granted, who, status, code):
    user = StateOfficialFactory() if who == "official" else getattr(world, who)
    response = api_as(user).get(_records_url(granted["artefacts"][0]["uuid"]))
    assert response.status_code == status and response.json()["error"]["code"] == code


def test_a_doctor_who_left_the_facility_cannot_read(world, api_as, granted):
    world.doctor.memberships.all().delete()
    response = api_as(world.doctor).get(_records_url(granted["artefacts"][0]["uuid"]))
    assert response.status_code == 403


def test_revoked_artefact_is_refused_at_once(world, api_as, granted):
    artefact = granted["artefacts"][0]["uuid"]
    assert api_as(world.doctor).post(f"/api/v1/consents/artefacts/{artefact}/revoke/").status_code == 403
    assert api_as(world.other_citizen).post(f"/api/v1/consents/artefacts/{artefact}/revoke/").status_code == 404
    response = api_as(world.citizen).post(f"/api/v1/consents/artefacts/{artefact}/revoke/")
    assert response.status_code == 200 and response.json()["status"] == "REVOKED"
    read = api_as(world.doctor).get(_records_url(artefact))
    assert read.status_code == 403 and read.json()["error"]["code"] == "consent_inactive"
    assert api_as(world.citizen).post(f"/api/v1/consents/artefacts/{artefact}/revoke/").status_code == 409
    assert Notification.objects.filter(user=world.doctor, event="REVOKED").exists()


def test_expired_artefact_is_refused_without_waiting_for_the_beat_task(world, api_as, granted):
    artefact = granted["artefacts"][0]["uuid"]
    ConsentArtefact.objects.filter(uuid=artefact).update(data_erase_at=timezone.now() - dt.timedelta(seconds=1))
    read = api_as(world.doctor).get(_records_url(artefact))
    assert read.status_code == 403 and read.json()["error"]["code"] == "consent_inactive"
    assert ConsentArtefact.objects.get(uuid=artefact).status == "GRANTED"  # the task has not run
    assert consents_expire()["artefacts"] == 1
    assert ConsentArtefact.objects.get(uuid=artefact).status == "EXPIRED"


def test_a_denied_or_pending_request_has_no_artefact_to_read(world, api_as, requested):
    assert ConsentArtefact.objects.count() == 0


def test_frequency_limit_is_enforced(world, api_as):
    body = _request_body(world, frequency={"unit": "DAY", "value": 1, "repeats": 2})
    requested = api_as(world.doctor).post(REQUESTS, body, format="json").json()
    granted = api_as(world.citizen).post(f"{REQUESTS}{requested['uuid']}/grant/", {}, format="json").json()
    url = _records_url(granted["artefacts"][0]["uuid"])
    client = api_as(world.doctor)
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 429]


# --- Access log -------------------------------------------------------------------------


def test_every_read_shows_in_the_citizens_access_log(world, api_as, granted):
    artefact = granted["artefacts"][0]["uuid"]
    api_as(world.doctor).get(_records_url(artefact))
    api_as(world.staff_b).get("/api/v1/records/", {"patient": world.patient.abha_number})
    api_as(world.citizen).get("/api/v1/records/")  # the citizen's own read is not "someone else"
    log = api_as(world.citizen).get("/api/v1/abha/me/access-log/").json()["results"]
    assert [(e["basis"], e["facility"]) for e in log] == [
        ("facility", world.b.facility_id),
        ("consent", world.c.facility_id),
    ]
    assert log[1]["records"] == [str(world.records.a_rx.uuid)] and log[1]["artefact"] == artefact
    assert log[1]["name"] == "Anjali Mehta" and log[1]["hi_types"] == ["Prescription"]
    assert api_as(world.other_citizen).get("/api/v1/abha/me/access-log/").json()["results"] == []
    assert api_as(world.doctor).get("/api/v1/abha/me/access-log/").status_code == 403


# --- Break the glass --------------------------------------------------------------------


def test_break_the_glass_needs_a_reason_is_short_and_flagged(world, api_as, settings):
    client = api_as(world.doctor)
    patient = world.patient.abha_number
    response = client.post("/api/v1/consents/btg/", {"patient": patient, "reason": ""}, format="json")
    assert response.status_code == 400 and "reason" in response.json()["error"]["fields"]
    response = client.post(
        "/api/v1/consents/btg/", {"patient": patient, "reason": "Unconscious after road accident"}, format="json"
    )
    assert response.status_code == 201
    grant = response.json()
    read = client.get(f"/api/v1/consents/btg/{grant['uuid']}/records/")
    assert read.status_code == 200 and read.json()["count"] == 5
    assert api_as(world.other_doctor).get(f"/api/v1/consents/btg/{grant['uuid']}/records/").status_code == 404
    log = api_as(world.citizen).get("/api/v1/abha/me/access-log/").json()["results"]
    assert [(e["action"], e["emergency"]) for e in log] == [("records.read", True), ("records.btg_grant", True)]
    from records.models import BreakGlassGrant

    BreakGlassGrant.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    refused = client.get(f"/api/v1/consents/btg/{grant['uuid']}/records/")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "consent_inactive"


@pytest.mark.parametrize("who", ["staff_a", "citizen"])
def test_only_doctors_break_the_glass(world, api_as, who):
    body = {"patient": world.patient.abha_number, "reason": "Unconscious after road accident"}
    assert api_as(getattr(world, who)).post("/api/v1/consents/btg/", body, format="json").status_code == 403


def test_the_schema_builds(api_as, world):
    assert api_as(world.doctor).get("/api/schema/").status_code == 200


def test_widening_hi_types_never_creates_wider_artefacts(world, api_as, requested):
    api_as(world.citizen).post(
        f"{REQUESTS}{requested['uuid']}/grant/", {"hi_types": [HiType.PRESCRIPTION]}, format="json"
    )
    assert {tuple(a.hi_types) for a in ConsentArtefact.objects.all()} == {("Prescription",)}


def test_a_verified_doctors_registry_id_goes_with_the_request(world, api_as):
    from facilities.enums import FacilityStatus
    from facilities.tests.factories import ProfessionalFactory

    ProfessionalFactory(user=world.doctor, status=FacilityStatus.VERIFIED, hpr_id="71123456789012")
    body = api_as(world.doctor).post(REQUESTS, _request_body(world), format="json").json()
    assert body["requester_hpr_id"] == "71123456789012"
    inbox = api_as(world.citizen).get(REQUESTS).json()["results"]
    assert inbox[0]["requester_hpr_id"] == "71123456789012"
    other = api_as(world.other_doctor).post(REQUESTS, _request_body(world), format="json").json()
    assert other["requester_hpr_id"] == ""


def test_emergency_access_lasts_as_configured(world, api_as, settings):
    settings.BTG_ACCESS_MINUTES = 15
    body = {"patient": world.patient.abha_number, "reason": "Unconscious after road accident"}
    grant = api_as(world.doctor).post("/api/v1/consents/btg/", body, format="json").json()
    from records.models import BreakGlassGrant

    saved = BreakGlassGrant.objects.get(uuid=grant["uuid"])
    assert dt.timedelta(minutes=14) < saved.expires_at - saved.created_at <= dt.timedelta(minutes=15)


def test_facilities_without_matching_records_get_no_artefact(world, api_as):
    body = _request_body(world, hi_types=["DiagnosticReport"])
    requested = api_as(world.doctor).post(REQUESTS, body, format="json").json()
    granted = api_as(world.citizen).post(f"{REQUESTS}{requested['uuid']}/grant/", {}, format="json").json()
    assert [a["facility"] for a in granted["artefacts"]] == [world.a.facility_id]  # B holds no reports
    refused = api_as(world.citizen).post(
        f"{REQUESTS}{requested['uuid']}/grant/", {"facilities": [world.b.facility_id]}, format="json"
    )
    assert refused.status_code == 409  # already granted


def test_an_sms_gateway_down_after_commit_still_answers_and_keeps_the_answer(
    world, api_as, requested, settings, monkeypatch, django_capture_on_commit_callbacks
):
    retries = gateway_down(settings, monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(world.citizen).post(f"{REQUESTS}{requested['uuid']}/deny/", format="json")
    assert response.status_code == 200
    assert ConsentRequest.objects.get(uuid=requested["uuid"]).status == "DENIED"
    assert [retry["to"] for retry in retries] == [world.doctor.mobile]
