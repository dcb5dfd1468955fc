"""The professional registry through the API: workflow, HPR IDs checked against HPR, roles, affiliations."""

import datetime

import pytest

from core.enums import Role
from core.models import AuditEvent
from core.tests.factories import UserFactory
from facilities.enums import MembershipRole, RegistryStatus
from facilities.models import FacilityMembership, Professional
from facilities.tests.factories import ProfessionalFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/professionals/"

DATA = {
    "name": "Dr Anjali Mehta",
    "category": "doctor",
    "sub_category": "modern",
    "council": "gmc",
    "registration_number": "G-24511",
    "registration_date": "2016-07-01",
    "registration_type": "renewable",
    "renewal_due_date": "2031-07-01",
    "qualifications": [{"degree": "MBBS", "college": "Government Medical College, Bhavnagar", "year": 2015}],
    "work_status": "government",
    "mobile": "9825012345",
    "email": "anjali@example.org",
    "district_lgd": 443,
}


@pytest.fixture
def doctor_user():
    return UserFactory(role=Role.FACILITY_STAFF)


def test_register_reject_resubmit_verify(people, api_as, doctor_user, on_hpr):
    me = api_as(doctor_user)
    hpr_id = on_hpr("Anjali Mehta")  # HPR has no "Dr": the check ignores the title
    typed = f"{hpr_id[:2]}-{hpr_id[2:6]}-{hpr_id[6:10]}-{hpr_id[10:]}"  # as HPR prints it
    data = {**DATA, "hpr_id": typed, "facility_uuids": [str(people["home"].uuid)]}
    created = me.post(URL, data, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["status"], body["hpr_id"], body["lapsed"]) == ("draft", hpr_id, False)
    assert body["facilities"][0]["confirmed"] is False
    url = f"{URL}{body['uuid']}/"

    assert me.post(url + "submit/").json()["status"] == "submitted"
    officer = api_as(people["officer"])
    rejected = officer.post(url + "verify/", {"decision": "reject", "reason": "Certificate unreadable"}, format="json")
    assert rejected.json()["status"] == "rejected"
    assert me.patch(url, {"registration_number": "G-24512"}, format="json").status_code == 200
    assert me.post(url + "submit/").json()["status"] == "submitted"
    verified = officer.post(url + "verify/", {"decision": "approve"}, format="json").json()
    assert verified["status"] == "verified"
    assert verified["hpr_id"] == hpr_id  # the ID HPR gave, never one the portal made
    doctor_user.refresh_from_db()
    assert doctor_user.role == Role.DOCTOR  # a verified doctor signs in as a doctor
    assert AuditEvent.objects.filter(action="professional.verify").exists()

    # The facility's admin confirms the affiliation; the doctor joins the facility as a doctor.
    confirm = api_as(people["admin"]).post(f"{url}facilities/{people['home'].uuid}/confirm/")
    assert confirm.status_code == 200 and confirm.json()["facilities"][0]["confirmed"] is True
    membership = FacilityMembership.objects.get(user=doctor_user, facility=people["home"])
    assert membership.role == MembershipRole.DOCTOR
    assert api_as(people["admin"]).post(f"{url}facilities/{people['home'].uuid}/confirm/").status_code == 409


def test_registration_number_is_unique_per_council(api_as, doctor_user):
    ProfessionalFactory(council="gmc", registration_number="G-24511")
    response = api_as(doctor_user).post(URL, DATA, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "duplicate_registration"
    assert "already registered with this council" in response.json()["error"]["fields"]["registration_number"][0]
    other_council = api_as(doctor_user).post(
        URL, {**DATA, "council": "gdc", "sub_category": "dentistry"}, format="json"
    )
    assert other_council.status_code == 201


@pytest.mark.parametrize(
    "change, field",
    [
        ({"sub_category": "rn"}, "sub_category"),  # a nursing cadre for a doctor
        ({"registration_type": "renewable", "renewal_due_date": None}, "renewal_due_date"),
        ({"registration_date": "2999-01-01"}, "registration_date"),
        ({"mobile": "12345"}, "mobile"),
        ({"name": "4 Star Doctor"}, "name"),
        ({"qualifications": [{"college": "No degree"}]}, "qualifications"),
    ],
)
def test_bad_input_is_explained(api_as, doctor_user, change, field):
    response = api_as(doctor_user).post(URL, {**DATA, **change}, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_renewable_registration_past_due_shows_as_lapsed(people, api_as):
    lapsed = ProfessionalFactory(
        registration_type="renewable", renewal_due_date=datetime.date.today() - datetime.timedelta(days=1)
    )
    body = api_as(people["officer"]).get(f"{URL}{lapsed.uuid}/").json()
    assert body["lapsed"] is True


@pytest.mark.parametrize(
    "who, expected",
    [("officer", 200), ("state", 200), ("wrong_officer", 404), ("citizen", 404), ("admin", 404), ("self", 403)],
)
def test_who_may_verify_a_professional(people, api_as, who, expected):
    professional = ProfessionalFactory()
    people["self"] = professional.user
    response = api_as(people[who]).post(f"{URL}{professional.uuid}/verify/", {"decision": "approve"}, format="json")
    assert response.status_code == expected
    if expected != 200:
        assert Professional.objects.get(pk=professional.pk).status == RegistryStatus.SUBMITTED


def test_verifying_a_draft_is_a_conflict(people, api_as):
    draft = ProfessionalFactory(status=RegistryStatus.DRAFT)
    response = api_as(people["officer"]).post(f"{URL}{draft.uuid}/verify/", {"decision": "approve"}, format="json")
    assert response.status_code == 409


def test_an_officer_who_is_the_professional_cannot_verify_themselves(people, api_as):
    professional = ProfessionalFactory(user=people["officer"])
    response = api_as(people["officer"]).post(f"{URL}{professional.uuid}/verify/", {"decision": "approve"})
    assert response.status_code == 403


def test_one_registration_per_account_and_citizens_cannot_register(people, api_as, doctor_user):
    assert api_as(doctor_user).post(URL, DATA, format="json").status_code == 201
    assert api_as(doctor_user).post(URL, {**DATA, "registration_number": "X"}, format="json").status_code == 409
    assert api_as(people["citizen"]).post(URL, DATA, format="json").status_code == 403


@pytest.mark.parametrize(
    "who, visible",
    [("officer", 2), ("wrong_officer", 1), ("state", 3), ("citizen", 0), ("admin", 1), ("staff", 0)],
)
def test_professional_list_is_scoped(people, api_as, who, visible):
    from core.models import District

    ahmadabad = District.objects.get(lgd_code=438)
    ProfessionalFactory()
    ProfessionalFactory(district=ahmadabad)
    affiliated = ProfessionalFactory()
    affiliated.affiliations.create(facility=people["home"])
    assert api_as(people[who]).get(URL).json()["count"] == visible


def test_professional_list_query_count(people, api_as, django_assert_num_queries):
    for _ in range(10):
        ProfessionalFactory().affiliations.create(facility=people["home"])
    client = api_as(people["state"])
    client.get(URL)
    # token auth (1), count (1), page (1), affiliations with their facilities (1)
    with django_assert_num_queries(4):
        assert client.get(URL, {"category": "doctor"}).json()["count"] == 10


def test_only_the_professional_edits_their_draft(people, api_as):
    professional = ProfessionalFactory(status=RegistryStatus.DRAFT)
    assert api_as(people["officer"]).patch(f"{URL}{professional.uuid}/", {"name": "X"}).status_code == 403
    assert api_as(professional.user).patch(f"{URL}{professional.uuid}/", {"name": "Dr New"}).status_code == 200
