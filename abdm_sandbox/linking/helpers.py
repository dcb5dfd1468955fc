"""Sandbox-only helpers (not ABDM's contract), under /sandbox/v1/: the ABHA app's side of user-initiated linking and
of Scan & Share, played by the sandbox, and counts of what is linked.

    POST /sandbox/v1/app/discover      {abhaAddress, hipId, unverifiedIdentifiers?} -> 202 {transactionId, requestId}
    POST /sandbox/v1/app/link/init     {transactionId, patient?: [{referenceNumber, careContexts: [{referenceNumber}]}]}
                                       (default: everything discovered) -> 202 {transactionId, requestId}
    POST /sandbox/v1/app/link/confirm  {transactionId, otp} -> 202 {transactionId, requestId}
    GET  /sandbox/v1/app/links/<transactionId>[?wait=<s>&until=<status>]  the flow: status, what was discovered,
                                       the link reference and OTP details, what was linked, the HIP's error
    POST /sandbox/v1/app/share         {abhaAddress, hipId, counterId, latitude?, longitude?, hprId?}
                                       -> 202 {requestId}
    GET  /sandbox/v1/app/share/<requestId>[?wait=<s>]  the HIP's answer: tokenNumber and expiry, or its error
    GET  /sandbox/v1/linking/stats[?hipId=]            linked care contexts per HIP
    GET  /sandbox/v1/linking/care-contexts?abhaAddress=[&hipId=]  the care contexts linked to that ABHA

Each app call sends the spec's callback to the HIP's bridge after answering (again after 1, 3 and 9 s while the
bridge does not answer or answers 5xx); when the bridge never takes it, the flow fails with ABDM-1401 "HIP is not
available".
"""

import functools
import time
import uuid

from django.db import transaction
from django.http import JsonResponse

from ..abha.models import AccountStatus
from ..errors import abdm_error
from ..http import api_view, json_body, ok
from ..models import BridgeService
from . import schemas
from .dispatch import deliver_after_commit, problem
from .models import ProfileShare, UserLink
from .services import account_for_address, care_contexts_for, link_counts
from .views import DISCOVER_WEBHOOK, LINK_CONFIRM_WEBHOOK, LINK_INIT_WEBHOOK, PATIENT_SHARE_WEBHOOK

MAX_WAIT = 30.0
_COUNTER = schemas.PATIENT_SHARE["properties"]["metaData"]["properties"]["context"]["pattern"]


def _hip_bridge(hip_id) -> str | None:
    """The bridge serving `hip_id` as an active HIP (and with a callback URL), as ABDM routes to it."""
    if not isinstance(hip_id, str) or not hip_id.strip():
        return None
    service = (
        BridgeService.objects.select_related("bridge")
        .filter(service_id=hip_id.strip(), active=True, is_hip=True, bridge__active=True)
        .exclude(bridge__url="")
        .order_by("pk")
        .first()
    )
    return service.bridge.bridge_id if service else None


def _account(address):
    """(account, full address) or an error answer for an unknown or deactivated ABHA."""
    account, full = account_for_address(address)
    if account is None:
        return None, abdm_error(400, "ABDM-1051", "Invalid ABHA Number or ABHA Address")
    if account.status != AccountStatus.ACTIVE:
        return None, abdm_error(
            400,
            "ABDM-1407",
            "The ABHA Number associated with this ABHA Address is currently deactivated. Please reactivate it.",
        )
    return (account, full), None


def _flow_failed(flow_id: int, code: str, message: str) -> None:
    waiting = (UserLink.Status.DISCOVERING, UserLink.Status.INITIATING, UserLink.Status.CONFIRMING)
    UserLink.objects.filter(pk=flow_id, status__in=waiting).update(
        status=UserLink.Status.FAILED, error_code=code, error_message=message
    )


def _leg_result(flow_id: int, status) -> None:
    if status is None or not 200 <= status < 300:
        _flow_failed(flow_id, "ABDM-1401", "HIP is not available")


def _send_leg(flow: UserLink, path: str, payload: dict, schema: dict, request_id) -> None:
    """After commit: the leg's callback to the HIP's bridge; the flow fails when the bridge never takes it."""
    deliver_after_commit(flow.bridge_id, path, payload, schema, hip_id=flow.hip_id, request_id=str(request_id),
                         on_result=functools.partial(_leg_result, flow.pk))  # fmt: skip


def _formatted(number: str) -> str:
    return f"{number[:2]}-{number[2:6]}-{number[6:10]}-{number[10:]}"


def _identifiers(value) -> list[dict] | None:
    if value is None:
        return []
    if not isinstance(value, list):
        return None
    wanted = {"type": "object", "required": ["type", "value"]}
    if any(problem(item, wanted) for item in value):
        return None
    return [{"type": item["type"], "value": item["value"]} for item in value]


@api_view("POST")
def app_discover(request):
    """The ABHA app asks the HIP `hipId` for the patient's records: the discover callback goes to its bridge."""
    body = json_body(request)
    found, refused = _account(body.get("abhaAddress"))
    if refused:
        return refused
    account, address = found
    bridge_id = _hip_bridge(body.get("hipId"))
    if bridge_id is None:
        return abdm_error(400, "ABDM-1035", "Invalid HIP ID")
    unverified = _identifiers(body.get("unverifiedIdentifiers"))
    if unverified is None:
        return abdm_error(400, "ABDM-1006", "unverifiedIdentifiers must be a list of {type, value}")
    verified = [
        {"type": "ABHA_NUMBER", "value": _formatted(account.abha_number)},
        {"type": "ABHA_ADDRESS", "value": address},
    ]
    if account.mobile and account.mobile_verified:
        verified.insert(0, {"type": "MOBILE", "value": account.mobile})
    hip_id = body["hipId"].strip()
    with transaction.atomic():
        flow = UserLink.objects.create(bridge_id=bridge_id, hip_id=hip_id, abha_address=address,
                                       abha_number=account.abha_number)  # fmt: skip
        payload = {
            "transactionId": str(flow.transaction_id),
            "patient": {
                "id": address,
                "verifiedIdentifiers": verified,
                "unverifiedIdentifiers": unverified,
                "name": account.name,
                "gender": account.gender,
                "yearOfBirth": account.year_of_birth,
            },
        }
        refused = _bad_payload(payload, schemas.DISCOVER)
        if refused:
            return refused
        _send_leg(flow, DISCOVER_WEBHOOK, payload, schemas.DISCOVER, flow.discover_request_id)
    return ok({"transactionId": str(flow.transaction_id), "requestId": str(flow.discover_request_id)}, 202)


def _bad_payload(payload, schema):
    wrong = problem(payload, schema)
    return abdm_error(400, "ABDM-1006", f"Bad Request, invalid request Body ({wrong})") if wrong else None


def _live_flow(body, statuses) -> tuple[UserLink | None, JsonResponse | None]:
    try:
        transaction_id = uuid.UUID(str(body.get("transactionId")))
    except ValueError:
        return None, abdm_error(400, "ABDM-1017", "Invalid TransactionId")
    flow = UserLink.objects.select_for_update().filter(transaction_id=transaction_id).first()
    if flow is None:
        return None, abdm_error(404, "ABDM-1017", "Invalid TransactionId")
    if flow.status not in statuses:
        return None, abdm_error(400, "ABDM-2406", "Invalid API sequence flow, please follow logical flow")
    return flow, None


def _chosen(flow: UserLink, wanted) -> list[dict] | None:
    """The discovered entries narrowed to what the patient picked (all when nothing is named); None when the
    patient names something not discovered."""
    if wanted is None:
        picks = None
    elif isinstance(wanted, list):
        picks = {}
        for entry in wanted:
            if not isinstance(entry, dict) or not isinstance(entry.get("careContexts"), list):
                return None
            picks.setdefault(str(entry.get("referenceNumber")), set()).update(
                str(item.get("referenceNumber")) for item in entry["careContexts"] if isinstance(item, dict)
            )
    else:
        return None
    chosen = []
    for entry in flow.discovered:
        items = entry["careContexts"]
        if picks is not None:
            items = [item for item in items if item["referenceNumber"] in picks.get(entry["referenceNumber"], ())]
        if not items:
            continue
        types = entry["hiType"] if isinstance(entry["hiType"], list) else [entry["hiType"]]
        chosen.append(
            {
                "referenceNumber": entry["referenceNumber"],
                "display": entry["display"],
                "careContexts": [{"referenceNumber": i["referenceNumber"], "display": i["display"]} for i in items],
                "hiType": types[0] if types else "HealthDocumentRecord",
                "count": len(items),
            }
        )
    if picks is not None:
        offered = {(e["referenceNumber"], i["referenceNumber"]) for e in chosen for i in e["careContexts"]}
        if offered != {(p, r) for p, refs in picks.items() for r in refs}:
            return None
    return chosen


@api_view("POST")
@transaction.atomic
def app_link_init(request):
    """The patient picks discovered care contexts: the link-init callback goes to the HIP's bridge."""
    body = json_body(request)
    flow, refused = _live_flow(body, {UserLink.Status.DISCOVERED})
    if refused:
        return refused
    chosen = _chosen(flow, body.get("patient"))
    if not chosen:
        return abdm_error(400, "ABDM-1057", "Invalid Care Contexts")
    payload = {"transactionId": str(flow.transaction_id), "abhaAddress": flow.abha_address, "patient": chosen}
    refused = _bad_payload(payload, schemas.LINK_INIT)
    if refused:
        return refused
    flow.init_request_id = uuid.uuid4()
    flow.requested = chosen
    flow.status = UserLink.Status.INITIATING
    flow.save()
    _send_leg(flow, LINK_INIT_WEBHOOK, payload, schemas.LINK_INIT, flow.init_request_id)
    return ok({"transactionId": str(flow.transaction_id), "requestId": str(flow.init_request_id)}, 202)


@api_view("POST")
@transaction.atomic
def app_link_confirm(request):
    """The patient types the HIP's OTP: the link-confirm callback (token = the OTP as an integer, as the spec
    types it) goes to the HIP's bridge."""
    body = json_body(request)
    flow, refused = _live_flow(body, {UserLink.Status.AWAITING_OTP})
    if refused:
        return refused
    otp = str(body.get("otp") or "")
    if not otp.isdigit() or not 4 <= len(otp) <= 8:
        return abdm_error(400, "ABDM-1006", "otp must be the digits the patient received")
    payload = {"confirmation": {"token": int(otp), "linkRefNumber": flow.link_reference}}
    flow.confirm_request_id = uuid.uuid4()
    flow.status = UserLink.Status.CONFIRMING
    flow.save()
    _send_leg(flow, LINK_CONFIRM_WEBHOOK, payload, schemas.LINK_CONFIRM, flow.confirm_request_id)
    return ok({"transactionId": str(flow.transaction_id), "requestId": str(flow.confirm_request_id)}, 202)


def _wait_seconds(request) -> float:
    try:
        return max(0.0, min(float(request.GET.get("wait") or 0), MAX_WAIT))
    except ValueError:
        return 0.0


def _flow_json(flow: UserLink) -> dict:
    return {
        "transactionId": str(flow.transaction_id),
        "status": flow.status,
        "hipId": flow.hip_id,
        "abhaAddress": flow.abha_address,
        "discovered": flow.discovered,
        "matchedBy": flow.matched_by,
        "requested": flow.requested,
        "linkRefNumber": flow.link_reference or None,
        "linkMeta": flow.link_meta or None,
        "linked": flow.linked,
        "error": {"code": flow.error_code, "message": flow.error_message} if flow.error_code else None,
    }


_SETTLED = {UserLink.Status.DISCOVERED, UserLink.Status.AWAITING_OTP, UserLink.Status.LINKED, UserLink.Status.FAILED}


@api_view("GET")
def app_link(request, transaction_id):
    """The flow as the app sees it. `wait` (seconds, at most 30): wait until it leaves its in-between state
    (DISCOVERING, INITIATING, CONFIRMING) or reaches `until`."""
    deadline = time.monotonic() + _wait_seconds(request)
    until = request.GET.get("until")
    while True:
        flow = UserLink.objects.filter(transaction_id=transaction_id).first()
        if flow is None:
            return abdm_error(404, "ABDM-1017", "Invalid TransactionId")
        done = flow.status == until if until else flow.status in _SETTLED
        if done or flow.status == UserLink.Status.FAILED or time.monotonic() >= deadline:
            return ok(_flow_json(flow))
        time.sleep(0.05)


def _share_result(share_id: int, status) -> None:
    if status is None or not 200 <= status < 300:
        ProfileShare.objects.filter(pk=share_id, status=ProfileShare.Status.SENT).update(
            status=ProfileShare.Status.FAILED, delivery_status=status, error_code="ABDM-1401",
            error_message="HIP is not available",
        )  # fmt: skip
    else:
        ProfileShare.objects.filter(pk=share_id).update(delivery_status=status)


def _number(value):
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError
    return value


@api_view("POST")
def app_share(request):
    """The patient scans a counter's QR (hip-id, counter-id) in the ABHA app: the patient-share callback (intent
    PROFILE_SHARE, metaData {hipId, context: the counter}, the profile) goes to the HIP's bridge. An unknown or
    inactive HIP service: 400 ABDM-1035, nothing sent."""
    body = json_body(request)
    found, refused = _account(body.get("abhaAddress"))
    if refused:
        return refused
    account, address = found
    bridge_id = _hip_bridge(body.get("hipId"))
    if bridge_id is None:
        return abdm_error(400, "ABDM-1035", "Invalid HIP ID")
    counter = body.get("counterId")
    try:
        latitude, longitude = _number(body.get("latitude")), _number(body.get("longitude"))
    except ValueError:
        return abdm_error(400, "ABDM-1006", "latitude and longitude must be numbers")
    hip_id = body["hipId"].strip()
    share = ProfileShare(bridge_id=bridge_id, hip_id=hip_id, counter_id=str(counter or "")[:250], abha_address=address)
    payload = {
        "intent": "PROFILE_SHARE",
        "metaData": {
            "hipId": hip_id,
            "context": counter,
            "hprId": body.get("hprId"),
            "latitude": latitude,
            "longitude": longitude,
        },  # fmt: skip
        "profile": {
            "patient": {
                "abhaNumber": _formatted(account.abha_number),
                "abhaAddress": address,
                "name": account.name,
                "gender": account.gender,
                "dayOfBirth": str(account.day_of_birth) if account.day_of_birth else None,
                "monthOfBirth": str(account.month_of_birth) if account.month_of_birth else None,
                "yearOfBirth": str(account.year_of_birth),
                "address": {
                    "line": account.address or None,
                    "district": account.district_name or None,
                    "state": account.state_name or None,
                    "pincode": account.pincode or None,
                },
                "phoneNumber": account.mobile or None,
            }
        },
    }
    refused = _bad_payload(payload, schemas.PATIENT_SHARE)
    if refused:
        return refused
    with transaction.atomic():
        share.save()
        result = functools.partial(_share_result, share.pk)
        deliver_after_commit(bridge_id, PATIENT_SHARE_WEBHOOK, payload, schemas.PATIENT_SHARE, hip_id=hip_id,
                             request_id=str(share.request_id), on_result=result)  # fmt: skip
    return ok({"requestId": str(share.request_id)}, 202)


def _share_json(share: ProfileShare) -> dict:
    return {
        "requestId": str(share.request_id),
        "status": share.status,
        "hipId": share.hip_id,
        "counterId": share.counter_id,
        "abhaAddress": share.abha_address,
        "tokenNumber": share.token_number or None,
        "expiry": share.expiry or None,
        "answer": share.answer or None,
        "error": {"code": share.error_code, "message": share.error_message} if share.error_code else None,
        "answeredAt": share.answered_at.isoformat() if share.answered_at else None,
    }


@api_view("GET")
def app_share_result(request, request_id):
    """The HIP's answer to a share. `wait` (seconds, at most 30): wait for it."""
    deadline = time.monotonic() + _wait_seconds(request)
    while True:
        share = ProfileShare.objects.filter(request_id=request_id).first()
        if share is None:
            return abdm_error(404, "ABDM-1052", "Invalid TransactionId or response's requestId")
        if share.status != ProfileShare.Status.SENT or time.monotonic() >= deadline:
            return ok(_share_json(share))
        time.sleep(0.05)


@api_view("GET")
def stats(request):
    """Linked care contexts per HIP: {"hips": [{hipId, careContexts, patients, byHip, byUser}], "careContexts"}
    (the total). A care context (HIP, patient reference, care-context reference) is linked at most once."""
    rows = link_counts(request.GET.get("hipId") or None)
    hips = [
        {"hipId": row["hip_id"], "careContexts": row["care_contexts"], "patients": row["patients"],
         "byHip": row["by_hip"], "byUser": row["by_user"]}
        for row in rows
    ]  # fmt: skip
    return ok({"hips": hips, "careContexts": sum(row["careContexts"] for row in hips)})


@api_view("GET")
def care_contexts(request):
    address = request.GET.get("abhaAddress", "")
    if not address:
        return abdm_error(400, "ABDM-1006", "abhaAddress is required")
    return ok({"careContexts": care_contexts_for(address, request.GET.get("hipId") or None)})
