"""abdm.hfr and abdm.bridge_services against the local ABDM sandbox over HTTP (no mocks)."""

import pytest
from django.core.cache import cache

from abdm import bridge_services, hfr
from abdm.client import AbdmUnavailable, forget_session_token, hfr_request

pytestmark = pytest.mark.django_db


def seed_facility(sandbox, **fields) -> dict:
    body = {
        "facilityName": "Sihor Referral Hospital",
        "ownershipCode": "G",
        "stateLGDCode": "24",
        "stateName": "Gujarat",
        "districtLGDCode": "443",
        "districtName": "Bhavnagar",
        "pincode": "364240",
        **fields,
    }
    response = sandbox.post("hfr/facilities", body)
    assert response.status_code == 201, response.text
    return response.json()["facilities"][0]


def test_facility_by_id_finds_what_hfr_has(abdm_sandbox):
    seeded = seed_facility(abdm_sandbox)
    found = hfr.facility_by_id(seeded["facilityId"].lower())  # typed in lower case: the same ID
    assert found is not None
    assert (found.facility_id, found.name, found.state_lgd, found.district_lgd, found.district_name) == (
        seeded["facilityId"],
        "Sihor Referral Hospital",
        24,
        443,
        "Bhavnagar",
    )


def test_facility_by_id_of_an_unknown_or_misshapen_id_is_none(abdm_sandbox):
    assert hfr.facility_by_id("IN2499999998") is None
    assert hfr.facility_by_id("XX123") is None  # not even sent


def test_search_by_name_within_state_and_district(abdm_sandbox):
    seeded = seed_facility(abdm_sandbox, facilityName="Gariadhar Taluka Hospital Unique")
    result = hfr.search_facilities(name="taluka hospital unique", state_lgd=24, district_lgd=443)
    assert seeded["facilityId"] in [item.facility_id for item in result.facilities]
    assert result.total >= 1
    elsewhere = hfr.search_facilities(name="taluka hospital unique", state_lgd=24, district_lgd=438)
    assert seeded["facilityId"] not in [item.facility_id for item in elsewhere.facilities]


def test_disagreements_ignore_case_spacing_and_punctuation(abdm_sandbox):
    found = hfr.facility_by_id(seed_facility(abdm_sandbox, facilityName="Sir T. General Hospital")["facilityId"])
    same = hfr.facility_disagreements(
        found, name="  sir t  general HOSPITAL ", state_lgd=24, district_lgd=443, district_name="Bhavnagar"
    )
    assert same == []
    differs = hfr.facility_disagreements(found, name="Sir T Eye Hospital", state_lgd=24, district_lgd=438)
    assert [(d.field, d.registry_value) for d in differs] == [
        ("name", "Sir T. General Hospital"),
        ("district", "Bhavnagar"),
    ]


def test_professional_by_hpr_id_with_or_without_dashes(abdm_sandbox):
    response = abdm_sandbox.post("hpr/professionals", {"name": "Hetal Trivedi", "categoryId": "1"})
    assert response.status_code == 201, response.text
    number = response.json()["professionals"][0]["hprIdNumber"]
    digits = number.replace("-", "")
    for typed in (number, digits):
        found = hfr.professional_by_hpr_id(typed)
        assert (found.hpr_id, found.name) == (digits, "Hetal Trivedi")
    assert hfr.person_names_agree("Dr. HETAL  trivedi", found.name)
    assert not hfr.person_names_agree("Hetal Patel", found.name)


def test_professional_by_unknown_hpr_id_is_none(abdm_sandbox):
    assert hfr.professional_by_hpr_id("71-0000-0000-0001") is None
    assert hfr.professional_by_hpr_id("12345") is None


def test_hip_service_add_update_then_reads(abdm_sandbox, settings):
    """The body hip_service_enqueue queues, sent as the outbox sends it, shows in the gateway's reads."""
    seeded = seed_facility(abdm_sandbox, facilityName="Palitana Hospital & Research (Trust)")
    facility_id = seeded["facilityId"]
    body = bridge_services.hip_service_body(facility_id=facility_id, name=seeded["facilityName"], active=True)
    assert body == {
        "facilityId": facility_id,
        "facilityName": "Palitana Hospital Research Trust",
        "HRP": [
            {
                "bridgeId": settings.ABDM_CLIENT_ID,
                "hipName": "Palitana Hospital Research Trust",
                "type": "HIP",
                "active": True,
            }  # fmt: skip
        ],
    }
    hfr_request("POST", bridge_services.ADD_UPDATE_PATH, json=body)
    services = {s["id"]: s for s in bridge_services.bridge_services()["services"]}
    assert services[facility_id]["active"] is True
    assert "HIP" in services[facility_id]["types"]
    detail = bridge_services.bridge_service(facility_id)
    assert (detail["serviceId"], detail["isHip"], detail["active"]) == (facility_id, True, True)

    off = bridge_services.hip_service_body(facility_id=facility_id, name=seeded["facilityName"], active=False)
    hfr_request("POST", bridge_services.ADD_UPDATE_PATH, json=off)
    assert bridge_services.bridge_service(facility_id)["active"] is False
    assert bridge_services.bridge_service("IN2499999997") is None


def test_hip_name_keeps_plain_latin_words():
    assert bridge_services.hip_name("  -Shree Sai (Eye) Clinic, Bhavnagar ") == "Shree Sai Eye Clinic Bhavnagar"
    assert bridge_services.hip_name("શ્રી હોસ્પિટલ", "IN2410000123") == "IN2410000123"


def test_registry_not_answering_is_abdm_unavailable(private_abdm_sandbox, settings):
    settings.ABDM_GATEWAY_URL = private_abdm_sandbox.url
    settings.ABDM_HFR_URL = private_abdm_sandbox.url + "/v4/int"
    cache.clear()
    forget_session_token()
    private_abdm_sandbox.stop()
    with pytest.raises(AbdmUnavailable) as caught:
        hfr.facility_by_id("IN2410000123")
    assert "not answering" in caught.value.user_message
    with pytest.raises(AbdmUnavailable):
        hfr.professional_by_hpr_id("71-1227-4427-0212")
