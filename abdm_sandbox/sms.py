"""The sandbox's UIDAI "sends" SMS by appending a JSON line to ABDM_SANDBOX_SMS_FILE: the same file and line
format as the portal's core.sms.FileBackend (`to`, `text`, `at`; `sent_at` carries the same time), so one outbox
shows what both sent. Texts carry OTPs: never logged; the file is the running user's alone (0600)."""

import datetime
import json
import os
import threading

from django.conf import settings

_lock = threading.Lock()


def send_sms(mobile: str, text: str) -> None:
    path = settings.SANDBOX_SMS_FILE
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC).isoformat()
    line = json.dumps({"to": mobile, "text": text, "at": now, "sent_at": now}, ensure_ascii=False)
    with _lock:
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(descriptor, "a", encoding="utf-8") as outbox:
            outbox.write(line + "\n")
