"""Writes of the consent manager: consent requests, the citizen's answers, artefacts, expiry, and the
health-information relay. Each write commits first; the callbacks it causes go out afterwards, in a thread, as
ABDM's gateway answers a 202 first and calls back later."""

import base64
import datetime
import hashlib
import json
import logging
import os
import threading
import time
import uuid

import jsonschema
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from ..callbacks import UnknownBridge, send_callback
from ..keys import signing_key
from ..models import Bridge, BridgeService
from ..sms import send_sms
from . import schemas
from .models import (
    ArtefactStatus,
    ConsentArtefact,
    ConsentRequest,
    HealthInformationRequest,
    RequestStatus,
)

logger = logging.getLogger(__name__)

# An unanswered request expires after this many minutes (ABDM.md section 5: 60 in the reference implementation).
REQUEST_MINUTES = float(os.environ.get("ABDM_SANDBOX_CONSENT_REQUEST_MINUTES") or 60)
SWEEP_SECONDS = float(os.environ.get("ABDM_SANDBOX_CONSENT_SWEEP_SECONDS") or 30)
BUILTIN_HIU_ID = os.environ.get("ABDM_SANDBOX_HIU_ID") or "sandbox-hiu"
BUILTIN_HIU_NAME = "ABDM sandbox HIU"

HIU_ON_INIT = "/api/v3/hiu/consent/request/on-init"
HIU_ON_STATUS = "/api/v3/hiu/consent/request/on-status"
HIU_NOTIFY = "/api/v3/hiu/consent/request/notify"
HIU_ON_FETCH = "/api/v3/hiu/consent/on-fetch"
HIU_ON_REQUEST = "/api/v3/hiu/health-information/on-request"
HIP_NOTIFY = "/api/v3/consent/request/hip/notify"
HIP_REQUEST = "/api/v3/hip/health-information/request"


class Refused(Exception):
    """A request the consent manager refuses: ABDM's code and message (and the HTTP status when answered now)."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


# --- small helpers ----------------------------------------------------------------------------------------------


def now() -> datetime.datetime:
    return timezone.now()


def iso(moment: datetime.datetime) -> str:
    """ISO 8601 UTC with milliseconds and Z, as the spec's date-times are written."""
    return moment.astimezone(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(value) -> datetime.datetime | None:
    """An ISO 8601 date-time (Z or an offset; without one, UTC), or None."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def schema_problems(schema: dict, body) -> list[str]:
    """What is wrong with `body` against one of schemas.py's facts (empty: nothing)."""
    validator = jsonschema.Draft202012Validator(schema)
    problems = []
    for error in sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))[:10]:
        where = ".".join(str(part) for part in error.absolute_path) or "body"
        problems.append(f"{where}: {error.message}")
    return problems


def _sign(detail: dict) -> str:
    """The consent manager's signature of a consentDetail: RS256 (PKCS#1 v1.5, SHA-256) by the key published at
    the gateway's certs path, over the detail's canonical JSON (sorted keys, no spaces); base64."""
    canonical = json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    signature = signing_key().private_key.sign(canonical, padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


# --- callbacks, after commit, off the request thread -------------------------------------------------------------


# A bridge that does not answer, or answers 5xx, is called again after these pauses (seconds), with the same
# REQUEST-ID (so the bridge can tell a repeat); a 4xx is its answer and is not repeated.
RETRY_PAUSES = (1, 3, 9)


def _deliver(calls: list[tuple[str, str, dict, dict]]) -> None:
    try:
        for bridge_id, path, body, headers in calls:
            request_id = str(uuid.uuid4())
            for pause in (0, *RETRY_PAUSES):
                time.sleep(pause)
                try:
                    status, _ = send_callback(bridge_id, path, body, request_id, headers=headers)
                except UnknownBridge:
                    logger.warning("callback %s: bridge %s has no URL", path, bridge_id)
                    break
                except Exception:
                    logger.exception("callback %s to %s failed", path, bridge_id)
                    break
                if status is not None and status < 500:
                    break
    finally:
        connection.close()


def dispatch(*calls: tuple[str, str, dict, dict]) -> None:
    """Send these callbacks (bridge ID, path, body, extra headers) in order, after the transaction commits.
    Calls to the built-in HIU (no bridge) are skipped: it reads the consent manager's tables itself."""
    for _, path, body, _ in calls:
        problems = schema_problems(schemas.CALLBACK_SCHEMAS[path], body)
        if problems:  # a sandbox bug: what it sends must match the spec; logged so `make test` shows it
            logger.error("callback %s does not match the spec: %s", path, "; ".join(problems))
    calls = [call for call in calls if call[0]]
    if not calls:
        return
    transaction.on_commit(lambda: threading.Thread(target=_deliver, args=(calls,), daemon=True).start())


def hip_bridge(hip_id: str) -> str | None:
    """The bridge that serves HIP `hip_id`: its active HIP service (bridge-services), else a bridge of that ID."""
    service = (
        BridgeService.objects.select_related("bridge")
        .filter(service_id=hip_id, active=True, is_hip=True, bridge__active=True)
        .order_by("pk")
        .first()
    )
    if service is not None:
        return service.bridge.bridge_id
    if Bridge.objects.filter(bridge_id=hip_id, active=True).exists():
        return hip_id
    return None


def hip_name(hip_id: str) -> str:
    service = BridgeService.objects.filter(service_id=hip_id).order_by("pk").first()
    return service.name if service else ""


# --- the citizen behind an ABHA address ---------------------------------------------------------------------------


def account_for(address: str):
    """The sandbox ABHA account of an ABHA address (the default `<14 digits>@sbx` or a chosen one), or None."""
    from ..abha import identity  # noqa: PLC0415 - the ABHA service's tables, read by the consent manager
    from ..abha.models import AbhaAddress, Account  # noqa: PLC0415

    full = identity.full_address(address or "")
    local, _, suffix = full.partition("@")
    if suffix != identity.ADDRESS_SUFFIX:
        return None
    if identity.ABHA_NUMBER.match(local):
        return Account.objects.filter(abha_number=local).first()
    row = AbhaAddress.objects.select_related("account").filter(address=full).first()
    return row.account if row else None


def linked_care_contexts(address: str, hip_id: str | None = None) -> list[dict]:
    """Care contexts linked to `address` (at `hip_id`), as {hipId, hipName, patientReference,
    careContextReference, display}, from the sandbox's linking tables (abdm_sandbox.linking, when present)."""
    try:
        from ..linking.services import care_contexts_for  # noqa: PLC0415 - optional: another part of the sandbox
    except ImportError:
        return []
    found = []
    for item in care_contexts_for(address, hip_id=hip_id) or []:

        def pick(*names, item=item):
            for name in names:
                value = item.get(name) if isinstance(item, dict) else getattr(item, name, None)
                if value:
                    return str(value)
            return ""

        found.append(
            {
                "hipId": pick("hipId", "hip_id"),
                "hipName": pick("hipName", "hip_name"),
                "patientReference": pick("patientReference", "patient_reference", "patient_reference_number"),
                "careContextReference": pick(
                    "careContextReference", "care_context_reference", "referenceNumber", "reference_number"
                ),
                "display": pick("display"),
            }
        )
    return [item for item in found if item["hipId"] and item["careContextReference"]]


# --- consent requests --------------------------------------------------------------------------------------------


def validate_consent(consent_body: dict) -> list[str]:
    """ABDM's rules for a consent request beyond its schema (ABDM.md section 5 and the spec's 400 examples)."""
    problems = schema_problems(schemas.CONSENT_REQUEST_INIT, {"consent": consent_body})
    if problems:
        return problems
    purpose = consent_body["purpose"]
    if schemas.PURPOSES[purpose["code"]] != purpose["text"]:
        problems.append(f"Invalid purpose text, it must be {schemas.PURPOSES[purpose['code']]!r} for {purpose['code']}")
    hi_types = consent_body["hiTypes"]
    if len(set(hi_types)) != len(hi_types):
        problems.append("hiTypes: a type is repeated")
    permission = consent_body["permission"]
    start, end = parse_time(permission["dateRange"]["from"]), parse_time(permission["dateRange"]["to"])
    erase = parse_time(permission["dataEraseAt"])
    moment = now()
    if start is None or end is None:
        problems.append("Invalid from/to date. Dates must be ISO 8601 UTC date-times")
    elif start > end:
        problems.append("Invalid from/to date. from must not be after to")
    elif start > moment + datetime.timedelta(minutes=5):
        problems.append("Invalid from/to date. Date must be a present/before date")
    if erase is None:
        problems.append("Invalid dataEraseAt: an ISO 8601 UTC date-time is required")
    elif erase <= moment:
        problems.append("Invalid dataEraseAt: it must be in the future")
    frequency = permission["frequency"]
    if frequency["value"] < 1:
        problems.append("Invalid frequency: value must be at least 1")
    if frequency.get("repeats") is not None and frequency["repeats"] < 0:
        problems.append("Invalid frequency: repeats must not be negative")
    if consent_body.get("careContexts") and not (consent_body.get("hip") or {}).get("id"):
        problems.append("careContexts need the hip they are at")
    return problems


def consent_request_create(*, consent_body: dict, hiu_bridge: str, init_request_id: str) -> ConsentRequest | None:
    """A validated consent request (validate_consent first) from `hiu_bridge` ("" for the built-in HIU).
    Answers the HIU on its on-init callback: the new request's ID, or the error (an unknown patient or HIP),
    and tells the citizen by SMS. Returns the request, or None when refused."""
    patient = consent_body["patient"]["id"].strip().lower()
    hip = consent_body.get("hip") or {}
    hiu = consent_body["hiu"]
    headers = {"X-HIU-ID": hiu["id"]}
    account = account_for(patient)
    refusal = None
    if account is None:
        refusal = ("ABDM-1170", "Invalid ABHA address")
    elif account.status != "ACTIVE":
        refusal = ("ABDM-1407", "The ABHA Number associated with this ABHA Address is currently deactivated.")
    elif hip.get("id") and hip_bridge(hip["id"]) is None:
        refusal = ("ABDM-1035", "Invalid HIP ID")
    if refusal is not None:
        with transaction.atomic():
            dispatch(
                (
                    hiu_bridge,
                    HIU_ON_INIT,
                    {
                        "consentRequest": None,
                        "error": {"code": refusal[0], "message": refusal[1]},
                        "response": {"requestId": init_request_id},
                    },
                    headers,
                )
            )
        return None
    permission = consent_body["permission"]
    with transaction.atomic():
        request = ConsentRequest.objects.create(
            hiu_bridge=hiu_bridge,
            hiu_id=hiu["id"],
            hiu_name=hiu.get("name") or "",
            patient=patient,
            purpose_code=consent_body["purpose"]["code"],
            purpose_text=consent_body["purpose"]["text"],
            purpose_ref_uri=consent_body["purpose"].get("refUri") or "",
            hip_id=hip.get("id") or "",
            hip_name=hip.get("name") or (hip_name(hip["id"]) if hip.get("id") else ""),
            care_contexts=consent_body.get("careContexts") or [],
            requester=consent_body["requester"],
            hi_types=consent_body["hiTypes"],
            access_mode=permission["accessMode"],
            date_from=parse_time(permission["dateRange"]["from"]),
            date_to=parse_time(permission["dateRange"]["to"]),
            data_erase_at=parse_time(permission["dataEraseAt"]),
            frequency=permission["frequency"],
            init_request_id=init_request_id,
            expires_at=now() + datetime.timedelta(minutes=REQUEST_MINUTES),
        )
        dispatch(
            (
                hiu_bridge,
                HIU_ON_INIT,
                {
                    "consentRequest": {"id": str(request.consent_request_id)},
                    "error": None,
                    "response": {"requestId": init_request_id},
                },
                headers,
            )
        )
        if account.mobile:
            text = (
                f"ABHA: {request.hiu_name or request.hiu_id} asks to see your health records "
                f"({request.purpose_text}). Allow or deny in your ABHA app: "
                f"{settings.SANDBOX_URL}/sandbox/v1/app/requests/{request.consent_request_id}"
            )
            mobile = account.mobile
            transaction.on_commit(lambda: send_sms(mobile, text))
    return request


def status_body(request: ConsentRequest, request_id: str) -> dict:
    consent = {"id": str(request.consent_request_id), "status": request.status}
    if request.status in (RequestStatus.GRANTED, RequestStatus.REVOKED):
        consent["consentArtefacts"] = [{"id": str(a.artefact_id)} for a in request.artefacts.order_by("pk")]
    return {"consentRequest": consent, "error": None, "response": {"requestId": request_id}, "resp": ""}


def consent_status(*, request: ConsentRequest, request_id: str) -> None:
    """Answer a status request on the HIU's on-status callback."""
    with transaction.atomic():
        dispatch((request.hiu_bridge, HIU_ON_STATUS, status_body(request, request_id), {"X-HIU-ID": request.hiu_id}))


# --- artefacts ---------------------------------------------------------------------------------------------------


def consent_detail(artefact: ConsentArtefact) -> dict:
    """The artefact as the spec's consentDetail (HIP notify and on-fetch; their union: on-fetch also wants
    dataEraseAt, frequency and lastUpdated beside permission)."""
    request = artefact.consent_request
    frequency = request.frequency
    return {
        "schemaVersion": "v3",
        "consentId": str(artefact.artefact_id),
        "createdAt": iso(artefact.created_at),
        "patient": {"id": request.patient},
        "careContexts": [
            {"patientReference": c["patientReference"], "careContextReference": c["careContextReference"]}
            for c in artefact.care_contexts
        ],
        "purpose": {"text": request.purpose_text, "code": request.purpose_code, "refUri": request.purpose_ref_uri},
        "hip": {"id": artefact.hip_id, "name": artefact.hip_name or None, "type": "HIP"},
        "hiu": {"id": request.hiu_id, "name": request.hiu_name or None, "type": "HIU"},
        "consentManager": {"id": settings.SANDBOX_CM_ID},
        "requester": request.requester,
        "hiTypes": artefact.hi_types,
        "permission": {
            "accessMode": request.access_mode,
            "dateRange": {"from": iso(artefact.date_from), "to": iso(artefact.date_to)},
            "dataEraseAt": iso(artefact.data_erase_at),
            "frequency": frequency,
        },
        "dataEraseAt": iso(artefact.data_erase_at),
        "frequency": frequency,
        "lastUpdated": iso(artefact.updated_at),
    }


def _hip_notify(artefact: ConsentArtefact) -> tuple[str, str, dict, dict]:
    detail = consent_detail(artefact)
    body = {
        "notification": {
            "status": artefact.status,
            "consentId": str(artefact.artefact_id),
            "consentDetail": detail,
            "signature": _sign(detail),
            "grantAcknowledgement": False,
        }
    }
    return (hip_bridge(artefact.hip_id) or "", HIP_NOTIFY, body, {"X-HIP-ID": artefact.hip_id})


def _hiu_notify(request: ConsentRequest, status: str, artefacts, reason: str | None = None):
    body = {
        "notification": {
            "consentRequestId": str(request.consent_request_id),
            "status": status,
            "reason": reason,
            "consentArtefacts": [{"id": str(a.artefact_id)} for a in artefacts],
        }
    }
    return (request.hiu_bridge, HIU_NOTIFY, body, {"X-HIU-ID": request.hiu_id})


def _locked_request(consent_request_id) -> ConsentRequest:
    request = ConsentRequest.objects.select_for_update().filter(consent_request_id=consent_request_id).first()
    if request is None:
        raise Refused("ABDM-1001", "No data found", 404)
    if request.status == RequestStatus.REQUESTED and request.expires_at <= now():
        _expire_request(request)
    if request.status != RequestStatus.REQUESTED:
        raise Refused("ABDM-2406", f"The consent request is {request.status}, no longer REQUESTED", 409)
    return request


def _within(value, low, high) -> bool:
    return value is not None and low <= value <= high


def consent_grant(
    *, consent_request_id, hi_types=None, date_from=None, date_to=None, data_erase_at=None, care_contexts=None
) -> list[ConsentArtefact]:
    """The citizen grants a REQUESTED request, perhaps narrower (hiTypes, date range, dataEraseAt, care contexts:
    [{hipId, careContextReference, patientReference?}]). One signed artefact per HIP; the HIPs are notified on
    their consent notify callback, the HIU on its notify with the artefact IDs. Refused (Refused) when the
    request is no longer REQUESTED, the narrowing widens anything, or no care context is left."""
    with transaction.atomic():
        request = _locked_request(consent_request_id)
        hi_types = list(hi_types) if hi_types else list(request.hi_types)
        if not set(hi_types) <= set(request.hi_types) or len(set(hi_types)) != len(hi_types):
            raise Refused("ABDM-1006", "hiTypes may only narrow what was requested")
        start = parse_time(date_from) if date_from else request.date_from
        end = parse_time(date_to) if date_to else request.date_to
        erase = parse_time(data_erase_at) if data_erase_at else request.data_erase_at
        if not (
            _within(start, request.date_from, request.date_to)
            and _within(end, request.date_from, request.date_to)
            and start <= end
        ):
            raise Refused("ABDM-1006", "The date range may only narrow what was requested")
        if erase is None or erase > request.data_erase_at or erase <= now():
            raise Refused("ABDM-1006", "The expiry may only come sooner than requested, and must be in the future")
        by_hip = _chosen_care_contexts(request, care_contexts)
        if not by_hip:
            raise Refused("ABDM-1057", "Invalid Care Contexts: nothing is linked to grant")
        artefacts = []
        for hip_id, contexts in by_hip.items():
            artefact = ConsentArtefact.objects.create(
                consent_request=request,
                hip_id=hip_id,
                hip_name=(request.hip_name if hip_id == request.hip_id else "") or hip_name(hip_id),
                care_contexts=contexts,
                hi_types=hi_types,
                date_from=start,
                date_to=end,
                data_erase_at=erase,
            )
            artefact.signature = _sign(consent_detail(artefact))
            artefact.save(update_fields=["signature"])
            artefacts.append(artefact)
        request.status = RequestStatus.GRANTED
        request.save(update_fields=["status", "updated_at"])
        dispatch(*[_hip_notify(a) for a in artefacts], _hiu_notify(request, "GRANTED", artefacts))
    return artefacts


def _chosen_care_contexts(request: ConsentRequest, chosen) -> dict[str, list[dict]]:
    """{hip ID: [{patientReference, careContextReference}]}: the care contexts the citizen may grant (those the
    HIU named, else every one linked to the ABHA address, at the HIP asked for), narrowed to `chosen`."""
    available = []
    if request.care_contexts:
        available = [{"hipId": request.hip_id, **c} for c in request.care_contexts]
    else:
        available = linked_care_contexts(request.patient, request.hip_id or None)
    if chosen is not None:
        if not isinstance(chosen, list) or not all(isinstance(c, dict) for c in chosen):
            raise Refused("ABDM-1006", "careContexts must be a list of {hipId, careContextReference}")
        wanted = {(c.get("hipId") or request.hip_id, c.get("careContextReference")) for c in chosen}
        offered = {(c["hipId"], c["careContextReference"]) for c in available}
        if not wanted <= offered:
            raise Refused("ABDM-1057", "Invalid Care Contexts: only those offered may be granted")
        available = [c for c in available if (c["hipId"], c["careContextReference"]) in wanted]
    by_hip: dict[str, list[dict]] = {}
    for item in available:
        contexts = by_hip.setdefault(item["hipId"], [])
        entry = {
            "patientReference": item.get("patientReference") or request.patient,
            "careContextReference": item["careContextReference"],
        }
        if entry not in contexts:
            contexts.append(entry)
    return by_hip


def consent_deny(*, consent_request_id, reason: str = "") -> ConsentRequest:
    """The citizen denies a REQUESTED request: DENIED, and the HIU is notified."""
    with transaction.atomic():
        request = _locked_request(consent_request_id)
        request.status = RequestStatus.DENIED
        request.reason = (reason or "")[:300]
        request.save(update_fields=["status", "reason", "updated_at"])
        dispatch(_hiu_notify(request, "DENIED", [], request.reason or None))
    return request


def artefact_revoke(*, artefact_id) -> ConsentArtefact:
    """The citizen revokes a GRANTED artefact: REVOKED; its HIP and the HIU are notified. The request becomes
    REVOKED when none of its artefacts is left granted."""
    with transaction.atomic():
        artefact = (
            ConsentArtefact.objects.select_for_update()
            .select_related("consent_request")
            .filter(artefact_id=artefact_id)
            .first()
        )
        if artefact is None:
            raise Refused("ABDM-1001", "No data found", 404)
        if artefact.status != ArtefactStatus.GRANTED:
            raise Refused("ABDM-2406", f"The consent artefact is {artefact.status}, not GRANTED", 409)
        artefact.status = ArtefactStatus.REVOKED
        artefact.save(update_fields=["status", "updated_at"])
        request = artefact.consent_request
        if not request.artefacts.filter(status=ArtefactStatus.GRANTED).exists():
            request.status = RequestStatus.REVOKED
            request.save(update_fields=["status", "updated_at"])
        dispatch(_hip_notify(artefact), _hiu_notify(request, "REVOKED", [artefact]))
    return artefact


def _expire_request(request: ConsentRequest) -> None:
    request.status = RequestStatus.EXPIRED
    request.save(update_fields=["status", "updated_at"])
    dispatch(_hiu_notify(request, "EXPIRED", []))


def _expire_artefact(artefact: ConsentArtefact) -> None:
    artefact.status = ArtefactStatus.EXPIRED
    artefact.save(update_fields=["status", "updated_at"])
    dispatch(_hip_notify(artefact), _hiu_notify(artefact.consent_request, "EXPIRED", [artefact]))


def expire_now(*, consent_request_id=None, artefact_id=None) -> dict:
    """Tests: expire one request (REQUESTED) or artefact (GRANTED) now, as if its time had come."""
    with transaction.atomic():
        if consent_request_id is not None:
            request = ConsentRequest.objects.select_for_update().filter(consent_request_id=consent_request_id).first()
            if request is None:
                raise Refused("ABDM-1001", "No data found", 404)
            if request.status != RequestStatus.REQUESTED:
                raise Refused("ABDM-2406", f"The consent request is {request.status}", 409)
            _expire_request(request)
            return {"consentRequests": [str(request.consent_request_id)], "consentArtefacts": []}
        artefact = (
            ConsentArtefact.objects.select_for_update()
            .select_related("consent_request")
            .filter(artefact_id=artefact_id)
            .first()
        )
        if artefact is None:
            raise Refused("ABDM-1001", "No data found", 404)
        if artefact.status != ArtefactStatus.GRANTED:
            raise Refused("ABDM-2406", f"The consent artefact is {artefact.status}", 409)
        _expire_artefact(artefact)
        return {"consentRequests": [], "consentArtefacts": [str(artefact.artefact_id)]}


def expire_due() -> dict:
    """Expire every request unanswered past its time and every artefact past dataEraseAt (notifying as above).
    Rows are claimed with SKIP LOCKED, so two sweeps never notify twice."""
    start_sweeper()
    expired = {"consentRequests": [], "consentArtefacts": []}
    moment = now()
    with transaction.atomic():
        due = ConsentRequest.objects.select_for_update(skip_locked=True).filter(
            status=RequestStatus.REQUESTED, expires_at__lte=moment
        )[:200]
        for request in due:
            _expire_request(request)
            expired["consentRequests"].append(str(request.consent_request_id))
        artefacts = (
            ConsentArtefact.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("consent_request")
            .filter(status=ArtefactStatus.GRANTED, data_erase_at__lte=moment)[:200]
        )
        for artefact in artefacts:
            _expire_artefact(artefact)
            expired["consentArtefacts"].append(str(artefact.artefact_id))
    return expired


_sweeper_started = threading.Event()


def _sweep_forever() -> None:
    while True:
        time.sleep(SWEEP_SECONDS)
        try:
            close_old_connections()
            expire_due()
        except Exception:
            logger.exception("consent expiry sweep failed")
        finally:
            connection.close()


def start_sweeper() -> None:
    """Once per process: a thread that expires due requests and artefacts every SWEEP_SECONDS (a sandbox has no
    beat scheduler; views also sweep before they read)."""
    if SWEEP_SECONDS > 0 and not _sweeper_started.is_set():
        _sweeper_started.set()
        threading.Thread(target=_sweep_forever, name="consent-expiry", daemon=True).start()


def fetch_answer(*, artefact: ConsentArtefact, request_id: str) -> None:
    """Answer an artefact fetch on the HIU's on-fetch callback."""
    detail = consent_detail(artefact)
    body = {
        "consent": {"status": artefact.status, "consentDetail": detail, "signature": _sign(detail)},
        "error": None,
        "response": {"requestId": request_id},
    }
    request = artefact.consent_request
    with transaction.atomic():
        dispatch((request.hiu_bridge, HIU_ON_FETCH, body, {"X-HIU-ID": request.hiu_id}))


# --- health-information requests ---------------------------------------------------------------------------------


def _hi_refusal(hi_request: dict, *, hiu_id: str, hiu_bridge: str):
    """(artefact, None) when the request may go to the HIP, else (None, (code, message))."""
    try:
        artefact_id = uuid.UUID(str(hi_request["consent"]["id"]))
    except ValueError:
        return None, ("ABDM-1112", "Invalid or already expired consent artefact id")
    artefact = (
        ConsentArtefact.objects.select_for_update(of=("self",))
        .select_related("consent_request")
        .filter(artefact_id=artefact_id)
        .first()
    )
    if artefact is None:
        return None, ("ABDM-1112", "Invalid or already expired consent artefact id")
    request = artefact.consent_request
    if request.hiu_id != hiu_id or request.hiu_bridge != hiu_bridge:
        return None, ("ABDM-1040", "Invalid HIU ID")
    if artefact.status == ArtefactStatus.GRANTED and artefact.data_erase_at <= now():
        _expire_artefact(artefact)
    if artefact.status == ArtefactStatus.EXPIRED:
        return None, ("ABDM-1061", "Consent artefact expired")
    if artefact.status != ArtefactStatus.GRANTED:
        return None, ("ABDM-1062", "Consent Not granted")
    start = parse_time(hi_request["dateRange"]["from"])
    end = parse_time(hi_request["dateRange"]["to"])
    if not (
        _within(start, artefact.date_from, artefact.date_to)
        and _within(end, artefact.date_from, artefact.date_to)
        and start <= end
    ):
        return None, ("ABDM-1063", "Date Range given is invalid")
    if hip_bridge(artefact.hip_id) is None:
        return None, ("ABDM-1028", "HIP is unavailable")
    return artefact, None


def health_information_request(*, hi_request: dict, hiu_id: str, hiu_bridge: str, request_id: str):
    """An HIU asks for the data an artefact covers (schema already checked). Valid: a transaction, its ID on the
    HIU's on-request callback (sessionStatus REQUESTED), and the request relayed to the HIP's bridge on
    /api/v3/hip/health-information/request. Refused: the error on the HIU's on-request callback.
    Returns (transfer, None) or (None, (code, message))."""
    headers = {"X-HIU-ID": hiu_id}
    with transaction.atomic():
        artefact, refusal = _hi_refusal(hi_request, hiu_id=hiu_id, hiu_bridge=hiu_bridge)
        if refusal is not None:
            dispatch(
                (
                    hiu_bridge,
                    HIU_ON_REQUEST,
                    {
                        "hiRequest": None,
                        "error": {"code": refusal[0], "message": refusal[1]},
                        "response": {"requestId": request_id},
                    },
                    headers,
                )
            )
            return None, refusal
        transfer = HealthInformationRequest.objects.create(
            artefact=artefact,
            hiu_bridge=hiu_bridge,
            hiu_id=hiu_id,
            request_id=request_id,
            hip_request_id=str(uuid.uuid4()),
            date_from=parse_time(hi_request["dateRange"]["from"]),
            date_to=parse_time(hi_request["dateRange"]["to"]),
            data_push_url=hi_request["dataPushUrl"],
            key_material=hi_request["keyMaterial"],
        )
        to_hip = {
            "transactionId": str(transfer.transaction_id),
            "hiRequest": {
                "consent": {"id": str(artefact.artefact_id)},
                "dateRange": hi_request["dateRange"],
                "dataPushUrl": hi_request["dataPushUrl"],
                "keyMaterial": hi_request["keyMaterial"],
            },
        }
        dispatch(
            (
                hiu_bridge,
                HIU_ON_REQUEST,
                {
                    "hiRequest": {"transactionId": str(transfer.transaction_id), "sessionStatus": "REQUESTED"},
                    "error": None,
                    "response": {"requestId": request_id},
                },
                headers,
            ),
            (hip_bridge(artefact.hip_id), HIP_REQUEST, to_hip, {"X-HIP-ID": artefact.hip_id}),
        )
    return transfer, None


def transfer_for(transaction_id) -> HealthInformationRequest | None:
    try:
        value = uuid.UUID(str(transaction_id))
    except ValueError:
        return None
    return (
        HealthInformationRequest.objects.select_related("artefact", "artefact__consent_request")
        .filter(transaction_id=value)
        .first()
    )


def hip_acknowledged(*, transfer: HealthInformationRequest, session_status: str | None, error: dict | None) -> None:
    """The HIP's on-request: ACKNOWLEDGED, or ERRORED (with its error)."""
    with transaction.atomic():
        locked = HealthInformationRequest.objects.select_for_update().get(pk=transfer.pk)
        locked.status = "ERRORED" if error or session_status == "ERRORED" else "ACKNOWLEDGED"
        if error:
            locked.notifications = [*locked.notifications, {"hipError": error}]
        locked.save(update_fields=["status", "notifications", "updated_at"])


def transfer_notified(*, transfer: HealthInformationRequest, notification: dict) -> HealthInformationRequest:
    """A data-flow notification from the HIP (TRANSFERRED/FAILED) or the HIU (RECEIVED/FAILED), recorded."""
    with transaction.atomic():
        locked = HealthInformationRequest.objects.select_for_update().get(pk=transfer.pk)
        session = notification["statusNotification"]["sessionStatus"]
        if notification["notifier"]["type"] == "HIP":
            locked.hip_session_status = session
            locked.status = session
        else:
            locked.hiu_session_status = session
        locked.notifications = [*locked.notifications, notification]
        locked.save(update_fields=["status", "hip_session_status", "hiu_session_status", "notifications", "updated_at"])
    return locked


def checksum_matches(plaintext: str, checksum: str) -> bool:
    """The entry's checksum is the MD5 of the content before encryption: hex or base64, as peers send it."""
    digest = hashlib.md5(plaintext.encode("utf-8"), usedforsecurity=False).digest()
    return checksum.strip().lower() == digest.hex() or checksum.strip() == base64.b64encode(digest).decode()
