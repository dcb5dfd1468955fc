"""The facility team: its admin adds people by mobile or email; staff act only for their facilities."""

import pytest

from core.enums import Role
from core.models import User
from core.tests.factories import UserFactory
from facilities.enums import MembershipRole
from facilities.models import FacilityMembership

pytestmark = pytest.mark.django_db


def team_url(facility, suffix=""):
    return f"/api/v1/facilities/{facility.uuid}/team/{suffix}"


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"role": "staff"}, "mobile"),
        ({"role": "staff", "mobile": "12345"}, "mobile"),
        ({"role": "staff", "email": "not-an-email"}, "email"),
        ({"role": "owner", "mobile": "9898012345"}, "role"),
    ],
)
def test_invite_validates_input(people, api_as, payload, field):
    response = api_as(people["admin"]).post(team_url(people["home"]), payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_adding_a_member_twice_is_a_conflict(people, api_as):
    people["staff"].mobile = "9000000002"
    people["staff"].save()
    response = api_as(people["admin"]).post(team_url(people["home"]), {"role": "staff", "mobile": "9000000002"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_member"


@pytest.mark.parametrize(
    "who, read, write",
    [
        ("admin", 200, 201),
        ("staff", 200, 403),
        ("officer", 200, 403),
        ("state", 200, 403),
        ("other_staff", 404, 404),
        ("wrong_officer", 404, 404),
        ("citizen", 404, 404),
    ],
)
def test_team_owner_colleague_outsider(people, api_as, who, read, write):
    client = api_as(people[who])
    assert client.get(team_url(people["home"])).status_code == read
    response = client.post(team_url(people["home"]), {"role": "staff", "mobile": "9898099999"}, format="json")
    assert response.status_code == write


def test_remove_member_but_never_the_last_admin(people, api_as):
    admin = api_as(people["admin"])
    staff_membership = FacilityMembership.objects.get(user=people["staff"])
    admin_membership = FacilityMembership.objects.get(user=people["admin"])
    assert api_as(people["staff"]).delete(team_url(people["home"], f"{admin_membership.uuid}/")).status_code == 403
    assert admin.delete(team_url(people["home"], f"{staff_membership.uuid}/")).status_code == 204
    last = admin.delete(team_url(people["home"], f"{admin_membership.uuid}/"))
    assert last.status_code == 409 and last.json()["error"]["code"] == "last_admin"


def test_staff_act_only_for_their_facilities(people):
    from core import access

    assert access.can(people["staff"], "act_for", people["home"])
    assert not access.can(people["staff"], "act_for", people["other"])
    assert not access.can(people["staff"], "change", people["home"])  # staff do not edit the registry entry


def test_team_page_invite_and_remove(client, people, sms_outbox, django_capture_on_commit_callbacks):
    client.force_login(people["admin"])
    page = client.get(f"/facilities/{people['home'].uuid}/").content.decode()
    assert "Add a person by mobile or email" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/facilities/{people['home'].uuid}/team/", {"name": "Rina Shah", "mobile": "9898012345", "role": "staff"}
        )
    assert response.status_code == 302
    assert not FacilityMembership.objects.filter(user__mobile="9898012345").exists()  # not before they accept
    assert "98xxxxxx45" in client.get(response.url).content.decode()
    bad = client.post(f"/facilities/{people['home'].uuid}/team/", {"mobile": "123", "role": "staff"})
    assert bad.status_code == 400 and "10-digit mobile" in bad.content.decode()
    membership = FacilityMembership.objects.create(
        facility=people["home"], user=UserFactory(role=Role.FACILITY_STAFF), role=MembershipRole.STAFF
    )
    removed = client.post(f"/facilities/{people['home'].uuid}/team/{membership.uuid}/remove/")
    assert removed.status_code == 302 and not FacilityMembership.objects.filter(pk=membership.pk).exists()
    client.force_login(people["staff"])
    page = client.get(f"/facilities/{people['home'].uuid}/").content.decode()
    assert "Add a person by mobile or email" not in page
    other = FacilityMembership.objects.get(user=people["admin"])
    assert client.post(f"/facilities/{people['home'].uuid}/team/{other.uuid}/remove/").status_code == 403


def test_a_new_member_needs_a_mobile_for_the_link(people, api_as):
    response = api_as(people["admin"]).post(
        team_url(people["home"]), {"role": "staff", "email": "new.person@example.org"}, format="json"
    )
    assert response.status_code == 400
    assert "mobile" in response.json()["error"]["fields"]
    assert not User.objects.filter(email="new.person@example.org").exists()
