"""A real Celery worker consumes tasks from the Redis broker and writes to the test database."""

import time

import pytest

from core.models import WorkerHeartbeat
from core.tasks import heartbeat

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_worker_runs_the_heartbeat_task_and_healthz_reports_it(celery_worker_process, client):
    heartbeat.delay("celery")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not WorkerHeartbeat.objects.filter(name="celery").exists():
        time.sleep(0.2)
    assert WorkerHeartbeat.objects.filter(name="celery").exists(), "the worker did not run the task"
    worker = client.get("/healthz").json()["worker"]
    assert worker["age_seconds"] < 60


def test_beat_schedule_declares_the_heartbeat():
    from config.celery import app

    assert app.conf.beat_schedule["worker-heartbeat"]["task"] == "core.heartbeat"
