"""The portal's M2 data-flow calls as an HIP: consent notify, health-information request, data push, transfer notify.

Contract: NHA's hiecm-m2.yaml (server https://dev.abdm.gov.in/api, so gateway paths below start with /api) and, for
the two webhooks whose bodies hiecm-m2.yaml does not publish, NHA's consent-management-data-flow.yaml drop
(catalogue/openapi/.raw/nha-2026-09-01/fixed/hiecm/).

Webhooks the gateway calls on the bridge (abdm.callbacks; the records app registers the handlers):

- `POST /api/v3/consent/request/hip/notify` (consent-management-data-flow.yaml, "consent-management 1"):
  {notification: {status GRANTED|REVOKED|EXPIRED, consentId, consentDetail {schemaVersion, consentId, createdAt,
  patient {id}, careContexts[{patientReference, careContextReference}], purpose {text, code, refUri}, hip {id, name,
  type}, hiu {id, name, type}, consentManager {id}, requester {name, identifier {value, type, system}}, hiTypes[],
  permission {accessMode, dateRange {from, to}, dataEraseAt, frequency {unit, value, repeats}}}, signature,
  grantAcknowledgement}}, header X-HIP-ID. Answered by:
- `POST /api/hiecm/consent/v3/request/hip/on-notify` (m2_consent_hip_on_notify): ConsentHipOnNotifyRequest
  {acknowledgement {status OK|ERROR, consentId}, response {requestId}} (+ `error {code, message}` on ERROR, as the
  drop allows). 202.
- `POST /api/v3/hip/health-information/request` (m2_on_health_information_request; body from the drop,
  "consent-management 3"): {transactionId, hiRequest {consent {id}, dateRange {from, to}, dataPushUrl,
  keyMaterial {cryptoAlg, curve, dhPublicKey {expiry, parameters, keyValue}, nonce}}}, header X-HIP-ID. Answered by:
- `POST /api/hiecm/data-flow/v3/health-information/hip/on-request` (m2_hip_health_information_on_request):
  HipHealthInfoOnRequestBody {hiRequest {transactionId, sessionStatus ACKNOWLEDGED|ERRORED}, response {requestId}}
  (+ `error {code, message}` when ERRORED, the drop's failure variant). 202.

Then, not through the gateway:

- `POST <dataPushUrl>` (m2_on_data_notification; body from the drop, "health-information/transfer"):
  {pageNumber, pageCount, transactionId, entries[{content, media "application/fhir+json", checksum (MD5 of the
  content before encryption), careContextReference}], keyMaterial {cryptoAlg "ECDH", curve "Curve25519",
  dhPublicKey {expiry, parameters "Curve25519/32byte random key", keyValue}, nonce}}. "Authorization token is
  mandatory": the gateway session bearer, as peers send it. The HIU answers 202 (200 accepted too).
- `POST /api/hiecm/data-flow/v3/health-information/notify` (m2_hip_data_flow_notify): DataFlowNotifyRequest
  {notification {consentId, transactionId, doneAt, notifier {type HIP, id}, statusNotification {sessionStatus
  TRANSFERRED|FAILED, hipId, statusResponses[{careContextReference, hiStatus OK|ERRORED, description}]}}}. 202.
"""

import base64
import hashlib
import json as jsonlib
import logging
import time
import uuid

import requests
from django.conf import settings

from . import client
from .client import AbdmError, AbdmUnavailable

log = logging.getLogger("abdm.dataflow")

# Webhooks (relative to the bridge URL, under abdm.callbacks.MOUNT).
CONSENT_NOTIFY_WEBHOOK = "/api/v3/consent/request/hip/notify"
HEALTH_INFORMATION_REQUEST_WEBHOOK = "/api/v3/hip/health-information/request"

# Gateway calls.
CONSENT_ON_NOTIFY_PATH = "/api/hiecm/consent/v3/request/hip/on-notify"
HEALTH_INFORMATION_ON_REQUEST_PATH = "/api/hiecm/data-flow/v3/health-information/hip/on-request"
HEALTH_INFORMATION_NOTIFY_PATH = "/api/hiecm/data-flow/v3/health-information/notify"

# Outbox kinds (the records app registers their handlers).
ON_NOTIFY_KIND = "m2.consent_on_notify"
ON_REQUEST_KIND = "m2.hi_on_request"
TRANSFER_NOTIFY_KIND = "m2.hi_transfer_notify"

MEDIA = "application/fhir+json"
ACKNOWLEDGED, ERRORED = "ACKNOWLEDGED", "ERRORED"
TRANSFERRED, FAILED = "TRANSFERRED", "FAILED"
HI_OK, HI_ERRORED = "OK", "ERRORED"


def consent_on_notify_body(*, consent_id: str, request_id: str, error: tuple[str, str] | None = None) -> dict:
    """ConsentHipOnNotifyRequest: OK, or ERROR with ABDM's (code, message)."""
    body = {
        "acknowledgement": {"status": "ERROR" if error else "OK", "consentId": consent_id},
        "response": {"requestId": request_id},
    }
    if error:
        body["error"] = {"code": error[0], "message": error[1]}
    return body


def on_request_body(*, transaction_id: str, request_id: str, error: tuple[str, str] | None = None) -> dict:
    """HipHealthInfoOnRequestBody: ACKNOWLEDGED, or ERRORED with ABDM's (code, message)."""
    body = {
        "hiRequest": {"transactionId": transaction_id, "sessionStatus": ERRORED if error else ACKNOWLEDGED},
        "response": {"requestId": request_id},
    }
    if error:
        body["error"] = {"code": error[0], "message": error[1]}
    return body


def transfer_notify_body(
    *, consent_id: str, transaction_id: str, done_at: str, hip_id: str, statuses: list[tuple[str, bool, str]]
) -> dict:
    """DataFlowNotifyRequest. `statuses`: (careContextReference, sent, description) per care context; the session
    is TRANSFERRED when at least one care context was sent, FAILED when none was."""
    return {
        "notification": {
            "consentId": consent_id,
            "transactionId": transaction_id,
            "doneAt": done_at,
            "notifier": {"type": "HIP", "id": hip_id},
            "statusNotification": {
                "sessionStatus": TRANSFERRED if any(sent for _, sent, _ in statuses) else FAILED,
                "hipId": hip_id,
                "statusResponses": [
                    {"careContextReference": reference, "hiStatus": HI_OK if sent else HI_ERRORED, "description": text}
                    for reference, sent, text in statuses
                ],
            },
        }
    }


def checksum(content: str) -> str:
    """The entry's checksum: MD5 of the content before encryption (the drop), base64 as dimagi's integrator sends."""
    return base64.b64encode(hashlib.md5(content.encode("utf-8"), usedforsecurity=False).digest()).decode()


def push_key_material(*, public_key: str, nonce: str, expiry: str) -> dict:
    return {
        "cryptoAlg": "ECDH",
        "curve": "Curve25519",
        "dhPublicKey": {"expiry": expiry, "parameters": "Curve25519/32byte random key", "keyValue": public_key},
        "nonce": nonce,
    }


def push_page(
    url: str, *, transaction_id: str, page_number: int, page_count: int, entries: list, key_material: dict
) -> None:
    """POST one page of encrypted entries to the HIU's dataPushUrl, with the session bearer. Returns on 200/202.
    Raises AbdmUnavailable (connection refused/reset, timeout, 5xx, 429: worth trying again) or AbdmError (the HIU
    refused the page). The body is never logged."""
    body = {
        "pageNumber": page_number,
        "pageCount": page_count,
        "transactionId": transaction_id,
        "entries": entries,
        "keyMaterial": key_material,
    }
    headers = {
        "Authorization": f"Bearer {client.session_token()}",
        "Content-Type": "application/json",
        "Accept": "application/json",
        "REQUEST-ID": str(uuid.uuid4()),
        "TIMESTAMP": client.timestamp(),
        "X-CM-ID": settings.ABDM_CM_ID,
    }
    started = time.monotonic()
    status = "-"
    try:
        response = requests.post(
            url,
            data=jsonlib.dumps(body),
            headers=headers,
            timeout=(5.0, float(settings.ABDM_TIMEOUT)),
            allow_redirects=False,
        )
        status = response.status_code
    except requests.Timeout:
        status = "timeout"
        raise AbdmUnavailable("The data push URL did not answer in time.", code="timeout") from None
    except requests.RequestException as exc:
        status = "unreachable"
        raise AbdmUnavailable(
            f"The data push URL could not be reached ({type(exc).__name__}).", code="unreachable"
        ) from None
    finally:
        elapsed = int((time.monotonic() - started) * 1000)
        log.info(
            "Data push page %s/%s -> %s transaction=%s %dms", page_number, page_count, status, transaction_id, elapsed
        )
    if response.status_code in (200, 202):
        return
    error = client.error_from_response(response.status_code, response.content, response.headers.get("Content-Type", ""))
    if response.status_code >= 500 or response.status_code == 429:
        raise AbdmUnavailable(error.message, code=error.code, status=response.status_code)
    raise AbdmError(error.message or "The HIU refused the data push.", code=error.code, status=response.status_code)
