"""The public directory: only verified entries, filters, counts, pages, and no personal contact details."""

import pytest

from core.models import District
from facilities.enums import FacilityStatus
from facilities.tests.factories import FacilityFactory, ProfessionalFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry():
    ahmadabad = District.objects.get(lgd_code=438)
    for number in range(45):
        FacilityFactory(name=f"Sardar Clinic {number:02d}", facility_type="clinic", systems_of_medicine=["ayurveda"])
    FacilityFactory(name="Sardar Hospital Ahmedabad", district=ahmadabad, systems_of_medicine=["modern", "dentistry"])
    FacilityFactory(name="Sardar Draft Clinic", status=FacilityStatus.DRAFT, facility_id=None)
    FacilityFactory(name="Sardar Submitted Clinic", status=FacilityStatus.SUBMITTED)
    ProfessionalFactory(
        name="Dr Kiran Vora", status=FacilityStatus.VERIFIED, hpr_id="71123456789014", mobile="9825011111"
    )
    ProfessionalFactory(name="Dr Hidden Draft", status=FacilityStatus.DRAFT)


def test_api_lists_only_verified_facilities_with_counts_and_pages(api_client, registry):
    body = api_client.get("/api/v1/directory/facilities/", {"q": "sardar", "page_size": 20}).json()
    assert body["count"] == 46
    assert len(body["results"]) == 20 and body["next"]
    names = {row["name"] for row in body["results"]}
    assert "Sardar Draft Clinic" not in names and "Sardar Submitted Clinic" not in names
    last = api_client.get("/api/v1/directory/facilities/", {"q": "sardar", "page_size": 20, "page": 3}).json()
    assert len(last["results"]) == 6 and last["next"] is None


@pytest.mark.parametrize(
    "params, count",
    [
        ({"district_lgd": 438}, 1),
        ({"type": "clinic"}, 45),
        ({"system": "ayurveda"}, 45),
        ({"system": "dentistry"}, 1),
        ({"q": "SARDAR HOSPITAL"}, 1),
    ],
)
def test_api_filters(api_client, registry, params, count):
    assert api_client.get("/api/v1/directory/facilities/", params).json()["count"] == count


def test_api_rejects_unknown_filter_values(api_client, registry):
    response = api_client.get("/api/v1/directory/facilities/", {"type": "spa"})
    assert response.status_code == 400 and "type" in response.json()["error"]["fields"]


def test_professional_directory_hides_personal_contact_details(api_client, registry):
    body = api_client.get("/api/v1/directory/professionals/", {"q": "kiran"}).json()
    assert body["count"] == 1
    row = body["results"][0]
    assert row["hpr_id"] == "71123456789014"
    assert "mobile" not in row and "email" not in row and "registration_number" not in row
    assert api_client.get("/api/v1/directory/professionals/", {"q": "hidden"}).json()["count"] == 0
    assert api_client.get("/api/v1/directory/professionals/", {"q": "71-1234-5678-9014"}).json()["count"] == 1


def test_directory_api_query_count(api_client, registry, django_assert_num_queries):
    with django_assert_num_queries(2):  # count, page
        api_client.get("/api/v1/directory/facilities/", {"q": "sardar"})


def test_directory_page_paginates_with_counts(client, registry):
    page = client.get("/facilities/directory/", {"q": "sardar"}).content.decode()
    assert "Results: 46" in page and "Page 1 of 3" in page
    assert "Sardar Draft Clinic" not in page
    second = client.get("/facilities/directory/", {"q": "sardar", "page": 2}).content.decode()
    assert "Page 2 of 3" in second and "Sardar Clinic 20" in second
    professionals = client.get("/facilities/directory/", {"kind": "professionals"}).content.decode()
    assert "Dr Kiran Vora" in professionals and "71-1234-5678-9014" in professionals
    assert "9825011111" not in professionals


def test_directory_page_in_gujarati(client, registry):
    client.cookies["django_language"] = "gu"
    page = client.get("/facilities/directory/", {"q": "sardar"}, HTTP_ACCEPT_LANGUAGE="gu").content.decode()
    assert "Results" not in page


def test_a_common_search_term_is_capped_and_asks_to_narrow(api_client, client, registry, monkeypatch):
    from facilities import selectors

    monkeypatch.setattr(selectors, "DIRECTORY_COUNT_CAP", 30)
    body = api_client.get("/api/v1/directory/facilities/", {"q": "sardar", "page_size": 20}).json()
    assert (body["count"], body["count_capped"]) == (30, True)
    second = api_client.get("/api/v1/directory/facilities/", {"q": "sardar", "page_size": 20, "page": 2}).json()
    assert len(second["results"]) == 10 and second["next"] is None
    names = [row["name"] for row in body["results"] + second["results"]]
    assert names == sorted(names, key=str.upper)  # the capped set is still shown in name order
    page = client.get("/facilities/directory/", {"q": "sardar"}).content.decode()
    assert "More than 30 results" in page
    exact = api_client.get("/api/v1/directory/facilities/", {"type": "clinic"}).json()
    assert (exact["count"], exact["count_capped"]) == (45, False)  # filters alone count exactly
