"""SMS delivery behind a pluggable backend, chosen like Django's email backends.

SMS_BACKEND is a short name (console, file, locmem, http) or a dotted path to a class with
`send(to, text)`. Message texts carry OTPs, so they are never logged, at any level; the log shows
the masked number. To read an OTP in development use the `file` backend's outbox.
"""

import json
import logging
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings
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
    digits = "".join(ch for ch in str(mobile) if ch.isdigit())
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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"to": to, "text": text, "at": timezone.now().isoformat()}, ensure_ascii=False)
        with self._lock, self.path.open("a", encoding="utf-8") as outbox:
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
        except (urllib.error.URLError, TimeoutError) as error:
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
