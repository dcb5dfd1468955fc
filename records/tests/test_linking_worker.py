"""A linking job survives a worker killed with SIGKILL mid-chunk: a new worker finishes it, exactly."""

import io
import os
import signal
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Count

from abha.tests.factories import AbhaAccountFactory
from core import counters
from core.enums import CountMetric, Role
from facilities.tests.factories import FacilityFactory, MembershipFactory
from records import tasks
from records.enums import LinkingChunkStatus, LinkingJobStatus
from records.linking import processing, services
from records.linking.synthetic import write_linking_file
from records.models import HealthRecord, LinkingJob


def _wait(predicate, seconds, step=0.01):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return None


@pytest.mark.django_db(transaction=True)
def test_sigkill_mid_job_then_a_new_worker_finishes_it_exactly(
    celery_worker_process, another_celery_worker, monkeypatch, settings
):
    facility = FacilityFactory()
    staff = MembershipFactory(facility=facility, user__role=Role.FACILITY_STAFF).user
    for n in range(200):
        AbhaAccountFactory(mobile=f"97{n:08d}", last_name=f"Worker{n}")
    batch = io.StringIO()
    facts = write_linking_file(batch, rows=20000, bad_fraction=0.02, review_fraction=0.01, seed=11)
    # Cut the chunks here (small ones, so that the kill lands mid-job), then let the real worker link them.
    monkeypatch.setattr(tasks.prepare_linking_job, "delay", lambda job_id: None)
    job = services.job_create(
        actor=staff, facility=facility, uploaded_file=SimpleUploadedFile("batch.csv", batch.getvalue().encode())
    )
    settings.LINKING_CHUNK_ROWS = 250
    processing.job_prepare(job_id=job.pk)
    tasks.work_linking_job.delay(job.pk)
    tasks.work_linking_job.delay(job.pk)

    def some_progress():
        job.refresh_from_db()
        return job.processed >= 1000

    assert _wait(some_progress, 60), "the worker did not start on the job"
    os.killpg(celery_worker_process.pid, signal.SIGKILL)
    celery_worker_process.wait()
    job.refresh_from_db()
    at_kill = job.processed
    assert at_kill < job.total, "the job finished before the kill: nothing was tested"
    time.sleep(1)
    job.refresh_from_db()
    assert job.status == LinkingJobStatus.RUNNING and job.processed == at_kill  # nobody works on it now

    another_celery_worker()  # resumes open jobs when it starts (worker_ready)

    def finished():
        job.refresh_from_db()
        return job.status != LinkingJobStatus.RUNNING

    assert _wait(finished, 120, step=0.2), f"job not finished: {job.processed}/{job.total}"
    assert job.status == LinkingJobStatus.DONE
    assert job.processed == job.total == 20000
    assert job.linked == facts.as_dict()["linked"]
    assert job.needs_review == facts.needs_review
    assert job.failed_rows == sum(facts.bad.values())
    assert job.duplicates == 0
    assert not job.chunks.exclude(status=LinkingChunkStatus.DONE).exists()
    records = HealthRecord.objects.filter(facility=facility)
    assert records.count() == job.linked + job.needs_review
    assert not records.values("care_context", "record_key").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert counters.total(CountMetric.RECORDS_LINKED) == job.linked
    assert LinkingJob.objects.count() == 1
