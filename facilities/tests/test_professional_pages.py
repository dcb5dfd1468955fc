"""Professional registry pages per role: register, submit, officer decision, facility confirms the affiliation."""

import pytest

from core.enums import Role
from core.tests.factories import UserFactory
from facilities.enums import RegistryStatus
from facilities.models import FacilityMembership, Professional
from facilities.tests.factories import ProfessionalFactory

pytestmark = pytest.mark.django_db

FORM = {
    "name": "Dr Anjali Mehta",
    "category": "doctor",
    "sub_category": "modern",
    "council": "gmc",
    "registration_number": "G-24511",
    "registration_date": "2016-07-01",
    "registration_type": "permanent",
    "work_status": "government",
    "mobile": "9825012345",
    "district": "443",
    "degree": "MBBS",
    "college": "Government Medical College, Bhavnagar",
    "year": "2015",
}


def test_register_submit_reject_resubmit_verify_and_confirm(client, people, on_hpr):
    person = UserFactory(role=Role.FACILITY_STAFF)
    client.force_login(person)
    hpr_id = on_hpr("Anjali Mehta")
    form = {**FORM, "hpr_id": f"{hpr_id[:2]}-{hpr_id[2:6]}-{hpr_id[6:10]}-{hpr_id[10:]}"}
    response = client.post("/facilities/professionals/register/", {**form, "facility_ids": people["home"].facility_id})
    professional = Professional.objects.get(user=person)
    assert response.status_code == 302 and professional.status == RegistryStatus.DRAFT
    assert professional.qualifications[0]["degree"] == "MBBS"
    assert client.post(f"/facilities/professionals/{professional.uuid}/submit/").status_code == 302
    professional.refresh_from_db()
    assert professional.status == RegistryStatus.SUBMITTED

    client.force_login(people["officer"])
    queue = client.get("/facilities/queue/").content.decode()
    assert "Dr Anjali Mehta" in queue
    client.post(f"/facilities/professionals/{professional.uuid}/verify/", {"decision": "reject", "reason": "Blurred"})
    professional.refresh_from_db()
    assert professional.status == RegistryStatus.REJECTED

    client.force_login(person)
    page = client.get(f"/facilities/professionals/{professional.uuid}/").content.decode()
    assert "Blurred" in page
    edit = {**form, "registration_number": "G-24512", "facility_ids": people["home"].facility_id}
    client.post(f"/facilities/professionals/{professional.uuid}/edit/", edit)
    client.post(f"/facilities/professionals/{professional.uuid}/submit/")
    client.force_login(people["officer"])
    client.post(f"/facilities/professionals/{professional.uuid}/verify/", {"decision": "approve"})
    professional.refresh_from_db()
    assert professional.status == RegistryStatus.VERIFIED and professional.hpr_id == hpr_id  # HPR's, not minted
    person.refresh_from_db()
    assert person.role == Role.DOCTOR

    client.force_login(people["admin"])
    facility_page = client.get(f"/facilities/{people['home'].uuid}/").content.decode()
    assert "Dr Anjali Mehta" in facility_page and "Confirm" in facility_page
    confirm = f"/facilities/professionals/{professional.uuid}/confirm/{people['home'].uuid}/"
    assert client.post(confirm).status_code == 302
    assert FacilityMembership.objects.get(user=person, facility=people["home"]).role == "doctor"


def test_form_explains_bad_input(client, people):
    client.force_login(UserFactory(role=Role.FACILITY_STAFF))
    ProfessionalFactory(council="gmc", registration_number="G-24511")
    response = client.post(
        "/facilities/professionals/register/", {**FORM, "mobile": "123", "facility_ids": "IN2400000000"}
    )
    text = response.content.decode()
    assert response.status_code == 200
    assert "10-digit mobile" in text and "No facility has this ID: IN2400000000" in text
    again = client.post("/facilities/professionals/register/", FORM).content.decode()
    assert "already registered with this council" in again


def test_a_draft_is_saved_without_an_hpr_id(client):
    # No HPR ID yet: a draft (submitting asks for it), never the database's "Constraint ... is violated".
    person = UserFactory(role=Role.FACILITY_STAFF)
    client.force_login(person)
    empty = client.post("/facilities/professionals/register/", {"hpr_id": ""}).content.decode()
    assert "Constraint" not in empty
    assert "---------" not in empty and 'placeholder="DD-MM-YYYY"' in empty and 'type="date"' not in empty
    response = client.post("/facilities/professionals/register/", {**FORM, "hpr_id": ""})
    professional = Professional.objects.get(user=person)
    assert response.status_code == 302 and professional.hpr_id is None


@pytest.mark.parametrize(
    "who, expected",
    [("officer", 200), ("state", 200), ("self", 200), ("wrong_officer", 404), ("citizen", 404), ("staff", 404)],
)
def test_professional_page_owner_colleague_outsider(client, people, who, expected):
    professional = ProfessionalFactory()
    people["self"] = professional.user
    client.force_login(people[who])
    assert client.get(f"/facilities/professionals/{professional.uuid}/").status_code == expected


@pytest.mark.parametrize("who, expected", [("wrong_officer", 404), ("self", 403), ("admin", 404)])
def test_others_cannot_verify_a_professional_through_the_page(client, people, who, expected):
    professional = ProfessionalFactory()
    people["self"] = professional.user
    client.force_login(people[who])
    response = client.post(f"/facilities/professionals/{professional.uuid}/verify/", {"decision": "approve"})
    assert response.status_code == expected
    assert Professional.objects.get(pk=professional.pk).status == RegistryStatus.SUBMITTED


def test_only_the_facility_admin_confirms_an_affiliation(client, people):
    professional = ProfessionalFactory()
    professional.affiliations.create(facility=people["home"])
    client.force_login(people["staff"])
    response = client.post(f"/facilities/professionals/{professional.uuid}/confirm/{people['home'].uuid}/")
    assert response.status_code == 404  # staff cannot even see who applied
