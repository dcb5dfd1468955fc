"""The link review page answers a caller who may see a weak match but not decide it with 403, as the API
does, instead of a redirect with an error message (found by core/tests/test_access_matrix.py)."""

import datetime as dt

import pytest
from django.utils import timezone

from records.enums import LinkMatch, LinkStatus
from records.models import LinkRequest

from .factories import add_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def weak_match(world):
    record = add_record(staff=world.staff_a, facility=world.a, patient=world.patient, key="review-page")
    link = LinkRequest.objects.create(
        patient=world.patient,
        facility=world.a,
        match=LinkMatch.WEAK,
        status=LinkStatus.NEEDS_REVIEW,
        otp_hash="-",
        otp_expires_at=timezone.now() + dt.timedelta(minutes=10),
    )
    link.care_contexts.set([record.care_context])
    return link


def test_the_patient_may_not_decide_their_own_weak_match_on_the_page(client, world, weak_match):
    client.force_login(world.citizen)
    response = client.post(f"/records/links/{weak_match.uuid}/review/", {"approve": "1"})
    assert response.status_code == 403
    weak_match.refresh_from_db()
    assert weak_match.status == LinkStatus.NEEDS_REVIEW


def test_another_facility_gets_404_and_the_facility_staff_decide(client, world, weak_match):
    client.force_login(world.staff_b)
    assert client.post(f"/records/links/{weak_match.uuid}/review/", {"approve": "1"}).status_code == 404
    client.force_login(world.staff_a)
    response = client.post(f"/records/links/{weak_match.uuid}/review/", {"approve": "0"})
    assert response.status_code == 302
    weak_match.refresh_from_db()
    assert weak_match.status == LinkStatus.REJECTED
