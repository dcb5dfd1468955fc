"""The admin lists emergency accesses for state officials to review; nothing is deleted there."""

import pytest

from core.tests.factories import DistrictOfficerFactory, StateOfficialFactory
from records.models import BreakGlassGrant
from records.services import btg_grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def grant(world):
    return btg_grant(
        actor=world.doctor,
        patient_identifier=world.patient.abha_number,
        reason="Unconscious after a road accident (RTA)",
    )


def test_state_official_reviews_emergency_access(world, client, grant):
    official = StateOfficialFactory()
    client.force_login(official)
    page = client.get("/admin/records/breakglassgrant/")
    assert page.status_code == 200 and "Unconscious after a road accident (RTA)" in page.content.decode()
    assert "Needs review" in page.content.decode() and grant.needs_review
    response = client.post(
        "/admin/records/breakglassgrant/", {"action": "mark_reviewed", "_selected_action": [grant.pk]}
    )
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.reviewed_by == official and grant.reviewed_at is not None and not grant.needs_review


def test_district_officer_and_doctors_do_not_see_the_review_list(world, client, grant):
    for user in (DistrictOfficerFactory(), world.doctor):
        client.force_login(user)
        assert client.get("/admin/records/breakglassgrant/").status_code in (302, 403)


def test_nothing_is_deleted_or_edited_in_the_admin(world, client, grant):
    client.force_login(StateOfficialFactory())
    assert client.post(f"/admin/records/breakglassgrant/{grant.pk}/delete/").status_code == 403
    assert BreakGlassGrant.objects.filter(pk=grant.pk).exists()
    assert client.get(f"/admin/records/healthrecord/{world.records.a_rx.pk}/change/").status_code in (302, 404)
