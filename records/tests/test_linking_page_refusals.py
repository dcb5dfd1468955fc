"""The linking pages refuse like the API: cancelling another facility's job or deciding its uncertain match is 404,
and nothing changes (found by core/tests/test_access_matrix.py; they used to redirect with a message)."""

import datetime as dt

import pytest

from abha.tests.factories import AbhaAccountFactory
from core.enums import Role
from facilities.tests.factories import FacilityFactory, MembershipFactory
from records import services
from records.enums import HiType, LinkingFileFormat, LinkingJobStatus, LinkingReviewStatus
from records.models import LinkingJob, LinkingReview

from .factories import bundle_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def job_with_review():
    facility = FacilityFactory()
    staff = MembershipFactory(facility=facility, user__role=Role.FACILITY_STAFF).user
    patient = AbhaAccountFactory()
    record, _created = services.record_add(
        actor=staff,
        facility=facility,
        patient=None,
        reference="BATCH-1",
        display="OPD visit",
        date=dt.date(2025, 2, 1),
        hi_type=HiType.PRESCRIPTION,
        bundle=bundle_for(HiType.PRESCRIPTION, key="batch-1"),
        demographics={"name": "M Desai", "mobile": patient.mobile, "gender": "F", "year_of_birth": 1985},
    )
    job = LinkingJob.objects.create(
        facility=facility,
        uploaded_by=staff,
        file="linking/x.csv",
        original_name="x.csv",
        file_format=LinkingFileFormat.CSV,
    )
    review = LinkingReview.objects.create(
        job=job, facility=facility, row_number=2, care_context=record.care_context, candidate_ids=[patient.pk]
    )
    outsider = MembershipFactory(facility=FacilityFactory(), user__role=Role.FACILITY_STAFF).user
    return job, review, staff, outsider


def test_another_facilitys_staff_cannot_cancel_a_job_on_the_page(client, job_with_review):
    job, _review, _staff, outsider = job_with_review
    client.force_login(outsider)
    assert client.post(f"/records/linking/{job.uuid}/cancel/").status_code == 404
    job.refresh_from_db()
    assert job.status == LinkingJobStatus.QUEUED


def test_another_facilitys_staff_cannot_decide_a_review_on_the_page(client, job_with_review):
    _job, review, staff, outsider = job_with_review
    client.force_login(outsider)
    response = client.post("/records/linking/review/", {"review": str(review.uuid), "account": "reject"})
    assert response.status_code == 404
    review.refresh_from_db()
    assert review.status == LinkingReviewStatus.PENDING
    client.force_login(staff)
    assert client.post("/records/linking/review/", {"review": str(review.uuid), "account": "reject"}).status_code == 302
    review.refresh_from_db()
    assert review.status == LinkingReviewStatus.REJECTED
