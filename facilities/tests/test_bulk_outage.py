"""Bulk uploads survive a broker outage and a worker killed mid-file."""

import datetime
from unittest import mock

import kombu.exceptions
import pytest

from facilities.enums import BulkUploadStatus
from facilities.models import BulkUpload
from facilities.services.bulk import bulk_upload_process, bulk_upload_requeue
from facilities.tasks import process_bulk_upload
from facilities.tests.test_bulk import csv_file, good_line, on_hfr_lines


@pytest.mark.django_db(transaction=True)  # the upload really commits, so its on_commit runs inside the request
def test_an_upload_saved_while_the_broker_is_down_succeeds_and_the_sweep_sends_it_later(client, people):
    client.force_login(people["officer"])
    refused = kombu.exceptions.OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
    with mock.patch.object(process_bulk_upload, "delay", side_effect=refused):
        response = client.post("/facilities/bulk/", {"file": csv_file([good_line(1)])})
    assert response.status_code == 302  # the write stands: no 500, and no 503 that would invite a duplicate upload
    upload = BulkUpload.objects.get()
    assert upload.status == BulkUploadStatus.QUEUED

    with mock.patch.object(process_bulk_upload, "delay") as delay:
        assert bulk_upload_requeue() == 0  # too fresh: its first message may only be slow
        BulkUpload.objects.filter(pk=upload.pk).update(created_at=upload.created_at - datetime.timedelta(minutes=3))
        assert bulk_upload_requeue() == 1
    delay.assert_called_once_with(upload.pk)


@pytest.mark.django_db
def test_a_redelivered_message_finishes_a_job_whose_worker_died_but_a_duplicate_does_not_rerun_it(
    client, people, abdm_sandbox
):
    client.force_login(people["officer"])
    with mock.patch.object(process_bulk_upload, "delay"):
        client.post("/facilities/bulk/", {"file": csv_file(on_hfr_lines(abdm_sandbox, 1, 2))})
    upload = BulkUpload.objects.get()
    BulkUpload.objects.filter(pk=upload.pk).update(status=BulkUploadStatus.RUNNING)  # its worker was SIGKILLed

    assert bulk_upload_process(upload_id=upload.pk) is None  # a plain duplicate message: not claimed
    bulk_upload_process(upload_id=upload.pk, redelivered=True)
    upload.refresh_from_db()
    assert (upload.status, upload.total_rows, upload.created_count) == (BulkUploadStatus.DONE, 2, 2)
    assert bulk_upload_process(upload_id=upload.pk, redelivered=True) is None  # done stays done
