"""The Celery app. Periodic schedules are declared here, in one place."""

import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _make_filesystem_broker_folders(sender, **kwargs):
    """kombu's filesystem transport (the embedded default) expects its folders to exist."""
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)


app.conf.beat_schedule = {
    # Lets /healthz tell whether a worker is consuming the queue.
    "worker-heartbeat": {"task": "core.heartbeat", "schedule": 60.0},
    # Keeps the date each microsite milestone was first achieved.
    "microsite-milestones": {"task": "microsites.refresh_milestones", "schedule": 600.0},
    # OTP transactions hold mobile numbers: gone a day after they were opened.
    "abha-purge-otp-transactions": {"task": "abha.purge_otp_transactions", "schedule": 3600.0},
    # Flips unanswered consent requests and artefacts past data_erase_at to EXPIRED and tells the
    # requester; reads already refuse them on their own, so a minute of lag only delays statuses.
    "records-expire-consents": {"task": "records.expire_consents", "schedule": 60.0},
    # Record-linking jobs whose worker died: their chunks are free again (the lock died with the worker);
    # this queues a worker for them. Workers also run it once when they start.
    "records-resume-linking-jobs": {"task": "records.resume_linking_jobs", "schedule": 30.0},
    # A bulk upload saved while the broker was down never got its task message: send it again.
    "facilities-requeue-bulk-uploads": {"task": "facilities.requeue_bulk_uploads", "schedule": 120.0},
    # ABDM outbox: sends pending messages that are due (a task message lost while the broker was down, a worker
    # that died mid-send, a backoff whose queued retry was lost). Messages being sent are skipped (row locks).
    "abdm-send-due-messages": {"task": "abdm.send_due_messages", "schedule": 60.0},
    # Callback receipts (kept so a replayed callback gets the same answer) older than 30 days are forgotten.
    "abdm-purge-callback-receipts": {"task": "abdm.purge_callback_receipts", "schedule": 86400.0},
    # Health-information pushes ABDM acknowledged that nobody is pushing (a task message lost, a worker killed
    # mid-push whose hold ran out): pushed again.
    "records-hip-push-sweep": {"task": "records.hip_push_sweep", "schedule": 60.0},
}
