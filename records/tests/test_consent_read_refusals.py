"""A doctor asking for one record that their consent does not cover gets 404, and nothing is audited: the citizen's
access log shows no read, and the consent's read limit is not used up (found by core/tests/test_access_matrix.py)."""

import pytest
from django.urls import reverse

from core.models import AuditEvent
from records import services
from records.enums import HiType

from .factories import request_consent

pytestmark = pytest.mark.django_db


@pytest.fixture
def prescriptions_only(world):
    consent_request = request_consent(
        doctor=world.doctor, patient=world.patient, hi_types=[HiType.PRESCRIPTION], access_mode="STORE"
    )
    _request, artefacts = services.consent_grant(actor=world.citizen, request_uuid=consent_request.uuid)
    return next(a for a in artefacts if a.source_facility_id == world.a.pk)


def test_a_record_outside_the_consent_is_404_and_not_logged_as_a_read(world, client, prescriptions_only):
    client.force_login(world.doctor)
    reads = AuditEvent.objects.filter(action="records.read")
    before = reads.count()
    outside = world.records.a_lab  # a diagnostic report: not granted
    url = reverse("records:artefact_record_bundle", args=[prescriptions_only.uuid, outside.uuid])
    assert client.get(url).status_code == 404
    assert reads.count() == before
    inside = reverse("records:artefact_record_bundle", args=[prescriptions_only.uuid, world.records.a_rx.uuid])
    assert client.get(inside).status_code == 200
    assert reads.count() == before + 1


def test_a_view_only_consent_shows_records_but_refuses_a_downloaded_copy(world, client):
    consent_request = request_consent(doctor=world.doctor, patient=world.patient, hi_types=[HiType.PRESCRIPTION])
    _request, artefacts = services.consent_grant(actor=world.citizen, request_uuid=consent_request.uuid)
    artefact = next(a for a in artefacts if a.source_facility_id == world.a.pk)
    assert artefact.access_mode == "VIEW"
    client.force_login(world.doctor)
    reads = AuditEvent.objects.filter(action="records.read")
    page = client.get(reverse("records:artefact_records", args=[artefact.uuid]))
    assert page.status_code == 200 and "Download the FHIR bundle" not in page.content.decode()
    before = reads.count()
    download = client.get(reverse("records:artefact_record_bundle", args=[artefact.uuid, world.records.a_rx.uuid]))
    assert download.status_code == 403 and 'data-code="view_only_consent"' in download.content.decode()
    assert reads.count() == before  # refused before anything was read


def test_record_pages_and_reads_are_never_cached(world, client, prescriptions_only):
    client.force_login(world.doctor)
    page = client.get(reverse("records:artefact_records", args=[prescriptions_only.uuid]))
    assert "no-store" in page["Cache-Control"] and "private" in page["Cache-Control"]
    client.force_login(world.citizen)
    assert "no-store" in client.get(reverse("records:my_records"))["Cache-Control"]
