"""The gateway's M2 operations a HIP calls (hiecm-m2.yaml, server https://dev.abdm.gov.in/api, so every path is
mounted under /api/), and the callbacks (on the bridge's URL) that answer them:

    POST /api/hiecm/v3/token/generate-token      m2_generate_link_token       -> /api/v3/hip/token/on-generate-token
    POST /api/hiecm/hip/v3/link/carecontext      m2_hip_link_care_context     -> /api/v3/link/on_carecontext
    POST /api/hiecm/hip/v3/link/context/notify   m2_link_care_context_notify  -> /api/v3/links/context/on-notify
    POST /api/hiecm/user-initiated-linking/v3/patient/care-context/on-discover   m2_on_discover_care_contexts
    POST /api/hiecm/user-initiated-linking/v3/link/care-context/on-init          m2_receive_link_init
    POST /api/hiecm/user-initiated-linking/v3/link/care-context/on-confirm       m2_receive_link_confirm
    POST /api/hiecm/patient-share/v3/on-share        (patient-share.yaml)

Each answers 202 with no body. A request the gateway cannot take (no session, bad headers, a body that breaks the
schema, an HIP that is not an active HIP service of the caller's bridge, a repeated REQUEST-ID) is refused at once
with the spec's 4xx; what depends on the ABHA account or the link token comes back on the callback, as ABDM does.
"""

import datetime
import hashlib
import json
import os
import re
import secrets
import time
import uuid

from django.db import connection, transaction
from django.db.models import Q
from django.http import HttpResponse
from django.utils import timezone

from ..abha.models import AccountStatus
from ..auth import require_session
from ..errors import abdm_error
from ..http import api_view, json_body
from ..models import BridgeService
from . import schemas
from .dispatch import deliver_after_commit, problem
from .models import CareContext, GatewayCall, LinkToken, ProfileShare, UserLink
from .services import abha_digits, account_for_address

# The bridge's webhooks (relative to its URL), as the raw drops and the portal's abdm.linking name them.
ON_GENERATE_TOKEN_WEBHOOK = "/api/v3/hip/token/on-generate-token"  # noqa: S105 - a path
ON_CARE_CONTEXT_WEBHOOK = "/api/v3/link/on_carecontext"
ON_CONTEXT_NOTIFY_WEBHOOK = "/api/v3/links/context/on-notify"
DISCOVER_WEBHOOK = "/api/v3/hip/patient/care-context/discover"
LINK_INIT_WEBHOOK = "/api/v3/hip/link/care-context/init"
LINK_CONFIRM_WEBHOOK = "/api/v3/hip/link/care-context/confirm"
PATIENT_SHARE_WEBHOOK = "/api/v3/hip/patient/share"

# link-token.yaml: "a link token which will be valid for 6 months" (ABDM_SANDBOX_LINK_TOKEN_SECONDS overrides).
LINK_TOKEN_SECONDS = 182 * 24 * 3600
LINKED = "Successfully Linked care context"
BAD_BODY = "Bad Request, invalid request Body"


def accepted() -> HttpResponse:
    return HttpResponse(status=202)


def link_token_seconds() -> int:
    return int(os.environ.get("ABDM_SANDBOX_LINK_TOKEN_SECONDS") or LINK_TOKEN_SECONDS)


def _hip_header(request) -> str:
    return request.headers.get("X-HIP-ID", "").strip()


def _caller_hip(request, hip_id: str) -> bool:
    """Is `hip_id` an active HIP service of the calling bridge? Remembered for HIP_CACHE_SECONDS in the process (a
    bulk linking job asks thousands of times a minute); the app-side helpers always ask the database."""
    if not hip_id:
        return False
    key = (request.abdm_client, hip_id)
    known = _hips.get(key)
    if known is not None and known[1] > time.monotonic():
        return known[0]
    found = BridgeService.objects.filter(
        service_id=hip_id, bridge__bridge_id=request.abdm_client, active=True, is_hip=True
    ).exists()
    if len(_hips) > 10_000:
        _hips.clear()
    _hips[key] = (found, time.monotonic() + HIP_CACHE_SECONDS)
    return found


HIP_CACHE_SECONDS = 3.0
_hips: dict[tuple[str, str], tuple[bool, float]] = {}


def _record_call(operation: str, request, hip_id: str, outcome: dict) -> bool:
    """Record the call and the callback that answers it, in one statement; False when its REQUEST-ID was already
    used for this operation (the caller then rolls everything back and answers ABDM's "Duplicate ...")."""
    with connection.cursor() as cursor:
        cursor.execute(  # the table name is the model's own, every value a parameter
            f"INSERT INTO {GatewayCall._meta.db_table} (operation, request_id, bridge_id, hip_id, outcome, created_at)"  # noqa: S608
            " VALUES (%s, %s, %s, %s, %s, now()) ON CONFLICT (operation, request_id) DO NOTHING RETURNING id",
            [operation, request.abdm_request_id, request.abdm_client, hip_id, json.dumps(outcome)],
        )
        if cursor.fetchone() is None:
            transaction.set_rollback(True)
            return False
    return True


def _token_row(token: str) -> LinkToken | None:
    """The link token's row; cached in the process (a token never changes, only expires)."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    found = _tokens.get(digest)
    if found is None:
        found = LinkToken.objects.filter(token_sha256=digest).first()
        if found is not None:
            if len(_tokens) > 50_000:
                _tokens.clear()
            _tokens[digest] = found
    return found


_tokens: dict[str, LinkToken] = {}


def _error(code: str, message: str, request_id: str) -> dict:
    return {"error": {"code": code, "message": message}, "response": {"requestId": request_id}}


def _bad_body(body, schema) -> HttpResponse | None:
    wrong = problem(body, schema)
    if wrong:
        return abdm_error(400, "ABDM-1006", f"{BAD_BODY} ({wrong})")
    return None


# --- HIP-initiated linking ---------------------------------------------------------------------------------------


def _words(value: str) -> list[str]:
    return re.sub(r"[^a-z ]", " ", str(value).lower()).split()


def _name_matches(account, name: str) -> bool:
    """The name the HIP has against the KYC name: the same words in order, or the same first and last word (a
    middle name one side leaves out)."""
    given, kyc = _words(name), _words(account.name)
    if not given or not kyc:
        return False
    return given == kyc or (given[0] == kyc[0] and given[-1] == kyc[-1])


@api_view("POST")
@require_session(cm_id=True)
@transaction.atomic
def generate_link_token(request):
    """m2_generate_link_token. 202; then the token (or why not) on the bridge's on-generate-token webhook:
    ABDM-1051 unknown ABHA address, or an ABHA number not that address's; ABDM-1407 deactivated ABHA;
    ABDM-1043 name, gender or year of birth not the account's."""
    body = json_body(request)
    hip_id = _hip_header(request)
    refused = _bad_body(body, schemas.GENERATE_LINK_TOKEN)
    if refused:
        return refused
    if not _caller_hip(request, hip_id):
        return abdm_error(400, "ABDM-1035", "Invalid HIP ID")
    request_id = request.abdm_request_id
    account, address = account_for_address(body["abhaAddress"])
    number = str(body["abhaNumber"]) if body.get("abhaNumber") is not None else ""
    if account is None or (number and number != account.abha_number):
        answer = _error("ABDM-1051", "Invalid ABHA Number or ABHA Address", request_id)
    elif account.status != AccountStatus.ACTIVE:
        answer = _error(
            "ABDM-1407",
            "The ABHA Number associated with this ABHA Address is currently deactivated. Please reactivate it.",
            request_id,
        )
    elif (
        not _name_matches(account, body["name"])
        or body["gender"] != account.gender
        or int(body["yearOfBirth"]) != account.year_of_birth
    ):
        answer = _error("ABDM-1043", "ABHA Address does not match with KYC details.", request_id)
    else:
        token = secrets.token_urlsafe(32)
        LinkToken.objects.create(
            token_sha256=hashlib.sha256(token.encode()).hexdigest(),
            bridge_id=request.abdm_client,
            hip_id=hip_id,
            abha_address=address,
            abha_number=account.abha_number,
            request_id=request_id,
            expires_at=timezone.now() + datetime.timedelta(seconds=link_token_seconds()),
        )
        answer = {"abhaAddress": address, "linkToken": token, "response": {"requestId": request_id}}
    kept = {key: ("<issued>" if key == "linkToken" else value) for key, value in answer.items()}
    if not _record_call("generate-token", request, hip_id, kept):
        return abdm_error(400, "ABDM-1092", "Duplicate Link token request")
    deliver_after_commit(request.abdm_client, ON_GENERATE_TOKEN_WEBHOOK, answer, schemas.ON_GENERATE_TOKEN,
                         hip_id=hip_id)  # fmt: skip
    return accepted()


def _link_outcome(request, body: dict, hip_id: str, token: str) -> tuple[dict | None, tuple[str, str] | None]:
    """(the rows to insert, None) or (None, (code, message)) for the callback."""
    found = _token_row(token)
    if found is None or found.expires_at <= timezone.now():
        return None, ("ABDM-1026", "Invalid Link Token")
    if found.hip_id != hip_id or found.bridge_id != request.abdm_client:
        return None, ("ABDM-1063", "HIP Id mismatch with Link token")
    address = body["abhaAddress"].strip().lower()
    if address != found.abha_address:
        return None, ("ABDM-1038", "ABHA address and Link token mismatch")
    number = abha_digits(body.get("abhaNumber"))
    if number and number != found.abha_number:
        return None, ("ABDM-1062", "ABHA number mismatch with Link token")
    rows = {}
    for entry in body["patient"]:
        if entry["count"] != len(entry["careContexts"]):
            return None, ("ABDM-1037", "Counter and Care context count mismatch")
        types = entry.get("hiType", entry.get("hiTypes"))
        types = sorted(set(types if isinstance(types, list) else [types]))
        for item in entry["careContexts"]:
            key = (entry["referenceNumber"], item["referenceNumber"])
            rows[key] = CareContext(
                hip_id=hip_id,
                abha_address=found.abha_address,
                abha_number=found.abha_number,
                patient_reference=entry["referenceNumber"],
                patient_display=entry["display"],
                reference_number=item["referenceNumber"],
                display=item["display"],
                hi_types=types,
                source=CareContext.Source.HIP,
                request_id=request.abdm_request_id,
            )
    return rows, None


@api_view("POST")
@require_session(cm_id=True)
@transaction.atomic
def link_care_context(request):
    """m2_hip_link_care_context. 202; then on the bridge's on_carecontext webhook {abhaAddress, status} or an
    error: ABDM-1026 invalid/expired link token, -1063 another HIP's token, -1038 another ABHA address's, -1062
    another ABHA number's, -1037 count not the number of care contexts, -1057 a care context linked to another
    ABHA, -1056 every care context already linked (nothing new). Care contexts already linked are not linked
    again; the rest are inserted in one statement."""
    body = json_body(request)
    hip_id = _hip_header(request)
    token = request.headers.get("X-LINK-TOKEN", "").strip()
    entries = body.get("patient")
    if isinstance(entries, list) and any(
        isinstance(entry, dict)
        and isinstance(entry.get("careContexts"), list)
        and not 1 <= len(entry["careContexts"]) <= schemas.MAX_CARE_CONTEXTS
        for entry in entries
    ):
        return abdm_error(400, "ABDM-1006", "Invalid count, must be 2 digit and ranges between 1 to 20")
    refused = _bad_body(body, schemas.LINK_CARE_CONTEXT)
    if refused:
        return refused
    if not _caller_hip(request, hip_id):
        return abdm_error(400, "ABDM-1035", "Invalid HIP ID")
    if not token:
        return abdm_error(400, "ABDM-1026", "Invalid Link Token")
    request_id = request.abdm_request_id
    rows, error = _link_outcome(request, body, hip_id, token)
    if error is None:
        error = _insert_new(rows, hip_id)
    if error is None:
        answer = {"abhaAddress": body["abhaAddress"].strip().lower(), "status": LINKED,
                  "response": {"requestId": request_id}}  # fmt: skip
    else:
        answer = _error(*error, request_id)
    if not _record_call("link-carecontext", request, hip_id, answer):
        return abdm_error(400, "ABDM-1090", "Duplicate HIP link request")
    deliver_after_commit(request.abdm_client, ON_CARE_CONTEXT_WEBHOOK, answer, schemas.ON_CARE_CONTEXT,
                         hip_id=hip_id)  # fmt: skip
    return accepted()


_COLUMNS = ("hip_id", "abha_address", "abha_number", "patient_reference", "patient_display", "reference_number",
            "display", "hi_types", "source", "request_id")  # fmt: skip


def _insert_new(rows: dict, hip_id: str) -> tuple[str, str] | None:
    """Insert the care contexts not linked yet, in one statement (ON CONFLICT DO NOTHING); only when some were
    there already, one more query checks that they are this ABHA account's (else ABDM-1057, and what this call
    inserted is taken out again).
    ABDM-1056 when none is new."""
    table = CareContext._meta.db_table
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, now())"] * len(rows))
    params = []
    for row in rows.values():
        params += [getattr(row, column) for column in _COLUMNS]
        params[-3] = json.dumps(row.hi_types)
    with connection.cursor() as cursor:
        cursor.execute(  # the table and column names are the model's own, every value a parameter
            f"INSERT INTO {table} ({', '.join(_COLUMNS)}, linked_at) VALUES {values}"  # noqa: S608
            " ON CONFLICT (hip_id, patient_reference, reference_number) DO NOTHING"
            " RETURNING patient_reference, reference_number",
            params,
        )
        inserted = set(cursor.fetchall())
    if len(inserted) == len(rows):
        return None
    there = [key for key in rows if key not in inserted]
    account_number = next(iter(rows.values())).abha_number
    others = CareContext.objects.filter(
        hip_id=hip_id,
        patient_reference__in={key[0] for key in there},
        reference_number__in={key[1] for key in there},
    ).exclude(abha_number=account_number)
    if any((patient, reference) in rows for patient, reference in others.values_list("patient_reference",
                                                                                      "reference_number")):  # fmt: skip
        if inserted:  # keep nothing of a refused call
            mine = Q()
            for patient, reference in inserted:
                mine |= Q(patient_reference=patient, reference_number=reference)
            CareContext.objects.filter(mine, hip_id=hip_id).delete()
        return "ABDM-1057", "Invalid Care Contexts"
    if not inserted:
        return "ABDM-1056", "This care contexts has been already linked"
    return None


@api_view("POST")
@require_session(cm_id=True)
@transaction.atomic
def context_notify(request):
    """m2_link_care_context_notify. 202; then on the bridge's context on-notify webhook {acknowledgement: {status:
    SUCCESS}} (the care context's hiTypes gain the notified ones) or ERRORED with ABDM-1057 when that care context
    is not linked to that patient at that HIP."""
    body = json_body(request)
    hip_id = _hip_header(request)
    refused = _bad_body(body, schemas.CONTEXT_NOTIFY)
    if refused:
        return refused
    notification = body["notification"]
    try:
        datetime.datetime.fromisoformat(notification["date"].replace("Z", "+00:00"))
    except ValueError:
        return abdm_error(400, "ABDM-1006", f"{BAD_BODY} (notification.date: not an ISO 8601 date-time)")
    if not _caller_hip(request, hip_id) or notification["hip"]["id"] != hip_id:
        return abdm_error(400, "ABDM-1035", "Invalid HIP ID")
    request_id = request.abdm_request_id
    account, address = account_for_address(notification["patient"]["id"])
    reference = notification["careContext"]
    contexts = CareContext.objects.filter(
        hip_id=hip_id,
        patient_reference=reference["patientReference"],
        reference_number=reference["careContextReference"],
    )
    contexts = contexts.filter(abha_number=account.abha_number) if account else contexts.filter(abha_address=address)
    context = contexts.select_for_update().first()
    if context is None:
        answer = {"acknowledgement": {"status": "ERRORED"}, "error": {"code": "ABDM-1057",
                  "message": "Invalid Care Contexts"}, "response": {"requestId": request_id}}  # fmt: skip
    else:
        context.hi_types = sorted(set(context.hi_types) | set(notification["hiTypes"]))
        context.notified_at = timezone.now()
        context.save(update_fields=["hi_types", "notified_at"])
        answer = {"acknowledgement": {"status": "SUCCESS"}, "response": {"requestId": request_id}}
    if not _record_call("context-notify", request, hip_id, answer):
        return abdm_error(400, "ABDM-1064", "request with this request id already exists")
    deliver_after_commit(request.abdm_client, ON_CONTEXT_NOTIFY_WEBHOOK, answer, schemas.ON_CONTEXT_NOTIFY,
                         hip_id=hip_id)  # fmt: skip
    return accepted()


# --- user-initiated linking: the HIP's answers ------------------------------------------------------------------


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _flow(request, body: dict, field: str) -> UserLink | None:
    """The flow whose leg (`field`: discover/init/confirm request ID) this answer's response.requestId names, sent
    to the calling bridge."""
    wanted = _uuid(body["response"]["requestId"])
    if wanted is None:
        return None
    flows = UserLink.objects.select_for_update().filter(bridge_id=request.abdm_client)
    flow = flows.filter(**{field: wanted}).first()
    if flow is None and field == "discover_request_id":
        # hiecm-m2.yaml's discovery payload also says to echo transactionId as response.requestId
        flow = flows.filter(transaction_id=wanted).first()
    return flow


@api_view("POST")
@require_session(cm_id=True)
@transaction.atomic
def on_discover(request):
    """m2_on_discover_care_contexts: the HIP's discovery answer, matched by response.requestId. ABDM-1109 for a
    body that breaks the schema or names another transaction, ABDM-1052 for an unknown request, ABDM-1106 for a
    second answer."""
    body = json_body(request)
    wrong = problem(body, schemas.ON_DISCOVER)
    if wrong:
        return abdm_error(400, "ABDM-1109", f"Invalid On discovery response ({wrong})")
    flow = _flow(request, body, "discover_request_id")
    if flow is None:
        return abdm_error(400, "ABDM-1052", "Invalid TransactionId or response's requestId")
    if str(flow.transaction_id) != body["transactionId"]:
        return abdm_error(400, "ABDM-1109", "Invalid On discovery response (transactionId is not the request's)")
    if flow.status != UserLink.Status.DISCOVERING:
        return abdm_error(400, "ABDM-1106", "Duplicate On discovery request")
    flow.discovered = body.get("patient") or []
    flow.matched_by = body.get("matchedBy") or []
    if body.get("error") or not flow.discovered:
        flow.status = UserLink.Status.FAILED
        error = body.get("error") or {"code": "ABDM-1001", "message": "No data found"}
        flow.error_code, flow.error_message = error["code"][:20], error["message"][:300]
    else:
        flow.status = UserLink.Status.DISCOVERED
    flow.save()
    return accepted()


@api_view("POST")
@require_session(cm_id=True)
@transaction.atomic
def on_init(request):
    """m2_receive_link_init: the HIP's link reference and OTP details, matched by response.requestId."""
    body = json_body(request)
    wrong = problem(body, schemas.ON_LINK_INIT)
    if wrong:
        return abdm_error(400, "ABDM-1110", f"Invalid On init response ({wrong})")
    flow = _flow(request, body, "init_request_id")
    if flow is None:
        return abdm_error(400, "ABDM-1052", "Invalid TransactionId or response's requestId")
    if str(flow.transaction_id) != body["transactionId"]:
        return abdm_error(400, "ABDM-1110", "Invalid On init response (transactionId is not the request's)")
    if flow.status != UserLink.Status.INITIATING:
        return abdm_error(400, "ABDM-1107", "Duplicate On init request")
    if body.get("error"):
        flow.status = UserLink.Status.FAILED
        flow.error_code, flow.error_message = body["error"]["code"][:20], body["error"]["message"][:300]
    else:
        flow.status = UserLink.Status.AWAITING_OTP
        flow.link_reference = body["link"]["referenceNumber"][:100]
        flow.link_meta = {"authenticationType": body["link"]["authenticationType"], **body["link"]["meta"]}
        flow.error_code = flow.error_message = ""
    flow.save()
    return accepted()


@api_view("POST")
@require_session(cm_id=True)
@transaction.atomic
def on_confirm(request):
    """m2_receive_link_confirm: the care contexts the HIP linked after the OTP, matched by response.requestId;
    they become linked care contexts (source USER). An error (a wrong OTP) leaves the flow waiting for another."""
    body = json_body(request)
    wrong = problem(body, schemas.ON_LINK_CONFIRM)
    if wrong:
        return abdm_error(400, "ABDM-1111", f"Invalid On confirm response ({wrong})")
    flow = _flow(request, body, "confirm_request_id")
    if flow is None:
        return abdm_error(400, "ABDM-1052", "Invalid TransactionId or response's requestId")
    if flow.status != UserLink.Status.CONFIRMING:
        return abdm_error(400, "ABDM-1108", "Duplicate On confirm request")
    entries = body.get("patient") or []
    requested = {
        (entry["referenceNumber"], item["referenceNumber"])
        for entry in flow.requested
        for item in entry["careContexts"]
    }
    answered = [(entry, item) for entry in entries for item in entry["careContexts"]]
    if body.get("error") or not answered:
        error = body.get("error") or {"code": "ABDM-1057", "message": "Invalid Care Contexts"}
        flow.status = UserLink.Status.AWAITING_OTP
        flow.error_code, flow.error_message = error["code"][:20], error["message"][:300]
        flow.confirm_request_id = None
        flow.save()
        return accepted()
    if any((entry["referenceNumber"], item["referenceNumber"]) not in requested for entry, item in answered):
        return abdm_error(400, "ABDM-1111", "Invalid On confirm response (a care context the patient did not ask for)")
    rows = []
    for entry, item in answered:
        types = entry["hiType"] if isinstance(entry["hiType"], list) else [entry["hiType"]]
        rows.append(
            CareContext(
                hip_id=flow.hip_id,
                abha_address=flow.abha_address,
                abha_number=flow.abha_number,
                patient_reference=entry["referenceNumber"],
                patient_display=entry["display"],
                reference_number=item["referenceNumber"],
                display=item["display"],
                hi_types=sorted(set(types)),
                source=CareContext.Source.USER,
                request_id=str(flow.confirm_request_id),
            )
        )
    CareContext.objects.bulk_create(rows, ignore_conflicts=True)
    flow.linked = entries
    flow.status = UserLink.Status.LINKED
    flow.error_code = flow.error_message = ""
    flow.save()
    return accepted()


# --- Scan & Share: the HIP's answer -----------------------------------------------------------------------------


@api_view("POST")
@require_session(cm_id=True)
@transaction.atomic
def on_share(request):
    """POST /api/hiecm/patient-share/v3/on-share (patient-share.yaml): the HIP's token for a profile share,
    matched by response.requestId (ABDM-1052 unknown, ABDM-1087 a second answer)."""
    body = json_body(request)
    refused = _bad_body(body, schemas.ON_SHARE)
    if refused:
        return refused
    wanted = _uuid(body["response"]["requestId"])
    share = None
    if wanted is not None:
        share = (
            ProfileShare.objects.select_for_update().filter(request_id=wanted, bridge_id=request.abdm_client).first()
        )
    if share is None:
        return abdm_error(400, "ABDM-1052", "Invalid TransactionId or response's requestId")
    if share.status == ProfileShare.Status.ANSWERED:
        return abdm_error(400, "ABDM-1087", "Duplicate patient share request")
    acknowledgement = body.get("acknowledgement")
    share.answer = body
    share.answered_at = timezone.now()
    if acknowledgement and acknowledgement["status"] == "SUCCESS" and not body.get("error"):
        profile = acknowledgement["profile"]
        if profile["context"] != share.counter_id or acknowledgement["abhaAddress"].lower() != share.abha_address:
            return abdm_error(400, "ABDM-1006", f"{BAD_BODY} (context or abhaAddress is not the share's)")
        share.status = ProfileShare.Status.ANSWERED
        share.token_number = str(profile["tokenNumber"])[:50]
        share.expiry = str(profile["expiry"])[:30]
    else:
        error = body.get("error") or {"code": "ABDM-9999", "message": "HIP is unable to generate a token at this time."}
        share.status = ProfileShare.Status.ANSWERED
        share.error_code, share.error_message = error["code"][:20], error["message"][:300]
    share.save()
    return accepted()
