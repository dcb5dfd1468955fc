"""Celery tasks of the abdm app: thin, by id, idempotent (abdm.outbox.deliver locks and checks the row)."""

import time
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from . import outbox
from .models import CallbackReceipt

SWEEP_SECONDS = 45  # the sweep runs every minute; it stops taking new messages after this


@shared_task(name="abdm.send_outbox_message")
def send_outbox_message(message_id: int) -> str | None:
    """Send one outbox message (queued after the commit that wrote it, and again after each backoff)."""
    return outbox.deliver(message_id)


@shared_task(name="abdm.send_due_messages")
def send_due_messages() -> int:
    """Every minute: send the pending messages that are due (a lost task message, a worker that died mid-send).
    Messages another worker is sending are skipped (row lock). Returns how many were sent or put off."""
    started = time.monotonic()
    handled = 0
    for message_id in outbox.due_message_ids():
        if time.monotonic() - started > SWEEP_SECONDS:
            break
        if outbox.deliver(message_id) is not None:
            handled += 1
    return handled


RECEIPT_DAYS = 30  # the gateway retries a callback within minutes or hours; a month of receipts covers any replay


@shared_task(name="abdm.purge_callback_receipts")
def purge_callback_receipts() -> int:
    """Daily: forget callback receipts older than RECEIPT_DAYS (their replies may hold what a handler answered)."""
    cutoff = timezone.now() - timedelta(days=RECEIPT_DAYS)
    deleted, _ = CallbackReceipt.objects.filter(created_at__lt=cutoff).delete()
    return deleted
