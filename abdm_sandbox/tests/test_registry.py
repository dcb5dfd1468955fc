"""The sandbox's HFR facility search, bridge services add/update and HPR lookups (hiecm-m4.yaml), over HTTP."""

from concurrent.futures import ThreadPoolExecutor

import jsonschema
import pytest
import requests

from . import schemas
from .conftest import Gateway

SEARCH = "/v4/int/FacilityManagement/v1.5/facility/search"
LINK = "/v4/int/v1/bridges/MutipleHRPAddUpdateServices"


def _luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _facility(sandbox, **fields) -> dict:
    body = {
        "facilityName": "Sir Takhtsinhji General Hospital",
        "ownershipCode": "G",
        "facilityType": "Hospital",
        "stateLGDCode": "24",
        "stateName": "Gujarat",
        "districtLGDCode": "443",
        "districtName": "Bhavnagar",
        **fields,
    }
    answer = sandbox.post("hfr/facilities", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()["facilities"][0]


def test_seeding_mints_random_facility_ids_with_the_state_code(sandbox):
    minted = [_facility(sandbox, facilityName=f"PHC Mint {n}")["facilityId"] for n in range(5)]
    for facility_id in minted:
        assert len(facility_id) == 12
        assert facility_id.startswith("IN24")
        assert facility_id[2:].isdigit()
    numbers = sorted(int(facility_id[4:]) for facility_id in minted)
    assert len(set(numbers)) == 5
    assert any(later - earlier != 1 for earlier, later in zip(numbers, numbers[1:], strict=False))


def test_search_by_facility_id_finds_it(sandbox, gateway):
    facility = _facility(sandbox, facilityName="Bhavnagar Eye Hospital", facilityId="IN2410000123")
    answer = gateway.call("POST", SEARCH, standard=False, json={"facilityId": "IN2410000123", "page": 1})
    assert answer.status_code == 200
    body = answer.json()
    jsonschema.validate(body, schemas.FACILITY_SEARCH)
    assert body["totalFacilities"] == 1
    assert body["numberOfPages"] == 1
    assert body["facilities"] == [facility]
    assert facility["ownership"] == "GOVERNMENT"
    assert facility["systemOfMedicine"] == "Modern Medicine(Allopathy)"


def test_search_by_name_state_and_district(sandbox, gateway):
    _facility(sandbox, facilityName="Amreli Civil Hospital", districtLGDCode="437", districtName="Amreli")
    criteria = {"facilityName": "amreli civil", "stateLGDCode": "24", "districtLGDCode": "437", "resultsPerPage": 5}
    body = gateway.call("POST", SEARCH, standard=False, json=criteria).json()
    jsonschema.validate(body, schemas.FACILITY_SEARCH)
    assert [row["facilityName"] for row in body["facilities"]] == ["Amreli Civil Hospital"]

    elsewhere = gateway.call("POST", SEARCH, standard=False, json={**criteria, "districtLGDCode": "443"}).json()
    jsonschema.validate(elsewhere, schemas.FACILITY_SEARCH)
    assert elsewhere["facilities"] == []
    assert elsewhere["totalFacilities"] == 0


def test_search_misses_an_unknown_id_and_drafts(sandbox, gateway):
    _facility(sandbox, facilityName="Draft Clinic", facilityId="IN2410000999", facilityStatus="Draft")
    for facility_id in ("IN2410000999", "IN2499999999"):
        body = gateway.call("POST", SEARCH, standard=False, json={"facilityId": facility_id}).json()
        jsonschema.validate(body, schemas.FACILITY_SEARCH)
        assert body["facilities"] == []


def test_search_pages(sandbox, gateway):
    for n in range(3):
        _facility(sandbox, facilityName=f"Paging Dispensary {n}", districtLGDCode="440", districtName="Banaskantha")
    criteria = {"facilityName": "Paging Dispensary", "resultsPerPage": 2}
    first = gateway.call("POST", SEARCH, standard=False, json={**criteria, "page": 1}).json()
    second = gateway.call("POST", SEARCH, standard=False, json={**criteria, "page": 2}).json()
    assert (first["totalFacilities"], first["numberOfPages"]) == (3, 2)
    assert len(first["facilities"]) == 2
    assert len(second["facilities"]) == 1


def test_m4_needs_a_session(sandbox):
    answer = requests.post(sandbox.url + SEARCH, json={"facilityId": "IN2410000123"}, timeout=10)
    assert answer.status_code == 401
    jsonschema.validate(answer.json(), schemas.UNAUTHORIZED)


def _services(gateway) -> dict:
    body = gateway.call("GET", "/api/hiecm/gateway/v3/bridge-services").json()
    jsonschema.validate(body, schemas.BRIDGE_SERVICES)
    return {service["id"]: service for service in body["services"]}


def test_linking_a_facility_makes_it_an_active_hip_service_and_deactivation_ends_it(sandbox, gateway):
    facility = _facility(sandbox, facilityName="Sihor CHC")
    link = {
        "facilityId": facility["facilityId"],
        "facilityName": "Sihor CHC",
        "HRP": [{"bridgeId": "test-bridge", "hipName": "Sihor CHC", "type": "HIP", "active": True}],
    }
    answer = gateway.call("POST", LINK, standard=False, json=link)
    assert answer.status_code == 200
    assert answer.json()["status"] == "Success"

    service = _services(gateway)[facility["facilityId"]]
    assert service == {"id": facility["facilityId"], "name": "Sihor CHC", "types": ["HIP"], "endpoints": None,
                       "active": True}  # fmt: skip
    detail = gateway.call("GET", f"/api/hiecm/gateway/v3/bridge-service/serviceId/{facility['facilityId']}")
    assert detail.status_code == 200
    jsonschema.validate(detail.json(), schemas.BRIDGE_SERVICE)
    assert detail.json()["bridgeId"] == "test-bridge"
    assert (detail.json()["isHip"], detail.json()["isHiu"], detail.json()["active"]) == (True, False, True)

    link["HRP"][0]["active"] = False
    assert gateway.call("POST", LINK, standard=False, json=link).status_code == 200
    assert _services(gateway)[facility["facilityId"]]["active"] is False


def test_linking_as_hip_and_hiu(sandbox, gateway):
    facility = _facility(sandbox, facilityName="Palitana Hospital")
    link = {
        "facilityId": facility["facilityId"],
        "facilityName": "Palitana Hospital",
        "HRP": [
            {"bridgeId": "test-bridge", "hipName": "Palitana", "type": "HIP", "active": True},
            {"bridgeId": "test-bridge", "hipName": "Palitana", "type": "HIU", "active": True},
        ],
    }
    assert gateway.call("POST", LINK, standard=False, json=link).status_code == 200
    assert _services(gateway)[facility["facilityId"]]["types"] == ["HIP", "HIU"]


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"facilityId": "IN2400000001"}, 400),  # not on HFR
        ({"facilityId": "2400000001"}, 400),
        ({"HRP": []}, 400),
        ({"HRP": [{"bridgeId": "no-such-bridge", "hipName": "X", "type": "HIP", "active": True}]}, 400),
        ({"HRP": [{"bridgeId": "test-bridge", "hipName": "Bad<name>", "type": "HIP", "active": True}]}, 400),
        ({"HRP": [{"bridgeId": "test-bridge", "hipName": "X", "type": "LOCKER", "active": True}]}, 400),
        ({"HRP": [{"bridgeId": "test-bridge", "hipName": "X", "type": "HIP"}]}, 400),
    ],
)
def test_linking_refuses_bad_requests(sandbox, gateway, change, status):
    facility = _facility(sandbox, facilityName="Gariadhar PHC")
    link = {
        "facilityId": facility["facilityId"],
        "facilityName": "Gariadhar PHC",
        "HRP": [{"bridgeId": "test-bridge", "hipName": "Gariadhar", "type": "HIP", "active": True}],
        **change,
    }
    answer = gateway.call("POST", LINK, standard=False, json=link)
    assert answer.status_code == status
    assert answer.json()["status"] == "Failure"
    assert facility["facilityId"] not in _services(gateway)


def test_a_hip_name_is_unique_across_a_facilitys_bridges(sandbox, gateway):
    facility = _facility(sandbox, facilityName="Mahuva Hospital")
    first = {"bridgeId": "test-bridge", "hipName": "Mahuva", "type": "HIP", "active": True}
    body = {"facilityId": facility["facilityId"], "facilityName": "Mahuva Hospital", "HRP": [first]}
    assert gateway.call("POST", LINK, standard=False, json=body).status_code == 200
    other = Gateway(sandbox, "other-bridge")
    second = {**body, "HRP": [{**first, "bridgeId": "other-bridge"}]}
    assert other.call("POST", LINK, standard=False, json=second).status_code == 400
    renamed = {**body, "HRP": [{**first, "bridgeId": "other-bridge", "hipName": "Mahuva Two"}]}
    assert other.call("POST", LINK, standard=False, json=renamed).status_code == 200


def test_hpr_lookup_by_number_and_address(sandbox, gateway):
    seeded = sandbox.post(
        "hpr/professionals",
        json={"name": "Dr Asha Mehta", "hprId": "asha.mehta@hpr.abdm", "registrationNumber": "G-12345"},
    )
    assert seeded.status_code == 201
    professional = seeded.json()["professionals"][0]
    number = professional["hprIdNumber"]
    assert number.startswith("71-")
    assert _luhn_valid(number.replace("-", ""))

    for key in (number, number.replace("-", ""), "asha.mehta@hpr.abdm", "asha.mehta"):
        answer = gateway.call("GET", f"/v4/int/v1/search/searchByHprId/{key}", standard=False)
        assert answer.status_code == 200, key
        jsonschema.validate(answer.json(), schemas.HPR_USER)
        assert answer.json()["hprIdNumber"] == number
        assert answer.json()["name"] == "Dr Asha Mehta"
    assert gateway.call("GET", f"/v4/int/v1/search/existsByHprId/{number}", standard=False).json() is True

    found = gateway.call(
        "POST", "/v4/int/apis/v1/doctors/fetch-professional-info", standard=False,
        json={"practitioner": {"registrationNumber": "G-12345"}},
    )  # fmt: skip
    jsonschema.validate(found.json(), schemas.FETCH_PROFESSIONALS)
    assert found.json()["practitioners"][0][0]["hpr_id"] == number


def test_hpr_lookup_misses_with_the_specs_404(gateway):
    answer = gateway.call("GET", "/v4/int/v1/search/searchByHprId/71-0000-0000-0000", standard=False)
    assert answer.status_code == 404
    assert answer.headers["Content-Type"].startswith("text/plain")
    assert gateway.call("GET", "/v4/int/v1/search/existsByHprId/71-0000-0000-0000", standard=False).json() is False


def test_an_inactive_professional_is_not_found(sandbox, gateway):
    seeded = sandbox.post("hpr/professionals", json=[{"name": "Dr Gone", "active": False}]).json()
    number = seeded["professionals"][0]["hprIdNumber"]
    assert gateway.call("GET", f"/v4/int/v1/search/searchByHprId/{number}", standard=False).status_code == 404


@pytest.mark.parametrize(
    "body",
    [{"facilityName": "No place"}, {**{"facilityName": "X"}, "facilityId": "IN24"}, "not json"],
)
def test_seeding_refuses_bad_facilities(sandbox, body):
    answer = sandbox.post("hfr/facilities", json=body)
    assert answer.status_code == 400


def test_concurrent_linkage_of_one_facility_makes_one_service(sandbox, gateway):
    facility = _facility(sandbox, facilityName="Talaja CHC")
    link = {
        "facilityId": facility["facilityId"],
        "facilityName": "Talaja CHC",
        "HRP": [{"bridgeId": "test-bridge", "hipName": "Talaja", "type": "HIP", "active": True}],
    }
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: gateway.call("POST", LINK, standard=False, json=link).status_code, range(8)))
    assert statuses == [200] * 8
    assert _services(gateway)[facility["facilityId"]]["active"] is True


def test_a_linked_facility_is_a_provider(sandbox, gateway):
    facility = _facility(sandbox, facilityName="Ghogha Provider PHC")
    link = {
        "facilityId": facility["facilityId"],
        "facilityName": "Ghogha Provider PHC",
        "HRP": [{"bridgeId": "test-bridge", "hipName": "Ghogha Provider", "type": "HIP", "active": True}],
    }
    gateway.call("POST", LINK, standard=False, json=link)
    listed = gateway.call("GET", "/api/hiecm/gateway/v3/providers", params={"name": "ghogha provider"})
    assert listed.status_code == 200
    jsonschema.validate(listed.json(), schemas.PROVIDERS)
    assert [(p["identifier"], p["isHIP"], p["isGovtEntity"]) for p in listed.json()] == [
        ({"name": "Ghogha Provider", "id": facility["facilityId"]}, True, True)
    ]
    one = gateway.call("GET", f"/api/hiecm/gateway/v3/providers/{facility['facilityId']}")
    jsonschema.validate(one.json(), schemas.PROVIDER)
    assert one.json()["facilityType"] == ["HIP"]
    assert gateway.call("GET", "/api/hiecm/gateway/v3/providers/IN0000000000").status_code == 404
    assert gateway.call("GET", "/api/hiecm/gateway/v3/govt-programs").json() == []
    assert gateway.call("GET", "/api/hiecm/gateway/v3/health-lockers").json() == []
