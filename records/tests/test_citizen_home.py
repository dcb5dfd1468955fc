"""What the citizen's home tells about their records: the banner of pending consent requests, and "who accessed my
data" rendered one way on the home page and the access-log page; the language kept on the account."""

import pytest
from django.urls import reverse

from core.services import audit_record

from .factories import request_consent

pytestmark = pytest.mark.django_db


def test_switching_language_while_signed_in_keeps_it_on_the_account(world, client):
    client.force_login(world.citizen)
    response = client.post(reverse("set_language"), {"language": "hi", "next": reverse("abha:home")})
    assert response.status_code == 302 and response.url == reverse("abha:home")
    world.patient.refresh_from_db()
    assert world.patient.language == "hi"


def test_home_shows_a_banner_with_the_count_of_pending_requests(world, client):
    client.force_login(world.citizen)
    assert "consents-pending" not in client.get(reverse("abha:home")).content.decode()
    request_consent(doctor=world.doctor, patient=world.patient)
    request_consent(doctor=world.doctor, patient=world.patient)
    page = client.get(reverse("abha:home")).content.decode()
    assert "2 requests wait for your answer" in page and reverse("records:citizen_consents") in page


def test_home_and_access_log_render_who_accessed_alike_without_codes_or_own_sign_ins(world, client):
    audit_record(actor=world.citizen, action="abha.sign_in", target=world.patient)
    audit_record(actor=world.doctor, action="abha.lookup", target=world.patient)
    audit_record(
        actor=world.doctor,
        action="records.read",
        target=world.patient,
        details={"records": ["x"], "hi_types": ["Prescription"], "basis": "consent", "facility_name": "Civil"},
    )
    client.force_login(world.citizen)
    client.post(reverse("set_language"), {"language": "gu", "next": "/"})
    home = client.get(reverse("abha:home")).content.decode()
    log = client.get(reverse("records:access_log")).content.decode()
    for page in (home, log):
        assert "records.read" not in page and "abha.lookup" not in page
        assert "Anjali Mehta" in page
        assert "Signed in" not in page
        assert "Records opened" not in page  # translated
    entries = home[home.index('<ul class="consent-list access-log">') :].split("</ul>")[0]
    assert entries in log  # one rendering
