"""Sandbox-only helper endpoints under /sandbox/v1/ (not ABDM's contract): seeding and tests drive the sandbox
with them. No session token: they are for whoever runs the sandbox, on loopback."""

from .callbacks import TAMPERS, UnknownBridge, send_callback
from .errors import abdm_error
from .http import api_view, json_body, ok


@api_view("GET")
def health(request):
    """GET /sandbox/v1/health: the sandbox is up and its database answers."""
    from .models import ApiClient  # noqa: PLC0415

    return ok({"status": "UP", "clients": ApiClient.objects.count()})


@api_view("POST")
def callbacks(request):
    """POST /sandbox/v1/callbacks {bridgeId, path, body, requestId?, tamper?, headers?}: the sandbox sends that
    callback to the bridge now (signed as the gateway signs, or tampered) and answers what the bridge said:
    {"status": <HTTP status or null>, "body": <its answer>, "requestId": ...}."""
    payload = json_body(request)
    bridge_id, path, body = payload.get("bridgeId"), payload.get("path"), payload.get("body")
    tamper, headers = payload.get("tamper"), payload.get("headers") or {}
    if not isinstance(bridge_id, str) or not isinstance(path, str) or not isinstance(body, dict):
        return abdm_error(400, "ABDM-1006", "bridgeId (string), path (string) and body (object) are required")
    if tamper is not None and tamper not in TAMPERS:
        return abdm_error(400, "ABDM-1006", f"tamper must be one of {', '.join(TAMPERS)}")
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        return abdm_error(400, "ABDM-1006", "headers must be an object of strings")
    request_id = payload.get("requestId")
    try:
        status, answer = send_callback(bridge_id, path, body, request_id, tamper=tamper, headers=headers)
    except UnknownBridge:
        return abdm_error(404, "ABDM-1001", f"No bridge {bridge_id!r} with a registered URL")
    return ok({"status": status, "body": answer, "requestId": request_id})
