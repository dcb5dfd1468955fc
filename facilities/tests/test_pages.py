"""The registry's pages per role, through Django's test client (the browser flow is in test_browser.py)."""

import pytest

from core.models import AuditEvent
from facilities.enums import FacilityStatus
from facilities.models import Counter, Facility
from facilities.tests.factories import CounterFactory, FacilityFactory

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def test_home_links_to_the_registration_wizard(client, people):
    response = login(client, people["admin"]).get("/")
    assert b'href="/facilities/register/"' in response.content


def test_wizard_saves_a_draft_at_every_step_and_submits(client, people, draft_data):
    login(client, people["staff"])
    response = client.post(
        "/facilities/register/",
        {
            "facility_id": " " + draft_data["facility_id"].lower(),  # as typed: any case, spaces
            "name": "Ghogha Road Maternity Home",
            "ownership": "P",
            "private_subtype": "profit",
            "systems_of_medicine": ["modern", "ayurveda"],
            "facility_type": "nursing_home",
            "service_type": "opd_ipd",
            "beds": "12",
        },
    )
    facility = Facility.objects.get(name="Ghogha Road Maternity Home")
    assert response.status_code == 302 and response.url == f"/facilities/{facility.uuid}/edit/location/"
    assert facility.status == FacilityStatus.DRAFT and facility.systems_of_medicine == ["modern", "ayurveda"]

    response = client.post(
        response.url,
        {
            "state": "24",
            "district": "443",
            "address": "Ghogha Road",
            "pincode": "364001",
            "latitude": "21.7645",
            "longitude": "72.1519",
            "region": "urban",
        },
    )
    assert response.url == f"/facilities/{facility.uuid}/edit/contact/"
    facility.refresh_from_db()
    assert facility.district_id == 443 and facility.pincode == "364001"

    response = client.post(response.url, {"contact_mobile": "9876543210", "timings": "24 hours"})
    assert response.url == f"/facilities/{facility.uuid}/review/"
    review = client.get(response.url)
    assert b"Submit for verification" in review.content

    response = client.post(f"/facilities/{facility.uuid}/review/", {})
    assert response.status_code == 302
    facility.refresh_from_db()
    assert facility.status == FacilityStatus.SUBMITTED and facility.facility_id == draft_data["facility_id"]


def test_wizard_shows_field_errors(client, people):
    login(client, people["admin"])
    response = client.post("/facilities/register/", {"name": "9 Star Clinic", "beds": "0"})
    assert response.status_code == 200
    assert "The name must start with a letter." in response.content.decode()


def test_wizard_location_step_rejects_coordinates_outside_india(client, people):
    facility = FacilityFactory(status=FacilityStatus.DRAFT, facility_id=None)
    from facilities.tests.factories import MembershipFactory

    MembershipFactory(facility=facility, user=people["admin"], role="admin")
    response = login(client, people["admin"]).post(
        f"/facilities/{facility.uuid}/edit/location/",
        {"state": "24", "district": "443", "pincode": "364001", "latitude": "48.85", "longitude": "2.35"},
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "outside India" in text


def test_review_shows_duplicates_and_needs_confirmation(client, people, on_hfr):
    name = "Kumbharwada Care Hospital Annexe"
    facility = FacilityFactory(status=FacilityStatus.DRAFT, facility_id=on_hfr(name), name=name)
    from facilities.tests.factories import MembershipFactory

    MembershipFactory(facility=facility, user=people["admin"], role="admin")
    login(client, people["admin"])
    page = client.get(f"/facilities/{facility.uuid}/review/").content.decode()
    assert "Possible duplicates" in page and "Kumbharwada Care Hospital" in page
    refused = client.post(f"/facilities/{facility.uuid}/review/", {})
    assert refused.status_code == 200
    assert "Confirm that this is a different facility" in refused.content.decode()
    accepted = client.post(f"/facilities/{facility.uuid}/review/", {"confirm_not_duplicate": "on"})
    assert accepted.status_code == 302


@pytest.mark.parametrize(
    "who, expected",
    [
        ("admin", 200),
        ("staff", 200),
        ("other_staff", 404),
        ("officer", 200),
        ("wrong_officer", 404),
        ("state", 200),
        ("citizen", 404),
    ],
)
def test_facility_page_owner_colleague_outsider(client, people, who, expected):
    assert login(client, people[who]).get(f"/facilities/{people['home'].uuid}/").status_code == expected


def test_facility_page_needs_sign_in(client, people):
    response = client.get(f"/facilities/{people['home'].uuid}/")
    assert response.status_code == 302 and "/accounts/login/" in response.url


@pytest.mark.parametrize(
    "who, expected", [("officer", 200), ("state", 200), ("wrong_officer", 200), ("admin", 403), ("citizen", 403)]
)
def test_queue_is_for_officials(client, people, who, expected):
    response = login(client, people[who]).get("/facilities/queue/")
    assert response.status_code == expected
    if who == "officer":
        assert people["home"].name in response.content.decode()
    if who == "wrong_officer":
        assert people["home"].name not in response.content.decode()


def test_queue_lists_oldest_submission_first(client, people):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    newer = FacilityFactory(status=FacilityStatus.SUBMITTED, name="Newer Clinic", submitted_at=now)
    older = FacilityFactory(status=FacilityStatus.SUBMITTED, name="Older Clinic", submitted_at=now - timedelta(days=3))
    Facility.objects.filter(pk=people["home"].pk).update(submitted_at=now - timedelta(days=1))
    page = login(client, people["officer"]).get("/facilities/queue/").content.decode()
    assert page.index(older.name) < page.index(people["home"].name) < page.index(newer.name)


def test_officer_rejects_with_reason_and_verifies(client, people):
    home = people["home"]
    login(client, people["officer"])
    missing_reason = client.post(f"/facilities/{home.uuid}/verify/", {"decision": "reject", "reason": ""})
    assert missing_reason.status_code == 400
    assert "Give the reason for rejecting." in missing_reason.content.decode()
    rejected = client.post(f"/facilities/{home.uuid}/verify/", {"decision": "reject", "reason": "Blurred licence"})
    assert rejected.status_code == 302
    home.refresh_from_db()
    assert home.status == FacilityStatus.REJECTED and home.rejection_reason == "Blurred licence"
    again = client.post(f"/facilities/{home.uuid}/verify/", {"decision": "approve"})
    assert again.status_code == 400  # 409-like refusal shown on the page: a rejected facility is not submitted
    assert "Only a submitted facility" in again.content.decode()


@pytest.mark.parametrize("who, expected", [("wrong_officer", 404), ("admin", 403), ("staff", 403), ("citizen", 404)])
def test_others_cannot_verify_through_the_page(client, people, who, expected):
    response = login(client, people[who]).post(f"/facilities/{people['home'].uuid}/verify/", {"decision": "approve"})
    assert response.status_code == expected
    assert Facility.objects.get(pk=people["home"].pk).status == FacilityStatus.SUBMITTED


@pytest.mark.parametrize("who, expected", [("admin", 302), ("staff", 403), ("officer", 403), ("other_staff", 404)])
def test_counter_add_owner_colleague_outsider(client, people, who, expected):
    home = people["home"]
    Facility.objects.filter(pk=home.pk).update(status=FacilityStatus.VERIFIED)
    response = login(client, people[who]).post(f"/facilities/{home.uuid}/counters/", {"code": "OPD1", "name": "OPD"})
    assert response.status_code == expected
    assert Counter.objects.filter(facility=home).exists() == (expected == 302)


def test_poster_png_and_pdf(client, people, settings):
    import io

    import zxingcpp
    from PIL import Image

    home = people["home"]
    Facility.objects.filter(pk=home.pk).update(status=FacilityStatus.VERIFIED)
    CounterFactory(facility=home, code="OPD1", name="General OPD")
    login(client, people["staff"])
    png = client.get(f"/facilities/{home.uuid}/counters/OPD1/poster.png")
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))
    # ABDM's share-profile code for the ABHA app, and the portal's scan page for citizens without it.
    assert {code.text for code in decoded} == {
        f"{settings.ABDM_SHARE_PROFILE_URL}?hip-id={home.facility_id}&counter-id=OPD1",
        f"http://127.0.0.1:8000/scan/?hip-id={home.facility_id}&counter-id=OPD1",
    }
    pdf = client.get(f"/facilities/{home.uuid}/counters/OPD1/poster.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    outsider = login(client, people["other_staff"]).get(f"/facilities/{home.uuid}/counters/OPD1/poster.png")
    assert outsider.status_code == 404


def test_poster_uses_portal_base_url(client, people, settings):
    import io

    import zxingcpp
    from PIL import Image

    settings.PORTAL_BASE_URL = "https://abdm.gujarat.example/"
    home = people["home"]
    Facility.objects.filter(pk=home.pk).update(status=FacilityStatus.VERIFIED)
    CounterFactory(facility=home, code="LAB-2", name="Laboratory")
    png = login(client, people["admin"]).get(f"/facilities/{home.uuid}/counters/LAB-2/poster.png")
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))
    assert decoded[0].text == f"https://abdm.gujarat.example/scan/?hip-id={home.facility_id}&counter-id=LAB-2"


def test_pages_audit_through_services(client, people):
    login(client, people["officer"]).post(f"/facilities/{people['home'].uuid}/verify/", {"decision": "approve"})
    assert AuditEvent.objects.filter(action="facility.verify", actor=people["officer"]).exists()


@pytest.mark.parametrize(
    "who, expected", [("officer", "suspended"), ("wrong_officer", "verified"), ("admin", "verified")]
)
def test_officer_suspends_a_facility_from_its_page(client, people, who, expected):
    home = people["home"]
    Facility.objects.filter(pk=home.pk).update(status=FacilityStatus.VERIFIED)
    login(client, people[who])
    page = client.get(f"/facilities/{home.uuid}/")
    if who == "officer":
        assert "Suspend, reinstate or close" in page.content.decode()
    client.post(f"/facilities/{home.uuid}/status/", {"action": "suspend", "reason": "Licence expired"})
    assert Facility.objects.get(pk=home.pk).status == expected


@pytest.mark.parametrize("who, expected", [("admin", False), ("staff", True), ("other_staff", True)])
def test_counter_switch_off_owner_colleague_outsider(client, people, who, expected):
    home = people["home"]
    Facility.objects.filter(pk=home.pk).update(status=FacilityStatus.VERIFIED)
    counter = CounterFactory(facility=home, code="OPD1")
    login(client, people[who]).post(f"/facilities/{home.uuid}/counters/OPD1/toggle/")
    counter.refresh_from_db()
    assert counter.active is expected
    if who == "admin":
        assert client.get(f"/facilities/{home.uuid}/counters/OPD1/poster.png").status_code == 404
