"""The portal's M2 calls for linking care contexts, as an HIP (NHA's hiecm-m2.yaml, server https://dev.abdm.gov.in/api,
so every path below starts with /api on the gateway's base URL).

HIP-initiated linking (each call answers 202; the outcome comes on a callback to the bridge, matched by
`response.requestId` = the call's REQUEST-ID):

- `POST /api/hiecm/v3/token/generate-token` (operationId m2_generate_link_token): GenerateLinkTokenRequest
  {abhaNumber (integer), abhaAddress, name, gender M/F/O, yearOfBirth (integer)}, header X-HIP-ID. The token comes on
  the webhook `/v3/hip/token/on-generate-token` (m2_on_generate_token_result): {abhaAddress, linkToken} or {error}.
- `POST /api/hiecm/hip/v3/link/carecontext` (m2_hip_link_care_context): HIPLinkCareContextRequest {abhaNumber
  (string), abhaAddress, patient[{referenceNumber, display, careContexts[{referenceNumber, display}], hiType[],
  count}]}, headers X-HIP-ID and X-Link-Token. `count` is the number of care contexts in the entry, 1 to 20
  (ABDM-1006 "Invalid count, must be 2 digit and ranges between 1 to 20"): MAX_CARE_CONTEXTS per call. The
  outcome comes on `/v3/link/on_carecontext` (m2_on_carecontext_result): {abhaAddress, status} or {error}.
- `POST /api/hiecm/hip/v3/link/context/notify` (m2_link_care_context_notify): LinkCareContextNotifyRequest
  {notification: {patient: {id}, careContext: {patientReference, careContextReference}, hiTypes[], date, hip: {id,
  name, type}}}, header X-HIP-ID. The outcome comes on `/v3/links/context/on-notify` (m2_on_context_notify_result):
  {acknowledgement: {status: SUCCESS|ERRORED}, error?}.

User-initiated linking (the HIP answers the gateway's webhooks with these calls, `response.requestId` echoing the
webhook's request):

- `POST /api/hiecm/user-initiated-linking/v3/patient/care-context/on-discover` (m2_on_discover_care_contexts):
  OnDiscoverRequest {transactionId, patient[PatientCareContextEntry], response: {requestId}}.
- `POST /api/hiecm/user-initiated-linking/v3/link/care-context/on-init` (m2_receive_link_init): OnLinkInitRequest
  {transactionId, link: {referenceNumber, authenticationType DIRECT|MEDIATED, meta: {communicationMedium MOBILE|EMAIL,
  communicationHint, communicationExpiry}}, response: {requestId}}.
- `POST /api/hiecm/user-initiated-linking/v3/link/care-context/on-confirm` (m2_receive_link_confirm):
  OnLinkConfirmRequest {patient[PatientCareContextEntry], response: {requestId}}.

The bridge's webhooks live at the bridge URL under /api (abdm.callbacks.MOUNT): the portal answers them at
`/api/v3/hip/token/on-generate-token`, `/api/v3/link/on_carecontext`, `/api/v3/links/context/on-notify`,
`/api/v3/hip/patient/care-context/discover`, `/api/v3/hip/link/care-context/init` and `.../confirm`.

Bodies are built here; the records app decides what to send and sends it through the outbox.
"""

from . import outbox

GENERATE_TOKEN_PATH = "/api/hiecm/v3/token/generate-token"  # noqa: S105 - a path, not a secret
LINK_CARE_CONTEXT_PATH = "/api/hiecm/hip/v3/link/carecontext"
CONTEXT_NOTIFY_PATH = "/api/hiecm/hip/v3/link/context/notify"
ON_DISCOVER_PATH = "/api/hiecm/user-initiated-linking/v3/patient/care-context/on-discover"
ON_INIT_PATH = "/api/hiecm/user-initiated-linking/v3/link/care-context/on-init"
ON_CONFIRM_PATH = "/api/hiecm/user-initiated-linking/v3/link/care-context/on-confirm"

# The webhooks (relative to the bridge URL, under abdm.callbacks.MOUNT).
ON_GENERATE_TOKEN_WEBHOOK = "/api/v3/hip/token/on-generate-token"  # noqa: S105 - a path, not a secret
ON_CARE_CONTEXT_WEBHOOK = "/api/v3/link/on_carecontext"
ON_CONTEXT_NOTIFY_WEBHOOK = "/api/v3/links/context/on-notify"
DISCOVER_WEBHOOK = "/api/v3/hip/patient/care-context/discover"
LINK_INIT_WEBHOOK = "/api/v3/hip/link/care-context/init"
LINK_CONFIRM_WEBHOOK = "/api/v3/hip/link/care-context/confirm"

MAX_CARE_CONTEXTS = 20  # `count` "must be 2 digit and ranges between 1 to 20" (hiecm-m2.yaml, ABDM-1006)
HI_TYPES = (
    "Prescription",
    "DiagnosticReport",
    "OPConsultation",
    "DischargeSummary",
    "ImmunizationRecord",
    "HealthDocumentRecord",
    "WellnessRecord",
    "Invoice",
)
GENDERS = ("M", "F", "O")

# Outbox kinds: the records app registers their handlers.
TOKEN_KIND = "m2.link_token"  # noqa: S105 - an outbox kind, not a secret
LINK_KIND = "m2.link_care_context"
NOTIFY_KIND = "m2.context_notify"
ON_DISCOVER_KIND = "m2.on_discover"
ON_INIT_KIND = "m2.on_init"
ON_CONFIRM_KIND = "m2.on_confirm"


def link_token_body(*, abha_number: str, abha_address: str, name: str, gender: str, year_of_birth: int) -> dict:
    """GenerateLinkTokenRequest. `abhaNumber` is an integer in this request (a string in the link request); a gender
    outside M/F/O is sent as O (the enum has only these three)."""
    body = {
        "abhaAddress": abha_address,
        "name": name,
        "gender": gender if gender in GENDERS else "O",
        "yearOfBirth": int(year_of_birth),
    }
    digits = "".join(ch for ch in str(abha_number or "") if ch.isdigit())
    if digits:
        body = {"abhaNumber": int(digits), **body}
    return body


def care_context_entry(*, patient_reference: str, patient_display: str, care_contexts: list[dict], hi_types) -> dict:
    """PatientCareContextEntry: `care_contexts` as [{referenceNumber, display}], hiType the distinct types."""
    if not 1 <= len(care_contexts) <= MAX_CARE_CONTEXTS:
        raise ValueError(f"A link call carries 1 to {MAX_CARE_CONTEXTS} care contexts, not {len(care_contexts)}")
    return {
        "referenceNumber": patient_reference,
        "display": patient_display,
        "careContexts": [
            {"referenceNumber": item["referenceNumber"], "display": item["display"]} for item in care_contexts
        ],
        "hiType": sorted({hi_type for hi_type in hi_types if hi_type in HI_TYPES}) or ["HealthDocumentRecord"],
        "count": len(care_contexts),
    }


def link_care_context_body(*, abha_number: str, abha_address: str, entry: dict) -> dict:
    """HIPLinkCareContextRequest for one patient's entry."""
    body = {"abhaAddress": abha_address, "patient": [entry]}
    digits = "".join(ch for ch in str(abha_number or "") if ch.isdigit())
    if digits:
        body = {"abhaNumber": digits, **body}
    return body


def context_notify_body(
    *, abha_address: str, patient_reference: str, care_context_reference: str, hi_types, date: str, hip_id: str,
    hip_name: str,
) -> dict:  # fmt: skip
    """LinkCareContextNotifyRequest: one care context, `date` an ISO date-time."""
    return {
        "notification": {
            "patient": {"id": abha_address},
            "careContext": {"patientReference": patient_reference, "careContextReference": care_context_reference},
            "hiTypes": sorted({hi_type for hi_type in hi_types if hi_type in HI_TYPES}) or ["HealthDocumentRecord"],
            "date": date,
            "hip": {"id": hip_id, "name": hip_name, "type": "HIP"},
        }
    }


def link_token_enqueue(*, hip_id: str, body: dict, subject=None):
    """Queue m2_generate_link_token; its answer (the token) arrives on ON_GENERATE_TOKEN_WEBHOOK."""
    return outbox.enqueue(
        kind=TOKEN_KIND,
        method="POST",
        path=GENERATE_TOKEN_PATH,
        json=body,
        hip_id=hip_id,
        subject=subject,
        awaits_callback=True,
    )


def link_care_context_enqueue(*, hip_id: str, link_token: str, body: dict, subject=None):
    """Queue m2_hip_link_care_context with the patient's link token; the outcome arrives on ON_CARE_CONTEXT_WEBHOOK."""
    return outbox.enqueue(
        kind=LINK_KIND,
        method="POST",
        path=LINK_CARE_CONTEXT_PATH,
        json=body,
        hip_id=hip_id,
        headers={"X-Link-Token": link_token},
        subject=subject,
        awaits_callback=True,
    )


def context_notify_enqueue(*, hip_id: str, body: dict, subject=None):
    """Queue m2_link_care_context_notify; the acknowledgement arrives on ON_CONTEXT_NOTIFY_WEBHOOK."""
    return outbox.enqueue(
        kind=NOTIFY_KIND,
        method="POST",
        path=CONTEXT_NOTIFY_PATH,
        json=body,
        hip_id=hip_id,
        subject=subject,
        awaits_callback=True,
    )


def _answer(kind: str, path: str, body: dict, subject=None):
    # These answers are not themselves answered by a callback: a 202 is the end of them.
    return outbox.enqueue(kind=kind, method="POST", path=path, json=body, subject=subject)


def on_discover_body(*, transaction_id: str, request_id: str, entries: list[dict]) -> dict:
    return {"transactionId": transaction_id, "patient": entries, "response": {"requestId": request_id}}


def on_discover_enqueue(*, transaction_id: str, request_id: str, entries: list[dict], subject=None):
    body = on_discover_body(transaction_id=transaction_id, request_id=request_id, entries=entries)
    return _answer(ON_DISCOVER_KIND, ON_DISCOVER_PATH, body, subject)


def on_init_body(*, transaction_id: str, request_id: str, link_reference: str, hint: str, expiry: str) -> dict:
    return {
        "transactionId": transaction_id,
        "link": {
            "referenceNumber": link_reference,
            "authenticationType": "DIRECT",
            "meta": {"communicationMedium": "MOBILE", "communicationHint": hint, "communicationExpiry": expiry},
        },
        "response": {"requestId": request_id},
    }


def on_init_enqueue(*, transaction_id: str, request_id: str, link_reference: str, hint: str, expiry: str,
                    subject=None):  # fmt: skip
    body = on_init_body(
        transaction_id=transaction_id, request_id=request_id, link_reference=link_reference, hint=hint, expiry=expiry
    )
    return _answer(ON_INIT_KIND, ON_INIT_PATH, body, subject)


def on_confirm_body(*, request_id: str, entries: list[dict], error: dict | None = None) -> dict:
    """OnLinkConfirmRequest; a refused confirmation (a wrong or expired OTP) carries no care contexts and an
    `error` {code, message} (ErrorObject)."""
    body = {"patient": entries, "response": {"requestId": request_id}}
    if error:
        body["error"] = error
    return body


def on_confirm_enqueue(*, request_id: str, entries: list[dict], error: dict | None = None, subject=None):
    body = on_confirm_body(request_id=request_id, entries=entries, error=error)
    return _answer(ON_CONFIRM_KIND, ON_CONFIRM_PATH, body, subject)
