"""A linking job (2,000 rows in the suite, 20,000 with LINKING_OUTAGE_PATIENTS=1000) through an ABDM outage, with a
real Celery worker: the local job finishes at its own speed while ABDM is down; ABDM linking resumes when it is
back; every valid row is linked on ABDM exactly once.

The sandbox here is this test's own (private_abdm_sandbox): it is stopped mid-way (its callbacks in flight are lost
with it) and started again on the same port and database. The worker sends the outbox; this test plays beat's
part by running the linking sweep (records.abdm_links_sweep) every few seconds."""

import csv
import datetime as dt
import io
import os
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from abdm import client
from abha.tests.factories import AbhaAccountFactory, known_to_sandbox
from conftest import start_celery_worker, stop_celery_worker
from records import abdm_linking
from records.enums import LinkingJobStatus
from records.linking import services
from records.linking.files import OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from records.linking.models import AbdmCareContextLink, AbdmLinkStatus

from .test_abdm_linking import hip_on_sandbox

# The suite runs 100 patients x 20 visits = 2,000 rows, to stay inside its 15-minute budget on 2 cores (ABDM's
# confirmations arrive as callbacks at tens per second here); the 20,000-row run is
# `LINKING_OUTAGE_PATIENTS=1000 make test PYTEST_ARGS="records/tests/test_abdm_linking_outage.py"`.
PATIENTS = int(os.environ.get("LINKING_OUTAGE_PATIENTS") or 100)
VISITS = 20  # per patient, each patient's visits together (one link call each, ABDM's maximum)
BAD_ROWS = 100  # an ABHA number nobody has: refused locally, never sent to ABDM


def _batch(accounts) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=REQUIRED_COLUMNS + OPTIONAL_COLUMNS, lineterminator="\n")
    writer.writeheader()
    day = dt.date(2025, 1, 1)
    blank = dict.fromkeys(REQUIRED_COLUMNS + OPTIONAL_COLUMNS, "")
    for number, account in enumerate(accounts):
        for visit in range(VISITS):
            when = day + dt.timedelta(days=visit)
            row = {"abha_number": account.abha_number, "care_context_reference": f"P{number}-V{visit}",
                   "care_context_display": f"OPD visit, {when:%d %b %Y}", "visit_date": when.isoformat(),
                   "hi_type": "OPConsultation"}  # fmt: skip
            writer.writerow(blank | row)
    for bad in range(BAD_ROWS):
        writer.writerow(blank | {"abha_number": f"9{bad:013d}", "care_context_reference": f"BAD-{bad}",
                                 "care_context_display": "OPD visit", "visit_date": day.isoformat(),
                                 "hi_type": "OPConsultation"})  # fmt: skip
    return out.getvalue().encode()


def _wait(predicate, seconds, *, every=None, step=0.5):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        if every:
            every()
        time.sleep(step)
    return False


def _linked() -> int:
    return AbdmCareContextLink.objects.filter(status=AbdmLinkStatus.LINKED).count()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_linking_job_is_linked_on_abdm_exactly_once_through_an_outage(
    private_abdm_sandbox, live_server, settings, tmp_path
):
    sandbox = private_abdm_sandbox
    settings.ABDM_GATEWAY_URL = sandbox.url
    settings.ABDM_HFR_URL = sandbox.url + "/v4/int"
    client.forget_session_token()
    client.gateway_request("PATCH", "/api/hiecm/gateway/v3/bridge/url", json={"url": live_server.url})
    facility, staff = hip_on_sandbox(sandbox, name="Outage Test Hospital")
    accounts = [AbhaAccountFactory(mobile=f"96{n:08d}", last_name=f"Outage{n}") for n in range(PATIENTS)]
    known_to_sandbox(sandbox, *accounts)
    worker = start_celery_worker(
        tmp_path / "worker.log",
        {
            "ABDM_GATEWAY_URL": sandbox.url,
            "ABDM_HFR_URL": sandbox.url + "/v4/int",
            "ABDM_OUTBOX_MAX_DELAY": "3",  # retries every few seconds once ABDM is down (default: up to 30 min)
        },
    )
    try:
        started = time.monotonic()
        job = services.job_create(
            actor=staff, facility=facility, uploaded_file=SimpleUploadedFile("batch.csv", _batch(accounts))
        )
        rows = PATIENTS * VISITS
        assert _wait(lambda: _linked() >= rows // 10, 600), f"ABDM linking did not start ({_linked()} linked)"
        sandbox.stop()
        stopped_at = -1
        while _linked() != stopped_at:  # the callbacks the portal was still handling when ABDM stopped
            stopped_at = _linked()
            time.sleep(3)
        assert stopped_at < rows, "ABDM linked everything before the outage: nothing was tested"
        job.refresh_from_db()

        def local_done():
            job.refresh_from_db()
            return job.status != LinkingJobStatus.RUNNING and job.status != LinkingJobStatus.QUEUED

        assert _wait(local_done, 300), f"the local job stalled while ABDM was down: {job.processed}/{job.total}"
        local_seconds = time.monotonic() - started
        assert job.status == LinkingJobStatus.DONE and job.processed == job.total == rows + BAD_ROWS
        assert job.linked == rows and job.failed_rows == BAD_ROWS
        time.sleep(3)
        assert _linked() == stopped_at  # nothing is confirmed while ABDM is down
        sandbox.start()

        def sweep():
            abdm_linking.links_sweep(wait=dt.timedelta(seconds=15))

        assert _wait(lambda: _linked() == rows, 900, every=sweep, step=2), f"{_linked()} of {rows} linked on ABDM"
        assert not AbdmCareContextLink.objects.exclude(status=AbdmLinkStatus.LINKED).exists()
        stats = sandbox.get(f"linking/stats?hipId={facility.facility_id}").json()["hips"][0]
        assert stats["careContexts"] == rows  # each once: ABDM keeps a care context linked once
        assert stats["patients"] == PATIENTS
        print(f"local job {local_seconds:.1f} s; all linked on ABDM {time.monotonic() - started:.1f} s")
    finally:
        stop_celery_worker(worker)
