"""The durable outbox: calls to ABDM written with the domain change, sent by Celery after the commit.

    enqueue(kind=..., method=..., path=..., json=..., subject=facility)   # inside the domain transaction
    register_handler(kind, on_success=fn(message, body), on_failure=fn(message))   # from AppConfig.ready()
    messages_for(subject)                                                  # newest first, for pages

A message is sent by one worker at a time: `deliver` claims its row under a lock
(`select_for_update(skip_locked=True)`) and puts its next attempt beyond the call's longest time; only a pending,
due message is sent. ABDM not answering (AbdmUnavailable, or a 5xx) puts the next attempt off with exponential
backoff and jitter, capped at ABDM_OUTBOX_MAX_DELAY, and the message fails after ABDM_OUTBOX_GIVE_UP_HOURS. A
refusal (4xx) fails it at once with ABDM's reason. A minute sweep (`abdm.send_due_messages`, config/celery.py) sends
what a lost task message or a dead worker left behind (after the claim's time has passed).

Messages that ABDM answers on a callback (`awaits_callback=True`) wait in `awaiting_callback` until the callback
with `resp.requestId` / `response.requestId` equal to their `request_id` arrives (abdm.callbacks).
"""

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import kombu.exceptions
import redis.exceptions
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from core.services import audit_record

from . import client
from .enums import OutboxBase, OutboxStatus
from .models import OutboxMessage

log = logging.getLogger("abdm.outbox")

FIRST_RETRY_SECONDS = 10


@dataclass(frozen=True)
class Handlers:
    on_success: Callable | None = None
    on_failure: Callable | None = None


_handlers: dict[str, Handlers] = {}


def register_handler(kind: str, on_success=None, on_failure=None) -> None:
    """Register what happens when a message of `kind` succeeds (`on_success(message, body)`: after a 2xx send, or
    when its callback arrives for messages that await one) or fails for good / is abandoned (`on_failure(message)`).
    Called from the owning app's AppConfig.ready(); the handlers run in the transaction that records the outcome."""
    _handlers[kind] = Handlers(on_success=on_success, on_failure=on_failure)


def handlers_for(kind: str) -> Handlers:
    return _handlers.get(kind, Handlers())


def enqueue(
    *,
    kind: str,
    method: str,
    path: str,
    json: dict | list | None = None,
    base: str = OutboxBase.GATEWAY,
    subject=None,
    headers: dict | None = None,
    hip_id: str | None = None,
    hiu_id: str | None = None,
    awaits_callback: bool = False,
) -> OutboxMessage:
    """Write a message to ABDM in the caller's transaction; a Celery task sends it after the commit.

    `subject` is the model instance the call is about (a facility, an account): pages show its messages'
    states with `messages_for(subject)` or `{% abdm_status subject %}`. Queries: one insert.
    """
    if base not in OutboxBase.values:
        raise ValueError(f"Unknown ABDM base {base!r}")
    extra = dict(headers or {})
    if hip_id:
        extra["X-HIP-ID"] = hip_id
    if hiu_id:
        extra["X-HIU-ID"] = hiu_id
    message = OutboxMessage(
        kind=kind,
        base=base,
        method=method.upper(),
        path=path,
        body=json,
        headers=extra,
        awaits_callback=awaits_callback,
    )
    if subject is not None:
        message.subject_type = ContentType.objects.get_for_model(subject)
        message.subject_id = str(subject.pk)
    message.save()
    _send_after_commit(message.pk)
    return message


def messages_for(subject):
    """The subject's outbox messages, newest first."""
    return OutboxMessage.objects.for_subject(subject).order_by("-created_at", "-id")


def latest_for(subject) -> OutboxMessage | None:
    return messages_for(subject).first()


# --- Sending ----------------------------------------------------------------------------------------------


def _send_after_commit(message_id: int, countdown: float | None = None) -> None:
    """Queue the send task after the commit. An unreachable broker is logged: the minute sweep sends it."""

    def send():
        from .tasks import send_outbox_message

        try:
            send_outbox_message.apply_async((message_id,), countdown=countdown)
        except (kombu.exceptions.OperationalError, redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
            log.warning("Outbox message %s not queued, the broker is unreachable; the sweep sends it", message_id)

    transaction.on_commit(send)


def _call(message: OutboxMessage):
    kwargs = {"json": message.body, "headers": message.headers or None, "request_id": message.request_id}
    if message.base == OutboxBase.ABHA:
        return client.abha_request(message.method, message.path, **kwargs)
    if message.base == OutboxBase.HFR:
        return client.hfr_request(message.method, message.path, **kwargs)
    return client.gateway_request(message.method, message.path, **kwargs)


def retry_delay(attempts: int) -> float:
    """Seconds before attempt `attempts + 1`: doubling from FIRST_RETRY_SECONDS, capped, with jitter (so messages
    put off by one outage do not all come back in the same second)."""
    delay = min(settings.ABDM_OUTBOX_MAX_DELAY, FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0))
    return random.uniform(delay / 2, delay)  # noqa: S311 - jitter, not a secret


def _lease() -> timedelta:
    """How long a worker holds a message it is sending: a session renewal, the call, a 401's renewal and retry."""
    return timedelta(seconds=4 * settings.ABDM_TIMEOUT + 30)


def deliver(message_id: int) -> str | None:
    """Send one message if it is pending and due, and record the outcome. Returns the new status, or None when
    there was nothing to do (another worker has it, it is not due, or it is no longer pending).

    The message is claimed under a row lock (`select_for_update(skip_locked=True)`): its attempt is counted and its
    next attempt put beyond the call's longest time, so no other worker or sweep sends it meanwhile. The call runs
    outside any transaction (a callback that overtakes the answer is not blocked by our lock and completes the
    message itself). The outcome is then recorded under the lock, unless the message moved on meanwhile (completed
    by its callback, abandoned). On success the kind's on_success runs in that transaction (in a savepoint: a failing
    handler is logged and does not undo the send); on a refusal or after giving up, on_failure runs the same way.
    """
    now = timezone.now()
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, status=OutboxStatus.PENDING)
            .first()
        )
        if message is None or (message.next_attempt_at and message.next_attempt_at > now):
            return None
        message.attempts += 1
        message.next_attempt_at = now + _lease()
        message.save(update_fields=["attempts", "next_attempt_at", "updated_at"])
    error = body = None
    try:
        body = _call(message)
    except client.AbdmError as raised:
        error = raised
    with transaction.atomic():
        current = OutboxMessage.objects.select_for_update().get(pk=message.pk)
        if current.status != OutboxStatus.PENDING or current.attempts != message.attempts:
            return current.status  # its callback completed it, or an administrator abandoned it, meanwhile
        if error is not None:
            return _record_error(current, error, timezone.now())
        current.response = body if isinstance(body, dict | list) else None
        current.sent_at = timezone.now()
        current.error_code = current.last_error = ""
        current.next_attempt_at = None
        if current.awaits_callback:
            current.status = OutboxStatus.AWAITING_CALLBACK
        else:
            current.status = OutboxStatus.SENT
            current.completed_at = current.sent_at
        current.save()
        if not current.awaits_callback:
            run_success(current, body)
        return current.status


def _record_error(message: OutboxMessage, error: client.AbdmError, now) -> str:
    message.error_code = (error.code or "")[:50]
    message.last_error = (error.message or str(error))[:1000]
    give_up_at = message.created_at + timedelta(hours=settings.ABDM_OUTBOX_GIVE_UP_HOURS)
    if error.transient and now < give_up_at:
        delay = retry_delay(message.attempts)
        message.next_attempt_at = now + timedelta(seconds=delay)
        message.save()
        log.info("Outbox %s (%s) attempt %s: ABDM not answering; next in %ds", message.pk, message.kind,
                 message.attempts, delay)  # fmt: skip
        _send_after_commit(message.pk, countdown=delay + 0.5)
        return message.status
    if error.transient:
        message.error_code = "gave_up"
    message.status = OutboxStatus.FAILED
    message.next_attempt_at = None
    message.completed_at = now
    message.save()
    log.warning("Outbox %s (%s) failed: %s", message.pk, message.kind, message.error_code)
    run_failure(message)
    return message.status


def run_success(message: OutboxMessage, body) -> None:
    handler = handlers_for(message.kind).on_success
    if handler is None:
        return
    try:
        with transaction.atomic():
            handler(message, body)
    except Exception:
        log.exception("on_success of outbox kind %s failed for message %s", message.kind, message.pk)


def run_failure(message: OutboxMessage) -> None:
    handler = handlers_for(message.kind).on_failure
    if handler is None:
        return
    try:
        with transaction.atomic():
            handler(message)
    except Exception:
        log.exception("on_failure of outbox kind %s failed for message %s", message.kind, message.pk)


def due_message_ids(limit: int = 200) -> list[int]:
    due = OutboxMessage.objects.due(timezone.now()).order_by("next_attempt_at", "id")
    return list(due.values_list("pk", flat=True)[:limit])


# --- Callbacks and administrators -------------------------------------------------------------------------


def complete_from_callback(request_id, body: dict) -> OutboxMessage | None:
    """Mark the message whose REQUEST-ID ABDM answers as done and run its kind's on_success. Returns the message,
    or None when no message awaiting a callback has that request ID. A message still pending (its answer has not
    come back yet, or its send timed out but ABDM had it) is completed too."""
    try:
        with transaction.atomic():
            message = (
                OutboxMessage.objects.select_for_update()
                .filter(
                    request_id=request_id,
                    awaits_callback=True,
                    status__in=[OutboxStatus.PENDING, OutboxStatus.AWAITING_CALLBACK],
                )
                .first()
            )
            if message is None:
                return None
            now = timezone.now()
            message.status = OutboxStatus.DONE
            message.response = body
            message.completed_at = now
            message.sent_at = message.sent_at or now
            message.next_attempt_at = None
            message.save()
            run_success(message, body)
            return message
    except ValueError:  # not a UUID
        return None


@transaction.atomic
def message_retry(*, message: OutboxMessage, actor, request=None) -> OutboxMessage:
    """Put a failed or waiting message back to pending, due now, and queue its send. Audited."""
    message = OutboxMessage.objects.select_for_update().get(pk=message.pk)
    if message.status in (OutboxStatus.SENT, OutboxStatus.DONE):
        return message
    previous = message.status
    message.status = OutboxStatus.PENDING
    message.next_attempt_at = None
    message.completed_at = None
    message.save()
    audit_record(
        actor=actor,
        action="abdm.outbox_retry",
        target=message,
        details={"kind": message.kind, "request_id": str(message.request_id), "from": previous},
        request=request,
    )
    _send_after_commit(message.pk)
    return message


@transaction.atomic
def message_abandon(*, message: OutboxMessage, actor, request=None) -> OutboxMessage:
    """Give up on a message that is not finished: it is never sent (again); the kind's on_failure runs. Audited."""
    message = OutboxMessage.objects.select_for_update().get(pk=message.pk)
    if message.status in (OutboxStatus.SENT, OutboxStatus.DONE, OutboxStatus.ABANDONED):
        return message
    previous = message.status
    message.status = OutboxStatus.ABANDONED
    message.next_attempt_at = None
    message.completed_at = timezone.now()
    message.save()
    audit_record(
        actor=actor,
        action="abdm.outbox_abandon",
        target=message,
        details={"kind": message.kind, "request_id": str(message.request_id), "from": previous},
        request=request,
    )
    if previous != OutboxStatus.FAILED:  # a failed message's on_failure already ran
        run_failure(message)
    return message
