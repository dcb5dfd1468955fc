"""Sandbox-only helper endpoints under /sandbox/v1/ (not ABDM's contract): seeding and tests drive the sandbox
with them. No session token: they are for whoever runs the sandbox, on loopback."""

import uuid

from .callbacks import TAMPERS, UnknownBridge, send_callback
from .errors import abdm_error
from .faults import MAX_DELAY, describe
from .http import api_view, json_body, ok
from .models import CallbackAttempt, Fault


@api_view("GET")
def health(request):
    """GET /sandbox/v1/health: the sandbox is up and its database answers."""
    from .models import ApiClient  # noqa: PLC0415

    return ok({"status": "UP", "clients": ApiClient.objects.count()})


@api_view("GET", "POST")
def callbacks(request):
    """GET /sandbox/v1/callbacks?bridgeId=&requestId=: the callbacks sent so far, newest first (at most 100):
    {"callbacks": [{bridgeId, path, requestId, status, response, sentAt}]}.

    POST /sandbox/v1/callbacks {bridgeId, path, body, requestId?, tamper?, headers?}: the sandbox sends that
    callback to the bridge now (signed as the gateway signs, or tampered) and answers what the bridge said:
    {"status": <HTTP status or null>, "body": <its answer>, "requestId": ...}."""
    if request.method == "GET":
        return _sent_callbacks(request)
    payload = json_body(request)
    bridge_id, path, body = payload.get("bridgeId"), payload.get("path"), payload.get("body")
    tamper, headers = payload.get("tamper"), payload.get("headers") or {}
    if not isinstance(bridge_id, str) or not isinstance(path, str) or not isinstance(body, dict):
        return abdm_error(400, "ABDM-1006", "bridgeId (string), path (string) and body (object) are required")
    if tamper is not None and tamper not in TAMPERS:
        return abdm_error(400, "ABDM-1006", f"tamper must be one of {', '.join(TAMPERS)}")
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        return abdm_error(400, "ABDM-1006", "headers must be an object of strings")
    request_id = payload.get("requestId") or str(uuid.uuid4())
    if not isinstance(request_id, str):
        return abdm_error(400, "ABDM-1006", "requestId must be a string")
    try:
        status, answer = send_callback(bridge_id, path, body, request_id, tamper=tamper, headers=headers)
    except UnknownBridge:
        return abdm_error(404, "ABDM-1001", f"No bridge {bridge_id!r} with a registered URL")
    return ok({"status": status, "body": answer, "requestId": request_id})


def _sent_callbacks(request):
    attempts = CallbackAttempt.objects.order_by("-pk")
    if request.GET.get("bridgeId"):
        attempts = attempts.filter(bridge_id=request.GET["bridgeId"])
    if request.GET.get("requestId"):
        attempts = attempts.filter(request_id=request.GET["requestId"])
    return ok(
        {
            "callbacks": [
                {
                    "bridgeId": attempt.bridge_id,
                    "path": attempt.path,
                    "requestId": attempt.request_id,
                    "status": attempt.status,
                    "response": attempt.response_body,
                    "sentAt": attempt.created_at.isoformat(),
                }
                for attempt in attempts[:100]
            ]
        }
    )


@api_view("GET", "POST", "DELETE")
def faults(request):
    """POST /sandbox/v1/faults {path, method?, status?, code?, message?, delaySeconds?, times?}: from now on,
    requests whose path starts with `path` (e.g. "/api/hiecm/gateway/v3/sessions", "/abha/api/v3/enrollment",
    "/" for everything) wait delaySeconds (at most 120), then answer `status` (503: the spec's ABDM-1024 body;
    502/504: a proxy's HTML page; others ABDM-9999, or `code`/`message` when given); without status they are
    served normally after the delay. `times`: how many requests it affects (default: until cleared).
    GET lists the faults; DELETE clears them all (the /sandbox/ helpers are never affected)."""
    if request.method == "GET":
        return ok({"faults": [describe(fault) for fault in Fault.objects.order_by("pk")]})
    if request.method == "DELETE":
        Fault.objects.all().delete()
        return ok({"faults": []})
    body = json_body(request)
    path, status, times = body.get("path"), body.get("status"), body.get("times")
    delay = body.get("delaySeconds", 0)
    problems = []
    if not isinstance(path, str) or not path.startswith("/"):
        problems.append("path must be a path starting with /")
    if status is not None and (not isinstance(status, int) or not 400 <= status <= 599):
        problems.append("status must be an HTTP error status (400-599)")
    if not isinstance(delay, int | float) or isinstance(delay, bool) or not 0 <= delay <= MAX_DELAY:
        problems.append(f"delaySeconds must be between 0 and {MAX_DELAY:g}")
    if times is not None and (not isinstance(times, int) or isinstance(times, bool) or times < 1):
        problems.append("times must be a positive integer")
    if status is None and not delay:
        problems.append("give a status, a delaySeconds, or both")
    method = body.get("method") or ""
    if not isinstance(method, str) or len(method) > 10:
        problems.append("method must be an HTTP method")
    code, message = body.get("code") or "", body.get("message") or ""
    if not isinstance(code, str) or not isinstance(message, str) or len(code) > 20 or len(message) > 300:
        problems.append("code and message must be short strings")
    if problems:
        return abdm_error(400, "ABDM-1006", "; ".join(problems))
    fault = Fault.objects.create(
        path_prefix=path,
        method=method.upper(),
        status=status,
        code=code,
        message=message,
        delay_seconds=float(delay),
        remaining=times,
    )
    return ok(describe(fault), status=201)
