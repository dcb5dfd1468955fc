"""The beat task that expires consents: declared in the schedule, run by a real worker, idempotent."""

import datetime as dt
import time

import pytest
from django.utils import timezone

from records.models import ConsentArtefact, ConsentRequest, Notification
from records.services import consent_grant
from records.tasks import expire_consents

from .factories import request_consent


def test_beat_schedule_declares_the_consent_expiry():
    from config.celery import app

    entry = app.conf.beat_schedule["records-expire-consents"]
    assert entry["task"] == "records.expire_consents" and entry["schedule"] <= 300


def test_beat_schedule_resumes_lost_health_information_pushes():
    from config.celery import app

    entry = app.conf.beat_schedule["records-hip-push-sweep"]
    assert entry["task"] == "records.hip_push_sweep" and entry["schedule"] <= 300
    assert entry["task"] in app.tasks  # the name a worker knows


@pytest.mark.django_db
def test_the_task_expires_requests_and_artefacts_and_tells_the_requester(world):
    pending = request_consent(doctor=world.doctor, patient=world.patient)
    granted = request_consent(doctor=world.doctor, patient=world.patient)
    _r, artefacts = consent_grant(actor=world.citizen, request_uuid=granted.uuid)
    past = timezone.now() - dt.timedelta(seconds=1)
    ConsentRequest.objects.filter(pk=pending.pk).update(expires_at=past)
    ConsentArtefact.objects.filter(pk=artefacts[0].pk).update(data_erase_at=past)
    assert expire_consents.apply().get() == {"requests": 1, "artefacts": 1, "hiu_erased": 0}
    assert ConsentRequest.objects.get(pk=pending.pk).status == "EXPIRED"
    assert ConsentArtefact.objects.get(pk=artefacts[0].pk).status == "EXPIRED"
    assert ConsentArtefact.objects.get(pk=artefacts[1].pk).status == "GRANTED"  # still within its time
    assert set(Notification.objects.filter(user=world.doctor).values_list("event", flat=True)) == {
        "GRANTED",
        "EXPIRED",
    }
    assert expire_consents.apply().get() == {"requests": 0, "artefacts": 0, "hiu_erased": 0}


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_expiry(world, celery_worker_process):
    pending = request_consent(doctor=world.doctor, patient=world.patient)
    ConsentRequest.objects.filter(pk=pending.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    expire_consents.delay()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and ConsentRequest.objects.get(pk=pending.pk).status != "EXPIRED":
        time.sleep(0.2)
    assert ConsentRequest.objects.get(pk=pending.pk).status == "EXPIRED"
