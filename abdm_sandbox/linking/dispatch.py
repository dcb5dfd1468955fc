"""Callbacks answering an M2 call go out after the call's 202, as ABDM's gateway sends them: after the transaction
commits, from a small thread pool (ABDM_SANDBOX_CALLBACK_WORKERS, default 8), again after 1, 3 and 9 s
(ABDM_SANDBOX_CALLBACK_RETRIES) while the bridge does not answer or answers 5xx. Every body sent is checked against
the spec's schema first: a body that does not match is a sandbox bug, logged and not sent."""

import logging
import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import jsonschema
from django.db import close_old_connections, transaction

from ..callbacks import UnknownBridge, send_callback

logger = logging.getLogger(__name__)

_pool = ThreadPoolExecutor(
    max_workers=int(os.environ.get("ABDM_SANDBOX_CALLBACK_WORKERS") or 8), thread_name_prefix="m2-callback"
)
# As the sandbox's consent manager does: a callback not taken is sent again after 1, 3 and 9 seconds.
RETRY_PAUSES = tuple(float(x) for x in (os.environ.get("ABDM_SANDBOX_CALLBACK_RETRIES") or "1,3,9").split(",") if x)
_validators: dict[int, jsonschema.Draft202012Validator] = {}


def validator(schema: dict) -> jsonschema.Draft202012Validator:
    found = _validators.get(id(schema))
    if found is None:
        found = _validators[id(schema)] = jsonschema.Draft202012Validator(schema)
    return found


def problem(body, schema: dict) -> str | None:
    """None when `body` matches `schema`, else the first problem, e.g. "patient.0.count: 25 is greater than ..."."""
    errors = sorted(validator(schema).iter_errors(body), key=lambda error: list(error.absolute_path))
    if not errors:
        return None
    error = errors[0]
    where = ".".join(str(part) for part in error.absolute_path) or "body"
    return f"{where}: {error.message}"[:250]


def deliver(
    bridge_id: str,
    path: str,
    body: dict,
    schema: dict,
    *,
    hip_id: str = "",
    request_id: str | None = None,
    on_result=None,
    attempt: int = 0,
) -> None:
    """Send one callback (checked against `schema`). A bridge that does not answer, or answers 5xx, is called
    again after RETRY_PAUSES (seconds) with the same REQUEST-ID, off the pool's threads meanwhile; a 4xx is its
    answer. `on_result(status)` hears the last attempt's HTTP status (None: no answer, or not sent)."""
    wrong = problem(body, schema)
    if wrong:
        logger.error("not sending %s to %s: the body does not match the spec (%s)", path, bridge_id, wrong)
        if on_result:
            on_result(None)
        return
    request_id = request_id or str(uuid.uuid4())
    headers = {"X-HIP-ID": hip_id} if hip_id else None
    try:
        status, _answer = send_callback(bridge_id, path, body, request_id, headers=headers)
    except UnknownBridge:
        logger.warning("callback %s: bridge %s has no URL", path, bridge_id)
        status = None
        attempt = len(RETRY_PAUSES)
    if (status is None or status >= 500) and attempt < len(RETRY_PAUSES):
        again = {"hip_id": hip_id, "request_id": request_id, "on_result": on_result, "attempt": attempt + 1}
        timer = threading.Timer(
            RETRY_PAUSES[attempt], _pool.submit, args=(_run, deliver, (bridge_id, path, body, schema), again)
        )
        timer.daemon = True
        timer.start()
        return
    if on_result:
        on_result(status)


def _run(function, args, kwargs):
    close_old_connections()
    try:
        function(*args, **kwargs)
    except Exception:
        logger.exception("callback task %s failed", getattr(function, "__name__", function))
    finally:
        close_old_connections()


def after_commit(function, *args, **kwargs) -> None:
    """Run `function(*args, **kwargs)` on the pool once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: _pool.submit(_run, function, args, kwargs))


def deliver_after_commit(bridge_id: str, path: str, body: dict, schema: dict, **options) -> None:
    """`deliver` once the current transaction commits."""
    after_commit(deliver, bridge_id, path, body, schema, **options)
