"""The facility API per role: owner, colleague, outsider; the workflow and its illegal transitions."""

import pytest

from core.models import AuditEvent
from facilities.enums import FacilityStatus
from facilities.models import Facility
from facilities.tests.factories import CounterFactory, FacilityFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/facilities/"


def detail(facility, suffix=""):
    return f"{URL}{facility.uuid}/{suffix}"


def test_manager_creates_a_draft_and_becomes_its_admin(people, api_as, draft_data):
    manager = people["staff"]
    response = api_as(manager).post(URL, draft_data, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft"
    assert body["facility_id"] == draft_data["facility_id"]  # the HFR ID, checked against HFR
    assert body["district_lgd"] == 443
    assert body["systems_of_medicine"] == ["modern", "ayurveda"]
    facility = Facility.objects.get(uuid=body["uuid"])
    assert facility.memberships.get().user == manager
    assert AuditEvent.objects.filter(action="facility.create", target_id=str(facility.uuid)).exists()


def test_a_draft_may_be_saved_with_only_a_name(people, api_as):
    response = api_as(people["admin"]).post(URL, {"name": "Shivam Clinic"}, format="json")
    assert response.status_code == 201
    assert response.json()["district_lgd"] is None


@pytest.mark.parametrize("who", ["citizen", "officer", "state"])
def test_only_facility_people_register_facilities(people, api_as, draft_data, who):
    response = api_as(people[who]).post(URL, draft_data, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_anonymous_gets_401(api_client, draft_data):
    assert api_client.post(URL, draft_data, format="json").status_code == 401
    assert api_client.get(URL).status_code == 401


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("pincode", "36400", "6-digit pincode"),
        ("contact_mobile", "98765", "10-digit mobile"),
        ("latitude", "51.5", "outside India"),
        ("longitude", "-0.12", "outside India"),
        ("name", "1st Care Hospital", "must start with a letter"),
        ("contact_landline", "2782424400", "STD code"),
        ("district_lgd", 999999, "No district has this LGD code"),
        ("systems_of_medicine", ["witchcraft"], "not a valid choice"),
    ],
)
def test_bad_fields_get_a_clear_message(people, api_as, draft_data, field, value, message):
    draft_data[field] = value
    response = api_as(people["admin"]).post(URL, draft_data, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert message in " ".join(error["fields"][field])


def test_district_must_be_in_the_chosen_state(people, api_as, draft_data):
    draft_data["state_lgd"] = 27  # Maharashtra; Bhavnagar is in Gujarat
    response = api_as(people["admin"]).post(URL, draft_data, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["district"] == ["This district is not in the chosen state."]


def test_errors_are_translated(people, api_as, draft_data):
    draft_data["pincode"] = "12"
    response = api_as(people["admin"]).post(URL, draft_data, format="json", HTTP_ACCEPT_LANGUAGE="gu")
    assert response.status_code == 400
    assert "પિનકોડ" in response.json()["error"]["fields"]["pincode"][0]


def test_full_workflow_reject_resubmit_verify(people, api_as, draft_data):
    manager = api_as(people["admin"])
    officer = api_as(people["officer"])
    facility_url = detail(Facility(uuid=manager.post(URL, draft_data, format="json").json()["uuid"]))

    submitted = manager.post(facility_url + "submit/", {}, format="json")
    assert submitted.status_code == 200, submitted.json()
    facility_id = submitted.json()["facility_id"]
    assert facility_id.startswith("IN24") and len(facility_id) == 12 and facility_id[2:].isdigit()
    assert submitted.json()["status"] == "submitted"

    rejected = officer.post(facility_url + "verify/", {"decision": "reject", "reason": "Wrong pincode"}, format="json")
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected"
    assert manager.get(facility_url).json()["rejection_reason"] == "Wrong pincode"

    assert manager.patch(facility_url, {"pincode": "364002"}, format="json").status_code == 200
    resubmitted = manager.post(facility_url + "submit/", {}, format="json")
    assert resubmitted.json()["status"] == "submitted"
    assert resubmitted.json()["facility_id"] == facility_id  # the ID stays
    assert resubmitted.json()["rejection_reason"] == ""

    verified = officer.post(facility_url + "verify/", {"decision": "approve"}, format="json")
    assert verified.json()["status"] == "verified"
    assert verified.json()["verified_at"]
    actions = list(AuditEvent.objects.filter(target_type="facilities.facility").values_list("action", flat=True))
    for action in ["facility.create", "facility.submit", "facility.reject", "facility.resubmit", "facility.verify"]:
        assert action in actions


def test_reject_needs_a_reason(people, api_as):
    response = api_as(people["officer"]).post(detail(people["home"], "verify/"), {"decision": "reject"}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()["error"]["fields"]
    assert Facility.objects.get(pk=people["home"].pk).status == FacilityStatus.SUBMITTED


@pytest.mark.parametrize(
    "who, expected",
    [
        ("officer", 200),
        ("state", 200),
        ("wrong_officer", 404),  # cannot even see it
        ("admin", 403),  # a facility's own admin never verifies it
        ("staff", 403),
        ("other_staff", 404),
        ("citizen", 404),
    ],
)
def test_who_may_verify(people, api_as, who, expected):
    response = api_as(people[who]).post(detail(people["home"], "verify/"), {"decision": "approve"}, format="json")
    assert response.status_code == expected
    if expected != 200:
        assert Facility.objects.get(pk=people["home"].pk).status == FacilityStatus.SUBMITTED


def test_verifying_a_draft_is_a_conflict(people, api_as):
    draft = FacilityFactory(status=FacilityStatus.DRAFT, facility_id=None, district=people["home"].district)
    response = api_as(people["officer"]).post(detail(draft, "verify/"), {"decision": "approve"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_submitted"


def test_verifying_twice_is_a_conflict(people, api_as):
    officer = api_as(people["officer"])
    assert officer.post(detail(people["home"], "verify/"), {"decision": "approve"}, format="json").status_code == 200
    again = officer.post(detail(people["home"], "verify/"), {"decision": "reject", "reason": "x"}, format="json")
    assert again.status_code == 409


def test_submitted_facility_cannot_be_edited_or_resubmitted(people, api_as):
    admin = api_as(people["admin"])
    assert admin.patch(detail(people["home"]), {"name": "Renamed"}, format="json").status_code == 409
    assert admin.post(detail(people["home"], "submit/"), {}, format="json").status_code == 409


@pytest.mark.parametrize("who, expected", [("admin", 200), ("staff", 403), ("other_staff", 404), ("officer", 403)])
def test_only_the_facility_admin_edits_a_draft(people, api_as, who, expected):
    facility = people["home"]
    Facility.objects.filter(pk=facility.pk).update(status=FacilityStatus.REJECTED, rejection_reason="Fix it")
    response = api_as(people[who]).patch(detail(facility), {"beds": 40}, format="json")
    assert response.status_code == expected


def test_incomplete_draft_cannot_be_submitted(people, api_as):
    admin = api_as(people["admin"])
    created = admin.post(URL, {"name": "Half Done Clinic"}, format="json").json()
    response = admin.post(f"{URL}{created['uuid']}/submit/", {}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "incomplete"
    assert {"district", "pincode", "contact_mobile", "facility_type"} <= set(error["fields"])


def test_submission_with_likely_duplicates_needs_confirmation(people, api_as, draft_data):
    FacilityFactory(name="Ghogha Road Maternity Home", pincode="364001", district=people["home"].district)
    admin = api_as(people["admin"])
    created = admin.post(URL, draft_data, format="json").json()
    hints = admin.get(f"{URL}{created['uuid']}/duplicates/").json()
    assert [hint["name"] for hint in hints] == ["Ghogha Road Maternity Home"]
    assert hints[0]["similar_name"] is True

    refused = admin.post(f"{URL}{created['uuid']}/submit/", {}, format="json")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "possible_duplicates"
    confirmed = admin.post(f"{URL}{created['uuid']}/submit/", {"confirm_not_duplicate": True}, format="json")
    assert confirmed.status_code == 200
    assert confirmed.json()["status"] == "submitted"


def test_same_contact_mobile_anywhere_is_a_duplicate_hint(people, api_as, draft_data):
    FacilityFactory(name="Totally Different Name", contact_mobile=draft_data["contact_mobile"], pincode="380001")
    admin = api_as(people["admin"])
    created = admin.post(URL, draft_data, format="json").json()
    hints = admin.get(f"{URL}{created['uuid']}/duplicates/").json()
    assert [(hint["name"], hint["same_mobile"]) for hint in hints] == [("Totally Different Name", True)]


@pytest.mark.parametrize(
    "who, visible",
    [
        ("admin", {"home"}),
        ("staff", {"home"}),
        ("other_staff", {"other"}),
        ("officer", {"home"}),
        ("wrong_officer", {"other"}),
        ("state", {"home", "other"}),
        ("citizen", set()),
    ],
)
def test_list_is_scoped_by_role(people, api_as, who, visible):
    body = api_as(people[who]).get(URL).json()
    assert body["count"] == len(visible)
    assert {row["uuid"] for row in body["results"]} == {str(people[name].uuid) for name in visible}


@pytest.mark.parametrize("who, expected", [("admin", 200), ("officer", 200), ("wrong_officer", 404), ("citizen", 404)])
def test_detail_owner_colleague_outsider(people, api_as, who, expected):
    assert api_as(people[who]).get(detail(people["home"])).status_code == expected


def test_list_filters_and_mine(people, api_as):
    state = api_as(people["state"])
    assert state.get(URL, {"district_lgd": 438}).json()["count"] == 1
    assert state.get(URL, {"status": "submitted"}).json()["count"] == 1
    assert state.get(URL, {"q": "kumbhar"}).json()["results"][0]["name"] == "Kumbharwada Care Hospital"
    assert state.get(URL, {"q": people["other"].facility_id}).json()["count"] == 1
    assert state.get(URL, {"type": "hospital"}).json()["count"] == 2
    assert state.get(URL, {"mine": "true"}).json()["count"] == 0
    assert api_as(people["admin"]).get(URL, {"mine": "true"}).json()["count"] == 1
    bad = state.get(URL, {"status": "bogus"})
    assert bad.status_code == 400 and "status" in bad.json()["error"]["fields"]


def test_list_query_count_does_not_grow_with_rows(people, api_as, django_assert_num_queries):
    for _ in range(15):
        FacilityFactory()
    client = api_as(people["state"])
    client.get(URL)  # warm the token lookup path
    # token auth (1), count (1), page (1)
    with django_assert_num_queries(3):
        response = client.get(URL)
    assert response.json()["count"] == 17


def test_officer_suspends_reinstates_and_closes(people, api_as):
    facility = people["home"]
    Facility.objects.filter(pk=facility.pk).update(status=FacilityStatus.VERIFIED)
    officer = api_as(people["officer"])
    assert officer.post(detail(facility, "suspend/"), {"reason": "Licence expired"}, format="json").json()[
        "status"
    ] == ("suspended")
    assert officer.post(detail(facility, "reinstate/"), {"reason": "Renewed"}, format="json").json()["status"] == (
        "verified"
    )
    assert officer.post(detail(facility, "close/"), {"reason": "Shut down"}, format="json").json()["status"] == "closed"
    assert officer.post(detail(facility, "suspend/"), {"reason": "again"}, format="json").status_code == 409
    assert (
        api_as(people["admin"]).post(detail(facility, "reinstate/"), {"reason": "x"}, format="json").status_code == 403
    )


# --- counters ---------------------------------------------------------------------------


def test_admin_adds_counters_to_a_verified_facility(people, api_as):
    facility = people["home"]
    admin = api_as(people["admin"])
    not_yet = admin.post(detail(facility, "counters/"), {"code": "OPD1", "name": "General OPD"}, format="json")
    assert not_yet.status_code == 409  # submitted, not verified
    Facility.objects.filter(pk=facility.pk).update(status=FacilityStatus.VERIFIED)
    created = admin.post(detail(facility, "counters/"), {"code": "opd1", "name": "General OPD"}, format="json")
    assert created.status_code == 201
    assert created.json()["code"] == "OPD1" and created.json()["active"] is True
    again = admin.post(detail(facility, "counters/"), {"code": "OPD1", "name": "Again"}, format="json")
    assert again.status_code == 409
    bad = admin.post(detail(facility, "counters/"), {"code": "OPD 1!", "name": "Bad"}, format="json")
    assert bad.status_code == 400 and "code" in bad.json()["error"]["fields"]
    off = admin.patch(detail(facility, "counters/OPD1/"), {"active": False}, format="json")
    assert off.json()["active"] is False
    assert [row["code"] for row in admin.get(detail(facility, "counters/")).json()] == ["OPD1"]


@pytest.mark.parametrize(
    "who, read, write",
    [
        ("admin", 200, 201),
        ("staff", 200, 403),
        ("officer", 200, 403),
        ("wrong_officer", 404, 404),
        ("other_staff", 404, 404),
        ("citizen", 404, 404),
    ],
)
def test_counters_owner_colleague_outsider(people, api_as, who, read, write):
    facility = people["home"]
    Facility.objects.filter(pk=facility.pk).update(status=FacilityStatus.VERIFIED)
    CounterFactory(facility=facility, code="OPD1")
    client = api_as(people[who])
    assert client.get(detail(facility, "counters/")).status_code == read
    response = client.post(detail(facility, "counters/"), {"code": "LAB", "name": "Lab"}, format="json")
    assert response.status_code == write


def test_api_schema_builds(api_client):
    response = api_client.get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/v1/facilities/{uuid}/verify/" in response.content


def test_counter_and_team_lists_query_count_does_not_grow(people, api_as, django_assert_num_queries):
    from facilities.tests.factories import MembershipFactory

    facility = people["home"]
    Facility.objects.filter(pk=facility.pk).update(status=FacilityStatus.VERIFIED)
    for number in range(12):
        CounterFactory(facility=facility, code=f"C{number}")
        MembershipFactory(facility=facility)
    client = api_as(people["state"])
    client.get(detail(facility, "counters/"))
    # token auth, facility, counters
    with django_assert_num_queries(3):
        assert len(client.get(detail(facility, "counters/")).json()) == 12
    # token auth, facility, members with their users
    with django_assert_num_queries(3):
        assert len(client.get(detail(facility, "team/")).json()) == 14
