"""A facility's ID is its HFR ID, checked against HFR; verification makes it an HIP service of the bridge on ABDM
through the outbox; suspension deactivates it. Against the local ABDM sandbox over HTTP, with a real Celery worker
for the outbox; outages by stopping a private sandbox."""

import time

import pytest
from django.core.cache import cache

from abdm import bridge_services
from abdm.client import forget_session_token
from abdm.enums import OutboxStatus
from abdm.models import OutboxMessage
from conftest import start_celery_worker, stop_celery_worker
from core.models import AuditEvent
from facilities import services
from facilities.enums import FacilityStatus
from facilities.models import Facility, Professional
from facilities.tests.factories import FacilityFactory, MembershipFactory, ProfessionalFactory

URL = "/api/v1/facilities/"


def point_at(settings, sandbox_url: str) -> dict:
    """The portal (this process) talks to `sandbox_url`; returns the same settings for a worker's environment."""
    values = {
        "ABDM_GATEWAY_URL": sandbox_url,
        "ABDM_ABHA_URL": sandbox_url + "/abha/api",
        "ABDM_HFR_URL": sandbox_url + "/v4/int",
    }
    for name, value in values.items():
        setattr(settings, name, value)
    cache.clear()
    forget_session_token()
    return {**values, "ABDM_SANDBOX_URL": sandbox_url}


# --- Registration: the HFR ID is checked against HFR -----------------------------------------------------------


@pytest.mark.django_db
def test_hfr_id_that_hfr_has_under_the_same_name_and_district_is_kept(people, api_as, draft_data):
    typed = {
        **draft_data,
        "facility_id": " " + draft_data["facility_id"].lower(),
        "name": "ghogha road  MATERNITY home",
    }
    response = api_as(people["staff"]).post(URL, typed, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["facility_id"] == draft_data["facility_id"]


@pytest.mark.django_db
def test_unknown_hfr_id_is_a_field_error(people, api_as, draft_data):
    response = api_as(people["staff"]).post(URL, {**draft_data, "facility_id": "IN2499999990"}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "hfr_unknown" and "HFR has no facility with this ID" in error["fields"]["facility_id"][0]
    assert not Facility.objects.filter(name=draft_data["name"]).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change, field, says",
    [
        ({"name": "Ghogha Road Eye Hospital"}, "name", "under the name “Ghogha Road Maternity Home”"),
        ({"district_lgd": 438, "state_lgd": 24}, "district", "in the district Bhavnagar"),
    ],
)
def test_a_mismatch_with_hfr_says_which_field_differs(people, api_as, draft_data, change, field, says):
    response = api_as(people["staff"]).post(URL, {**draft_data, **change}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "hfr_mismatch"
    assert list(error["fields"]) == [field] and says in error["fields"][field][0]


@pytest.mark.django_db
def test_an_hfr_id_is_registered_once(people, api_as, draft_data):
    FacilityFactory(facility_id=draft_data["facility_id"], name=draft_data["name"])
    response = api_as(people["staff"]).post(URL, draft_data, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "hfr_id_taken"


@pytest.mark.django_db
def test_wizard_keeps_the_input_and_marks_the_field_on_a_mismatch(client, people, on_hfr):
    hfr_id = on_hfr("Sihor Maternity Home")
    client.force_login(people["staff"])
    data = {"facility_id": hfr_id, "name": "Sihor Eye Clinic", "beds": "4", "systems_of_medicine": ["modern"]}
    page = client.post("/facilities/register/", data)
    text = page.content.decode()
    assert page.status_code == 200
    assert "HFR has this facility under the name “Sihor Maternity Home”" in text
    assert f'value="{hfr_id}"' in text and 'value="Sihor Eye Clinic"' in text  # nothing typed is lost
    assert not Facility.objects.filter(name="Sihor Eye Clinic").exists()


@pytest.mark.django_db
def test_a_facility_not_on_hfr_stays_a_draft_with_the_steps_to_register(client, people, api_as, draft_data):
    without_id = {**draft_data, "facility_id": ""}
    created = api_as(people["staff"]).post(URL, without_id, format="json")
    assert created.status_code == 201 and created.json()["facility_id"] == ""
    facility = Facility.objects.get(uuid=created.json()["uuid"])
    refused = api_as(people["staff"]).post(f"{URL}{facility.uuid}/submit/", {}, format="json")
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "hfr_id_missing" and "facility_id" in refused.json()["error"]["fields"]
    facility.refresh_from_db()
    assert facility.status == FacilityStatus.DRAFT

    client.force_login(people["staff"])
    detail = client.get(f"/facilities/{facility.uuid}/").content.decode()
    assert "Not on HFR yet." in detail and "/facilities/hfr/" in detail
    steps = client.get("/facilities/hfr/").content.decode()
    assert "facility.abdm.gov.in" in steps and f"/facilities/{facility.uuid}/edit/basic/" in steps
    review = client.post(f"/facilities/{facility.uuid}/review/", {}).content.decode()
    assert "A facility needs its HFR ID before it is submitted." in review

    # Registered on HFR since: the manager enters the ID, and it goes on.
    entered = api_as(people["staff"]).patch(
        f"{URL}{facility.uuid}/", {"facility_id": draft_data["facility_id"]}, format="json"
    )
    assert entered.status_code == 200, entered.json()
    submitted = api_as(people["staff"]).post(f"{URL}{facility.uuid}/submit/", {}, format="json")
    assert submitted.json()["status"] == "submitted"


@pytest.mark.django_db
def test_the_wizard_saves_a_draft_without_an_hfr_id(client, people):
    # Left empty on the page (not on HFR yet): a draft, never the database's "Constraint ... is violated".
    client.force_login(people["staff"])
    empty = client.post("/facilities/register/", {"facility_id": " ", "name": ""}).content.decode()
    assert "Constraint" not in empty and "This field is required." in empty
    assert "---------" not in empty and "Choose one" in empty  # the drop-downs' empty choice, in words
    saved = client.post("/facilities/register/", {"facility_id": "", "name": "Mahuva Eye Clinic", "beds": "0"})
    facility = Facility.objects.get(name="Mahuva Eye Clinic")
    assert saved.status_code == 302 and facility.facility_id is None and facility.status == FacilityStatus.DRAFT


def test_hfr_steps_page_is_public(client, db):
    page = client.get("/facilities/hfr/")
    assert page.status_code == 200 and "Register your facility on HFR" in page.content.decode()


@pytest.mark.django_db
def test_abdm_down_during_the_check_is_a_503_with_retry_after_and_the_form_keeps_the_input(
    client, people, api_as, draft_data, private_abdm_sandbox, settings
):
    point_at(settings, private_abdm_sandbox.url)
    private_abdm_sandbox.stop()
    response = api_as(people["staff"]).post(URL, draft_data, format="json")
    assert response.status_code == 503 and response["Retry-After"] == "60"
    assert response.json()["error"]["code"] == "abdm_unavailable"

    client.force_login(people["staff"])
    data = {"facility_id": draft_data["facility_id"], "name": draft_data["name"], "beds": "12"}
    page = client.post("/facilities/register/", data, HTTP_ACCEPT_LANGUAGE="gu")
    text = page.content.decode()
    assert page.status_code == 200
    assert f'value="{draft_data["facility_id"]}"' in text and f'value="{draft_data["name"]}"' in text
    english = client.post("/facilities/register/", data, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "ABDM is not answering. Please try again in a minute." in english
    assert not Facility.objects.filter(name=draft_data["name"]).exists()


# --- Professionals: the HPR ID is checked against HPR --------------------------------------------------------

PROFESSIONALS = "/api/v1/professionals/"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name, hpr_id, code",
    [
        ("Dr Hetal Trivedi", None, None),  # the ID HPR gave Hetal Trivedi: accepted ("Dr" ignored)
        ("Dr Hetal Patel", None, "hpr_mismatch"),  # HPR has that ID under another name
        ("Dr Hetal Trivedi", "71-0000-0000-0002", "hpr_unknown"),  # HPR does not know the ID
    ],
)
def test_hpr_id_is_checked_against_hpr(api_as, on_hpr, name, hpr_id, code):
    from core.tests.factories import UserFactory

    given = on_hpr("Hetal Trivedi")
    response = api_as(UserFactory(role="facility_staff")).post(
        PROFESSIONALS,
        {"name": name, "category": "doctor", "hpr_id": hpr_id or given, "district_lgd": 443},
        format="json",
    )
    if code is None:
        assert response.status_code == 201, response.json()
        assert response.json()["hpr_id"] == given
    else:
        assert response.status_code == 400
        assert response.json()["error"]["code"] == code and "hpr_id" in response.json()["error"]["fields"]


@pytest.mark.django_db
def test_professional_without_an_hpr_id_cannot_submit(api_as):
    professional = ProfessionalFactory(status="draft")
    response = api_as(professional.user).post(f"{PROFESSIONALS}{professional.uuid}/submit/")
    assert response.status_code == 400 and "hpr_id" in response.json()["error"]["fields"]
    assert Professional.objects.get(pk=professional.pk).status == "draft"


# --- Verification: an HIP service of the bridge, through the outbox, with a real worker -------------------------


def wait_for(condition, seconds=45):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    return condition()


def service_of(facility) -> dict | None:
    return next((s for s in bridge_services.bridge_services()["services"] if s["id"] == facility.facility_id), None)


def submitted_facility(people, on_hfr, name) -> Facility:
    facility = FacilityFactory(
        name=name, status=FacilityStatus.SUBMITTED, facility_id=on_hfr(name), district=people["home"].district
    )
    MembershipFactory(facility=facility, user=people["admin"], role="admin")
    return facility


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_verification_makes_an_active_hip_and_suspension_deactivates_it(people, on_hfr, celery_worker_process, client):
    facility = submitted_facility(people, on_hfr, "Talaja Community Hospital")
    services.facility_verify(actor=people["officer"], facility=facility, decision="approve")
    message = OutboxMessage.objects.get(kind=bridge_services.HIP_SERVICE_KIND)
    assert message.body["facilityId"] == facility.facility_id and message.body["HRP"][0]["active"] is True

    assert wait_for(lambda: Facility.objects.get(pk=facility.pk).hip_active)
    service = service_of(facility)
    assert service["active"] is True and service["types"] == ["HIP"] and service["name"] == "Talaja Community Hospital"
    assert AuditEvent.objects.filter(action="facility.hip_active", target_id=str(facility.uuid)).exists()
    client.force_login(people["admin"])
    assert "Active HIP on ABDM" in client.get(f"/facilities/{facility.uuid}/").content.decode()

    services.facility_change_status(actor=people["officer"], facility=facility, action="suspend", reason="Fire NOC")
    assert wait_for(lambda: not Facility.objects.get(pk=facility.pk).hip_active)
    assert service_of(facility)["active"] is False
    assert "Not active on ABDM" in client.get(f"/facilities/{facility.uuid}/").content.decode()

    services.facility_change_status(actor=people["officer"], facility=facility, action="reinstate", reason="NOC in")
    assert wait_for(lambda: Facility.objects.get(pk=facility.pk).hip_active)
    assert service_of(facility)["active"] is True
    assert OutboxMessage.objects.filter(status=OutboxStatus.SENT).count() == 3  # each sent once


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_abdm_down_at_verification_commits_it_and_the_outbox_sends_when_abdm_is_back(
    people, private_abdm_sandbox, settings, tmp_path, client
):
    worker_env = point_at(settings, private_abdm_sandbox.url)
    name = "Mahuva Referral Hospital"
    seeded = private_abdm_sandbox.post(
        "hfr/facilities",
        {"facilityName": name, "ownershipCode": "G", "stateLGDCode": "24", "stateName": "Gujarat",
         "districtLGDCode": "443", "districtName": "Bhavnagar"},
    )  # fmt: skip
    facility = FacilityFactory(
        name=name, status=FacilityStatus.SUBMITTED, facility_id=seeded.json()["facilities"][0]["facilityId"]
    )
    MembershipFactory(facility=facility, user=people["admin"], role="admin")
    worker = start_celery_worker(tmp_path / "worker.log", extra_env=worker_env)
    try:
        private_abdm_sandbox.stop()
        services.facility_verify(actor=people["officer"], facility=facility, decision="approve")
        facility.refresh_from_db()
        assert facility.status == FacilityStatus.VERIFIED  # the verification stands
        message = OutboxMessage.objects.get(kind=bridge_services.HIP_SERVICE_KIND)
        assert wait_for(lambda: OutboxMessage.objects.get(pk=message.pk).attempts >= 1)
        message.refresh_from_db()
        assert message.status == OutboxStatus.PENDING and message.next_attempt_at is not None
        client.force_login(people["admin"])
        assert "Waiting for ABDM" in client.get(f"/facilities/{facility.uuid}/").content.decode()

        private_abdm_sandbox.start()
        assert wait_for(lambda: Facility.objects.get(pk=facility.pk).hip_active, seconds=60)
        message.refresh_from_db()
        assert message.status == OutboxStatus.SENT and message.attempts >= 2
        assert service_of(facility)["active"] is True  # sent once, when ABDM was back
    finally:
        stop_celery_worker(worker)


@pytest.mark.django_db
def test_a_refused_registration_shows_the_reason_and_changes_nothing(people, client, abdm_sandbox):
    """HFR refuses an ID it does not know: the outbox message fails with ABDM's reason, shown on the page."""
    from abdm import outbox

    facility = FacilityFactory(name="Ghost Hospital", status=FacilityStatus.SUBMITTED, facility_id="IN2499999991")
    MembershipFactory(facility=facility, user=people["admin"], role="admin")
    services.facility_verify(actor=people["officer"], facility=facility, decision="approve")
    message = OutboxMessage.objects.get(kind=bridge_services.HIP_SERVICE_KIND)
    assert outbox.deliver(message.pk) == OutboxStatus.FAILED
    facility.refresh_from_db()
    assert facility.status == FacilityStatus.VERIFIED and facility.hip_active is False
    client.force_login(people["admin"])
    page = client.get(f"/facilities/{facility.uuid}/").content.decode()
    assert "Failed:" in page
    assert AuditEvent.objects.filter(action="facility.hip_failed", target_id=str(facility.uuid)).exists()
