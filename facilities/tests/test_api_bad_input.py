"""Input the API must refuse with a 400 in its error shape, never a 500 (found by `make fuzz`)."""

import pytest

from core.enums import Role
from core.tests.openapi import assert_documented
from facilities.enums import MembershipRole
from facilities.tests.factories import CounterFactory, FacilityFactory, MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def facility_and_staff():
    facility = FacilityFactory()
    CounterFactory(facility=facility, code="OPD1")
    staff = MembershipFactory(facility=facility, role=MembershipRole.ADMIN, user__role=Role.FACILITY_ADMIN).user
    return facility, staff


def test_a_nul_byte_in_a_query_parameter_is_a_400_not_a_500(facility_and_staff, api_as):
    facility, staff = facility_and_staff
    response = api_as(staff).get(f"/api/v1/facilities/{facility.uuid}/queue/", {"counter": "OPD\x001"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"
    assert_documented(response, "GET", "/api/v1/facilities/{uuid}/queue/")
    assert api_as(staff).get(f"/api/v1/facilities/{facility.uuid}/queue/", {"counter": "OPD1"}).status_code == 200


def test_a_nul_byte_in_a_path_is_a_400_not_a_500(facility_and_staff, api_as):
    facility, staff = facility_and_staff
    response = api_as(staff).patch(
        f"/api/v1/facilities/{facility.uuid}/counters/OPD%001/", {"name": "Lab"}, format="json"
    )
    assert response.status_code == 400
    assert_documented(response, "PATCH", "/api/v1/facilities/{uuid}/counters/{code}/")


def test_pages_refuse_a_nul_byte_too(client):
    assert client.get("/facilities/directory/", {"q": "a\x00b"}).status_code == 400
