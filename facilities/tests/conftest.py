import pytest

from core.enums import Role
from core.models import District
from core.tests.factories import DistrictOfficerFactory, StateOfficialFactory, UserFactory
from facilities.enums import FacilityStatus, MembershipRole
from facilities.tests.factories import FacilityFactory, MembershipFactory


@pytest.fixture
def people():
    """A submitted facility in Bhavnagar with its admin and staff, and everyone who must or must not reach it."""
    bhavnagar = District.objects.get(lgd_code=443)
    ahmadabad = District.objects.get(lgd_code=438)
    home = FacilityFactory(district=bhavnagar, status=FacilityStatus.SUBMITTED, name="Kumbharwada Care Hospital")
    other = FacilityFactory(district=ahmadabad, name="Naroda Hospital", pincode="382330")
    return {
        "home": home,
        "other": other,
        "admin": MembershipFactory(facility=home, role=MembershipRole.ADMIN, user__role=Role.FACILITY_ADMIN).user,
        "staff": MembershipFactory(facility=home, role=MembershipRole.STAFF, user__role=Role.FACILITY_STAFF).user,
        "other_staff": MembershipFactory(
            facility=other, role=MembershipRole.ADMIN, user__role=Role.FACILITY_ADMIN
        ).user,
        "officer": DistrictOfficerFactory(districts=[bhavnagar]),
        "wrong_officer": DistrictOfficerFactory(districts=[ahmadabad]),
        "state": StateOfficialFactory(),
        "citizen": UserFactory(role=Role.CITIZEN),
    }


DRAFT_DATA = {
    "name": "Ghogha Road Maternity Home",
    "ownership": "P",
    "private_subtype": "profit",
    "systems_of_medicine": ["modern", "ayurveda"],
    "facility_type": "nursing_home",
    "service_type": "opd_ipd",
    "beds": 12,
    "state_lgd": 24,
    "district_lgd": 443,
    "address": "Plot 4, Ghogha Road, Bhavnagar",
    "pincode": "364001",
    "latitude": "21.764500",
    "longitude": "72.151900",
    "region": "urban",
    "contact_mobile": "9876543210",
    "contact_email": "desk@ghogharoad.example",
    "contact_landline": "02782424400",
    "timings": "Mon-Sat 09:00-20:00",
}


@pytest.fixture
def on_hfr(abdm_sandbox):
    """on_hfr(name, district_lgd=443, ...) -> the HFR ID the sandbox's HFR gave a new facility of that name, in that
    district of Gujarat (an approved HFR entry, as the manager would find it)."""

    def make(name: str, district_lgd: int = 443, **fields) -> str:
        district = District.objects.get(lgd_code=district_lgd)
        body = {
            "facilityName": name,
            "ownershipCode": "P",
            "stateLGDCode": str(district.state_id),
            "stateName": district.state.name,
            "districtLGDCode": str(district_lgd),
            "districtName": district.name,
            **fields,
        }
        response = abdm_sandbox.post("hfr/facilities", body)
        assert response.status_code == 201, response.text
        return response.json()["facilities"][0]["facilityId"]

    return make


@pytest.fixture
def on_hpr(abdm_sandbox):
    """on_hpr(name) -> the 14-digit HPR ID number the sandbox's HPR gave a new professional of that name."""

    def make(name: str, **fields) -> str:
        response = abdm_sandbox.post("hpr/professionals", {"name": name, "categoryId": "1", **fields})
        assert response.status_code == 201, response.text
        return response.json()["professionals"][0]["hprIdNumber"].replace("-", "")

    return make


@pytest.fixture
def draft_data(on_hfr):
    """A complete facility, with the HFR ID HFR has under its name in Bhavnagar."""
    return {**DRAFT_DATA, "facility_id": on_hfr(DRAFT_DATA["name"])}
