"""SMS delivery behind a pluggable backend, chosen like Django's email backends.

SMS_BACKEND is a short name (console, file, locmem, http) or a dotted path to a class with
`send(to, text)`. Message texts carry OTPs, so they are never logged, at any level; the log shows
the masked number. To read an OTP in development use the `file` backend's outbox.

Services send with `send_on_commit`: after their transaction commits, and a gateway error never turns the
committed write into an error page (the `core.sms_send` task tries again a few times).
"""

import json
import logging
import os
import sys
import threading
import urllib.request
from pathlib import Path

import kombu.exceptions
import redis.exceptions
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

BACKENDS = {
    "console": "core.sms.ConsoleBackend",
    "file": "core.sms.FileBackend",
    "locmem": "core.sms.LocmemBackend",
    "http": "core.sms.HttpGatewayBackend",
}


class SmsDeliveryError(Exception):
    """The message could not be handed to the gateway; the caller may retry later."""


def mask_mobile(mobile: str) -> str:
    """`9876543210` -> `98xxxxxx10`, the form ABDM cards and logs use."""
    digits = "".join(ch for ch in str(mobile) if ch.isdecimal())
    if len(digits) < 4:
        return "x" * len(digits)
    return digits[:2] + "x" * (len(digits) - 4) + digits[-2:]


class ConsoleBackend:
    """Prints messages to standard output (development). With DEBUG off (a deployment that forgot to set
    SMS_BACKEND, whose stdout goes to the log collector) it prints only the masked number, never the text."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def send(self, to: str, text: str) -> None:
        if settings.DEBUG:
            self.stream.write(f"SMS to {to}: {text}\n")
        else:
            self.stream.write(f"SMS to {mask_mobile(to)} (text not shown: DEBUG is off)\n")
        self.stream.flush()


class FileBackend:
    """Appends one JSON line per message to SMS_FILE_PATH (the `make run` default)."""

    _lock = threading.Lock()

    def __init__(self, path: Path | None = None):
        self.path = Path(path or settings.SMS_FILE_PATH)

    def send(self, to: str, text: str) -> None:
        # The texts carry OTPs: the folder and the file are the running user's alone (0700, 0600), and an outbox
        # left readable by an older version is narrowed on the next message.
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        line = json.dumps({"to": to, "text": text, "at": timezone.now().isoformat()}, ensure_ascii=False)
        with self._lock:
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            os.fchmod(descriptor, 0o600)
            with os.fdopen(descriptor, "a", encoding="utf-8") as outbox:
                outbox.write(line + "\n")


class LocmemBackend:
    """Keeps messages in `LocmemBackend.outbox` (tests)."""

    outbox: list[dict] = []

    def send(self, to: str, text: str) -> None:
        LocmemBackend.outbox.append({"to": to, "text": text, "at": timezone.now().isoformat()})


class HttpGatewayBackend:
    """POSTs JSON `{"to", "text", "sender"}` to SMS_HTTP_URL with a bearer token.

    The shape fits most Indian SMS gateways after a small adapter; DLT template ids and the
    gateway's own fields belong in a subclass configured by SMS_BACKEND=dotted.path.
    """

    def __init__(self):
        if not settings.SMS_HTTP_URL.startswith(("https://", "http://")):
            raise SmsDeliveryError("SMS_HTTP_URL must be an http(s) URL.")
        self.url = settings.SMS_HTTP_URL
        self.token = settings.SMS_HTTP_TOKEN
        self.sender = settings.SMS_HTTP_SENDER
        self.timeout = settings.SMS_HTTP_TIMEOUT

    def send(self, to: str, text: str) -> None:
        body = json.dumps({"to": to, "text": text, "sender": self.sender}).encode()
        request = urllib.request.Request(self.url, data=body, method="POST")  # noqa: S310 - http(s) checked above
        request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - http(s) checked in __init__
                if response.status >= 300:
                    raise SmsDeliveryError(f"Gateway answered {response.status}.")
        except OSError as error:  # URLError (HTTPError too), timeouts, and a connection reset while reading the answer
            raise SmsDeliveryError(f"Gateway unreachable: {error}") from error


def get_backend():
    path = BACKENDS.get(settings.SMS_BACKEND, settings.SMS_BACKEND)
    return import_string(path)()


def send_sms(*, to: str, text: str) -> None:
    """Deliver `text` to mobile `to` through the configured backend.

    Raises SmsDeliveryError when the gateway fails. The text is never logged (it usually
    carries an OTP, and DEBUG logs end up in shared places too); the number only masked.
    """
    get_backend().send(to, text)
    logger.info("SMS sent to %s", mask_mobile(to))


# The first background try waits this many seconds, each later one twice as long (core.sms_send: 5, 10, 20 s). An OTP
# then arrives well within its 10 minutes, and before the citizen may ask for a new one (60 s): a later message would
# carry an OTP that no longer works.
SMS_RETRY_DELAY = 5
BROKER_ERRORS = (kombu.exceptions.OperationalError, redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def send_on_commit(*, to: str, text: str) -> None:
    """Send `text` to `to` once the surrounding transaction commits (at once outside one).

    The write has committed by then, so a failed delivery must not fail the request: it is logged (the masked
    number, never the text) and handed to the `core.sms_send` task, which tries again with backoff. When the
    broker is unreachable too, the message is dropped with a warning, as core.outage.enqueue_on_commit does
    (a citizen can ask for the OTP again).
    """

    def deliver():
        try:
            send_sms(to=to, text=text)
        except Exception as error:  # noqa: BLE001 - after the commit any backend failure is retried, never a 500
            logger.warning("SMS to %s not delivered (%s); retrying in the background", mask_mobile(to), _reason(error))
            _retry_in_background(to, text)

    transaction.on_commit(deliver)


def _retry_in_background(to: str, text: str) -> None:
    from .tasks import sms_send

    try:
        sms_send.apply_async(kwargs={"to": to, "text": text}, countdown=SMS_RETRY_DELAY, kwargsrepr=task_kwargsrepr(to))
    except BROKER_ERRORS as error:
        logger.warning("SMS to %s dropped: the broker is unreachable (%s)", mask_mobile(to), type(error).__name__)


def task_kwargsrepr(to: str) -> str:
    """What Celery logs and keeps as the sms_send task's arguments: the masked number; the text carries an OTP."""
    return repr({"to": mask_mobile(to), "text": "(not shown)"})


def _reason(error: Exception) -> str:
    """What the log may say about a failure: our gateway errors carry no text; any other error only its class."""
    return str(error) if isinstance(error, SmsDeliveryError) else type(error).__name__
