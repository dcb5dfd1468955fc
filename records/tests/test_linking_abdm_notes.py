"""A linking job's chunk notes its care contexts for ABDM in the records' own SQL statement (no per-row ORM writes):
one AbdmCareContextLink per care context linked to an ABHA, naming the first row that linked it, none for a row
kept for review; a re-upload or a second chunk notes nothing twice; the dispatch task is queued after the commit
only for the patients it noted. The job's ABDM line is counted exactly once the job is done, and shared from the
cache for a few seconds while it runs (polling must not take the database from the job)."""

import pytest
from django.core.cache import cache

from abha.tests.factories import AbhaAccountFactory
from records import abdm_linking
from records.linking import processing, services
from records.linking.models import AbdmCareContextLink, AbdmLinkStatus
from records.models import CareContext, HealthRecord, LinkingJob

from .test_linking_jobs import csv_bytes, hospital, run, upload, visit  # noqa: F401 - hospital is a fixture

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queued(monkeypatch):
    """The pairs handed to the dispatch task after each commit (the broker is not needed here)."""
    calls = []
    monkeypatch.setattr(processing, "dispatch_after_commit", lambda pairs: calls.append(list(pairs)))
    return calls


def test_a_chunk_notes_each_care_context_once_with_its_first_row(hospital, queued, settings):  # noqa: F811
    settings.LINKING_CHUNK_ROWS = 3  # rows 2-4, 5-7, 8: a care context's second row comes in another chunk
    facility, staff = hospital
    asha, ravi = AbhaAccountFactory(mobile="9811111111"), AbhaAccountFactory(mobile="9822222222")
    rows = [
        visit("V-1", abha_number=asha.abha_number),  # row 2: notes V-1
        visit("V-1", abha_number=asha.abha_number, hi_type="Prescription"),  # row 3: V-1 again, same chunk
        visit("V-2", abha_number=ravi.abha_number),  # row 4
        visit("V-3", mobile="9899999999", name="Nobody", gender="M", year_of_birth="1970"),  # row 5: no match
        visit("V-1", abha_number=asha.abha_number, hi_type="DiagnosticReport"),  # row 6: V-1 in the next chunk
        visit("V-4", abha_number=asha.abha_number),  # row 7
        visit("V-2", abha_number=ravi.abha_number),  # row 8: the record of row 4 again: a duplicate
    ]
    job = run(services.job_create(actor=staff, facility=facility, uploaded_file=upload(csv_bytes(rows))))
    assert (job.linked, job.duplicates, job.failed_rows) == (5, 1, 1)
    assert HealthRecord.objects.filter(facility=facility).count() == 5
    links = {
        link.care_context.reference: link
        for link in AbdmCareContextLink.objects.filter(job=job).select_related("care_context")
    }
    assert {reference: link.row_number for reference, link in links.items()} == {"V-1": 2, "V-2": 4, "V-4": 7}
    assert {link.status for link in links.values()} == {AbdmLinkStatus.PENDING}
    assert {(link.facility_id, link.patient_id) for link in links.values()} == {
        (facility.pk, asha.pk),
        (facility.pk, ravi.pk),
    }
    # The dispatch is queued once per chunk that noted something, for the patients it noted.
    assert queued == [sorted([(facility.pk, asha.pk), (facility.pk, ravi.pk)]), [(facility.pk, asha.pk)]]

    again = run(services.job_create(actor=staff, facility=facility, uploaded_file=upload(csv_bytes(rows))))
    assert (again.linked, again.duplicates) == (0, 6)
    assert AbdmCareContextLink.objects.count() == 3 and not AbdmCareContextLink.objects.filter(job=again).exists()
    assert len(queued) == 2  # nothing new to send
    assert abdm_linking.job_abdm_progress(job) == {"total": 3, "linked": 0, "failed": 0, "waiting": 3}


def test_a_care_context_already_noted_elsewhere_is_not_noted_again(hospital, queued):  # noqa: F811
    facility, staff = hospital
    asha = AbhaAccountFactory(mobile="9811111111")
    first = run(
        services.job_create(
            actor=staff,
            facility=facility,
            uploaded_file=upload(csv_bytes([visit("V-1", abha_number=asha.abha_number)])),
        )
    )
    # The same visit's prescription, in a later job: a new record in a care context ABDM already knows about.
    later = run(
        services.job_create(
            actor=staff,
            facility=facility,
            uploaded_file=upload(csv_bytes([visit("V-1", abha_number=asha.abha_number, hi_type="Prescription")])),
        )
    )
    assert later.linked == 1
    [link] = AbdmCareContextLink.objects.all()
    assert link.job_id == first.pk and link.care_context == CareContext.objects.get(reference="V-1")
    assert len(queued) == 1


def test_a_running_jobs_abdm_line_is_shared_from_the_cache_and_exact_once_done(hospital, queued):  # noqa: F811
    facility, staff = hospital
    asha = AbhaAccountFactory(mobile="9811111111")
    job = run(
        services.job_create(
            actor=staff,
            facility=facility,
            uploaded_file=upload(csv_bytes([visit("V-1", abha_number=asha.abha_number)])),
        )
    )
    cache.clear()
    LinkingJob.objects.filter(pk=job.pk).update(status="running")
    job.refresh_from_db()
    assert abdm_linking.job_abdm_progress(job) == {"total": 1, "linked": 0, "failed": 0, "waiting": 1}
    AbdmCareContextLink.objects.filter(job=job).update(status=AbdmLinkStatus.LINKED)
    assert abdm_linking.job_abdm_progress(job)["linked"] == 0  # the running job's line: a few seconds old at most
    LinkingJob.objects.filter(pk=job.pk).update(status="done")
    job.refresh_from_db()
    assert abdm_linking.job_abdm_progress(job) == {"total": 1, "linked": 1, "failed": 0, "waiting": 0}


@pytest.mark.parametrize(
    ("title", "name"),
    [("OPD visit, 03 Oct 2025", "Asha Patel"), ("ઓપીડી મુલાકાત\t2025", "આશા પટેલ"), ('Bill {1} "paid"\\/', "A\x7fB")],
)
def test_index_documents_skip_escaping_only_plain_ascii(title, name):
    from records.fhir import bundle_sha256, index_bundle
    from records.linking.documents import escaped, index_document

    values = {
        "bundle_id": "abc123",
        "hi_type": "OPConsultation",
        "title": title,
        "date": "2025-10-03",
        "patient_abha": "91123456789012",
        "patient_name": name,
        "facility_id": "IN2410000001",
    }
    text, _summary, sha = index_document(**values, custodian=escaped("Sir T. Hospital (IN2410000001)"))
    bundle = index_bundle(**values, custodian="Sir T. Hospital (IN2410000001)")
    assert sha == bundle_sha256(bundle)
