"""Faults on purpose: ABDM slow, failing with 5xx, or refusing with a chosen error, for outage tests that need
more than a stopped sandbox. Set with POST /sandbox/v1/faults, cleared with DELETE; never applied to /sandbox/."""

import time

from django.db.models import F
from django.http import HttpResponse

from .errors import UNAVAILABLE, UNKNOWN, abdm_error
from .models import Fault

MAX_DELAY = 120.0


def matching_fault(request) -> Fault | None:
    """The oldest fault for this request that still has requests to fail (and takes one of them)."""
    for fault in Fault.objects.order_by("pk"):
        if not request.path.startswith(fault.path_prefix):
            continue
        if fault.method and fault.method.upper() != request.method:
            continue
        if fault.remaining is None:
            return fault
        if Fault.objects.filter(pk=fault.pk, remaining__gt=0).update(remaining=F("remaining") - 1):
            return fault
    return None


def play(fault: Fault):
    """Wait, then the fault's answer (None: serve the request normally)."""
    if fault.delay_seconds:
        time.sleep(min(fault.delay_seconds, MAX_DELAY))
    if not fault.status:
        return None
    if fault.code or fault.message:
        return abdm_error(fault.status, fault.code or "ABDM-9999", fault.message or "Fault set on the sandbox")
    if fault.status == 503:
        return abdm_error(503, *UNAVAILABLE)
    if fault.status in (502, 504):
        reason = {502: "Bad Gateway", 504: "Gateway Timeout"}[fault.status]
        return HttpResponse(f"<html><body><h1>{fault.status} {reason}</h1></body></html>", status=fault.status)
    return abdm_error(fault.status, *UNKNOWN)


def describe(fault: Fault) -> dict:
    return {
        "id": fault.pk,
        "path": fault.path_prefix,
        "method": fault.method or None,
        "status": fault.status,
        "code": fault.code or None,
        "message": fault.message or None,
        "delaySeconds": fault.delay_seconds,
        "times": fault.remaining,
    }
