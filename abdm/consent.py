"""The portal's M3 calls as an HIU: consent request init and status, the acknowledgement of ABDM's consent
notifications, artefact fetch, health-information request and the HIU's transfer notification.

Contract: NHA's hiecm-m3.yaml (server https://dev.abdm.gov.in; the gateway paths below are its paths). Headers beside
Authorization, REQUEST-ID and TIMESTAMP (client.gateway_request adds those and X-CM-ID): X-HIU-ID on status, fetch and
the health-information request; none more on init, on-notify and notify.

Gateway calls (each answers 202; the answer comes on the webhook named):

- `POST /api/hiecm/consent/v3/request/init` (m3_post_consent_v3_request_init) {consent {purpose {text, code, refUri},
  patient {id}, hip? {id, name, type}, hiu {id, name, type}, careContexts?, requester {name, identifier {value, type,
  system}}, hiTypes[], permission {accessMode, dateRange {from, to}, dataEraseAt, frequency {unit, value,
  repeats}}}} -> `/api/v3/hiu/consent/request/on-init` (m3_post_v3_hiu_consent_request_on_init)
  {consentRequest {id} | null, error, response {requestId}}.
- `POST /api/hiecm/consent/v3/request/status` (m3_post_consent_v3_request_status) {consentRequestId}
  -> `/api/v3/hiu/consent/request/on-status` (m3_post_v3_hiu_consent_request_on_status).
- `/api/v3/hiu/consent/request/notify` (m3_post_v3_hiu_consent_request_notify) {notification {consentRequestId,
  status, reason, consentArtefacts [{id}]}}, answered by
  `POST /api/hiecm/consent/v3/request/hiu/on-notify` (m3_post_consent_v3_request_hiu_on_notify)
  {acknowledgement [{status, consentId}], error?, response {requestId}}.
- `POST /api/hiecm/consent/v3/fetch` (m3_post_consent_v3_fetch) {consentId} -> `/api/v3/hiu/consent/on-fetch`
  (m3_post_v3_hiu_consent_on_fetch) {consent {status, consentDetail, signature} | null, error, response}.
- `POST /api/hiecm/data-flow/v3/health-information/request` (m3_post_data_flow_v3_health_information_request)
  {hiRequest {consent {id}, dateRange {from, to}, dataPushUrl, keyMaterial {cryptoAlg, curve, dhPublicKey {expiry,
  parameters, keyValue}, nonce}}} -> `/api/v3/hiu/health-information/on-request`
  (m3_post_v3_hiu_health_information_on_request) {hiRequest {transactionId, sessionStatus} | null, error, response}.
- The HIP pushes to our dataPushUrl (not through the gateway), then the HIU tells ABDM:
  `POST /api/hiecm/data-flow/v3/health-information/notify` (m3_post_data_flow_v3_health_information_notify)
  {notification {consentId, transactionId, doneAt, notifier {type HIU, id}, statusNotification {sessionStatus
  RECEIVED|FAILED, hipId, statusResponses [{careContextReference, hiStatus OK|ERRORED, description}]}}}.
"""

from datetime import UTC, datetime

from . import fidelius

# Gateway paths.
INIT_PATH = "/api/hiecm/consent/v3/request/init"
STATUS_PATH = "/api/hiecm/consent/v3/request/status"
ON_NOTIFY_PATH = "/api/hiecm/consent/v3/request/hiu/on-notify"
FETCH_PATH = "/api/hiecm/consent/v3/fetch"
HI_REQUEST_PATH = "/api/hiecm/data-flow/v3/health-information/request"
HI_NOTIFY_PATH = "/api/hiecm/data-flow/v3/health-information/notify"

# Webhooks (relative to the bridge URL).
ON_INIT_WEBHOOK = "/api/v3/hiu/consent/request/on-init"
ON_STATUS_WEBHOOK = "/api/v3/hiu/consent/request/on-status"
NOTIFY_WEBHOOK = "/api/v3/hiu/consent/request/notify"
ON_FETCH_WEBHOOK = "/api/v3/hiu/consent/on-fetch"
HI_ON_REQUEST_WEBHOOK = "/api/v3/hiu/health-information/on-request"

# Outbox kinds (the records app registers their handlers).
INIT_KIND = "m3.consent_init"
STATUS_KIND = "m3.consent_status"
ON_NOTIFY_KIND = "m3.consent_on_notify"
FETCH_KIND = "m3.consent_fetch"
HI_REQUEST_KIND = "m3.hi_request"
HI_NOTIFY_KIND = "m3.hi_notify"

# ABDM's purposes (code -> the text the spec pairs with it) and health-information types.
PURPOSES = {
    "CAREMGT": "Care Management",
    "BTG": "Break the Glass",
    "PUBHLTH": "Public Health",
    "HPAYMT": "Healthcare Payment",
    "DSRCH": "Disease Specific Healthcare Research",
    "PATRQT": "Self Requested",
}
HI_TYPES = (
    "DiagnosticReport",
    "DischargeSummary",
    "HealthDocumentRecord",
    "ImmunizationRecord",
    "OPConsultation",
    "Prescription",
    "WellnessRecord",
    "Invoice",
)
PURPOSE_REF_URI = "https://abdm.gov.in"
MEDIA = "application/fhir+json"


def iso(moment: datetime) -> str:
    """UTC with milliseconds and Z, as the spec's date-times ("2021-09-28T12:30:08.573Z")."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def init_body(
    *,
    purpose: str,
    patient_address: str,
    hiu_id: str,
    hiu_name: str,
    requester_name: str,
    requester_id: str,
    requester_id_type: str,
    requester_system: str,
    hi_types: list[str],
    access_mode: str,
    date_from: datetime,
    date_to: datetime,
    data_erase_at: datetime,
    frequency: dict,
    hip_id: str = "",
    hip_name: str = "",
    care_contexts: list[dict] | None = None,
) -> dict:
    consent = {
        "purpose": {"text": PURPOSES[purpose], "code": purpose, "refUri": PURPOSE_REF_URI},
        "patient": {"id": patient_address},
        "hiu": {"id": hiu_id, "name": hiu_name or None, "type": "HIU"},
        "requester": {
            "name": requester_name,
            "identifier": {"value": requester_id, "type": requester_id_type, "system": requester_system},
        },
        "hiTypes": list(hi_types),
        "permission": {
            "accessMode": access_mode,
            "dateRange": {"from": iso(date_from), "to": iso(date_to)},
            "dataEraseAt": iso(data_erase_at),
            "frequency": {
                "unit": frequency["unit"],
                "value": int(frequency["value"]),
                "repeats": int(frequency.get("repeats") or 0),
            },
        },
    }
    if hip_id:
        consent["hip"] = {"id": hip_id, "name": hip_name or None, "type": "HIP"}
    if care_contexts:
        consent["careContexts"] = care_contexts
    return {"consent": consent}


def status_body(consent_request_id: str) -> dict:
    return {"consentRequestId": str(consent_request_id)}


def on_notify_body(*, consent_ids: list[str], request_id: str, error: tuple[str, str] | None = None) -> dict:
    """The acknowledgement of a notification: one entry per artefact (or the request when it names none)."""
    body = {
        "acknowledgement": [{"status": "ERROR" if error else "OK", "consentId": str(c)} for c in consent_ids],
        "response": {"requestId": request_id},
    }
    if error:
        body["error"] = {"code": error[0], "message": error[1]}
    return body


def fetch_body(artefact_id: str) -> dict:
    return {"consentId": str(artefact_id)}


def hi_request_body(
    *,
    artefact_id: str,
    date_from: datetime,
    date_to: datetime,
    data_push_url: str,
    public_key: str,
    nonce: str,
    key_expiry: datetime,
) -> dict:
    return {
        "hiRequest": {
            "consent": {"id": str(artefact_id)},
            "dateRange": {"from": iso(date_from), "to": iso(date_to)},
            "dataPushUrl": data_push_url,
            "keyMaterial": {
                "cryptoAlg": fidelius.CRYPTO_ALG,
                "curve": fidelius.CURVE,
                "dhPublicKey": {
                    "expiry": iso(key_expiry),
                    "parameters": fidelius.KEY_PARAMETERS,
                    "keyValue": public_key,
                },
                "nonce": nonce,
            },
        }
    }


def hi_notify_body(
    *,
    artefact_id: str,
    transaction_id: str,
    hiu_id: str,
    hip_id: str,
    received: bool,
    statuses: list[tuple[str, bool, str]],
    done_at: datetime,
) -> dict:
    """statuses: (careContextReference, ok, description) per care context."""
    return {
        "notification": {
            "consentId": str(artefact_id),
            "transactionId": str(transaction_id),
            "doneAt": iso(done_at),
            "notifier": {"type": "HIU", "id": hiu_id},
            "statusNotification": {
                "sessionStatus": "RECEIVED" if received else "FAILED",
                "hipId": hip_id,
                "statusResponses": [
                    {"careContextReference": ref, "hiStatus": "OK" if ok else "ERRORED", "description": text[:255]}
                    for ref, ok, text in statuses
                ],
            },
        }
    }
