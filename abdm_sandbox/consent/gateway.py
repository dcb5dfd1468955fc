"""The consent manager's gateway operations, mounted at /api/hiecm/ (server https://dev.abdm.gov.in):

HIU side, hiecm-m3.yaml:
  POST consent/v3/request/init            m3_post_consent_v3_request_init        202, then on-init
  POST consent/v3/request/status          m3_post_consent_v3_request_status      202, then on-status
  POST consent/v3/request/hiu/on-notify   m3_post_consent_v3_request_hiu_on_notify   202
  POST consent/v3/fetch                   m3_post_consent_v3_fetch               202, then on-fetch
  POST data-flow/v3/health-information/request   m3_post_data_flow_v3_health_information_request  202, then
                                          on-request to the HIU and the request to the HIP
  POST data-flow/v3/health-information/notify    m3_post_data_flow_v3_health_information_notify (HIU and HIP)
  GET  data-flow/v3/health-information/request/status/{transaction-id}   m3_get_data_flow_v3_..._status
HIP side, hiecm-m2.yaml (and consent-management-data-flow.yaml):
  POST consent/v3/request/hip/on-notify   m2_consent_hip_on_notify               202
  POST data-flow/v3/health-information/hip/on-request   m2_hip_health_information_on_request   202
Each answers 400 in the shape its spec gives (an array of errors for init and the on-notify acknowledgements,
`{"error": ...}` for status, fetch and the request, flat `{code, message}` for notify and on-request).
"""

import uuid

from django.http import HttpResponse, JsonResponse

from ..auth import require_session
from ..errors import abdm_error
from ..http import api_view, json_body, ok
from . import schemas, services
from .models import ConsentArtefact, ConsentRequest


def _accepted() -> HttpResponse:
    return HttpResponse(status=202)


def _array_error(message: str, code: str = "ABDM-9999") -> JsonResponse:
    return JsonResponse([{"error": {"code": code, "message": message}}], status=400, safe=False)


def _flat_error(message: str, code: str = "ABDM-1031") -> JsonResponse:
    return abdm_error(400, code, message, flat=True)


def _hiu_header(request) -> str:
    return request.headers.get("X-HIU-ID", "").strip()


def _missing_hiu_header() -> JsonResponse:
    return abdm_error(400, "ABDM-1032", "Invalid header: X-HIU-ID is required")


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


@api_view("POST")
@require_session(cm_id=True)
def request_init(request):
    """An HIU's consent request: checked now (400 with the reasons), answered on on-init with its ID."""
    services.start_sweeper()
    body = json_body(request)
    consent = body.get("consent")
    problems = services.validate_consent(consent) if isinstance(consent, dict) else ["consent: an object is required"]
    if problems:
        return JsonResponse([{"error": {"code": "ABDM-9999", "message": p}} for p in problems], status=400, safe=False)
    services.consent_request_create(
        consent_body=consent, hiu_bridge=request.abdm_client, init_request_id=request.abdm_request_id
    )
    return _accepted()


def _hiu_request(request, consent_request_id) -> ConsentRequest | None:
    """The caller's own consent request (its bridge and X-HIU-ID), or None."""
    return ConsentRequest.objects.filter(
        consent_request_id=consent_request_id, hiu_bridge=request.abdm_client, hiu_id=_hiu_header(request)
    ).first()


@api_view("POST")
@require_session(cm_id=True)
def request_status(request):
    """The status of the caller's consent request, on its on-status callback."""
    services.expire_due()
    body = json_body(request)
    if not _hiu_header(request):
        return _missing_hiu_header()
    if services.schema_problems(schemas.CONSENT_REQUEST_STATUS, body) or not _uuid(body["consentRequestId"]):
        return abdm_error(400, "ABDM-9999", "Invalid Consent request id")
    consent_request = _hiu_request(request, _uuid(body["consentRequestId"]))
    if consent_request is None:
        return abdm_error(404, "ABDM-1001", "No data found")
    services.consent_status(request=consent_request, request_id=request.abdm_request_id)
    return _accepted()


@api_view("POST")
@require_session(cm_id=True)
def hiu_on_notify(request):
    """The HIU acknowledges a consent notification: recorded on the request it was about."""
    body = json_body(request)
    problems = services.schema_problems(schemas.HIU_ON_NOTIFY, body)
    if problems:
        return _array_error("; ".join(problems))
    ids = [_uuid(item["consentId"]) for item in body["acknowledgement"]]
    if any(value is None for value in ids):
        return _array_error("Invalid ConsentId, Please provide a valid ConsentId")
    requests = ConsentRequest.objects.filter(hiu_bridge=request.abdm_client, consent_request_id__in=ids) | (
        ConsentRequest.objects.filter(hiu_bridge=request.abdm_client, artefacts__artefact_id__in=ids)
    )
    requests = list(requests.distinct())
    if ids and not requests:
        return _array_error("Invalid ConsentId, Please provide a valid ConsentId")
    for consent_request in requests:
        acknowledgements = [*consent_request.hiu_acknowledgements, *body["acknowledgement"]][-50:]
        ConsentRequest.objects.filter(pk=consent_request.pk).update(hiu_acknowledgements=acknowledgements)
    return _accepted()


@api_view("POST")
@require_session(cm_id=True)
def consent_fetch(request):
    """An artefact of the caller's, on its on-fetch callback."""
    services.expire_due()
    body = json_body(request)
    if not _hiu_header(request):
        return _missing_hiu_header()
    if services.schema_problems(schemas.CONSENT_FETCH, body) or not _uuid(body["consentId"]):
        return abdm_error(400, "ABDM-9999", "Invalid Consent artefact id")
    artefact = (
        ConsentArtefact.objects.select_related("consent_request")
        .filter(
            artefact_id=_uuid(body["consentId"]),
            consent_request__hiu_bridge=request.abdm_client,
            consent_request__hiu_id=_hiu_header(request),
        )
        .first()
    )
    if artefact is None:
        return abdm_error(404, "ABDM-1001", "No data found")
    services.fetch_answer(artefact=artefact, request_id=request.abdm_request_id)
    return _accepted()


@api_view("POST")
@require_session(cm_id=True)
def hip_on_notify(request):
    """The HIP acknowledges a consent notification (OK or ERROR), recorded on the artefact."""
    body = json_body(request)
    problems = services.schema_problems(schemas.HIP_ON_NOTIFY, body)
    if problems:
        return _array_error("; ".join(problems))
    artefact_id = _uuid(body["acknowledgement"]["consentId"])
    artefact = ConsentArtefact.objects.filter(artefact_id=artefact_id).first() if artefact_id else None
    if artefact is None or services.hip_bridge(artefact.hip_id) != request.abdm_client:
        return _array_error("Invalid ConsentId, Please provide a valid ConsentId")
    ConsentArtefact.objects.filter(pk=artefact.pk).update(hip_acknowledgement=body["acknowledgement"]["status"])
    return _accepted()


@api_view("POST")
@require_session(cm_id=True)
def health_information_request(request):
    """An HIU's request for the data of an artefact: 202, then on-request (with the transaction ID or the
    refusal) and, when valid, the request relayed to the HIP."""
    services.start_sweeper()
    body = json_body(request)
    hiu_id = _hiu_header(request)
    if not hiu_id:
        return _missing_hiu_header()
    problems = services.schema_problems(schemas.HEALTH_INFORMATION_REQUEST, body)
    hi_request = body.get("hiRequest") if isinstance(body.get("hiRequest"), dict) else {}
    url = hi_request.get("dataPushUrl")
    if not problems and not (isinstance(url, str) and url.startswith(("http://", "https://")) and len(url) <= 500):
        problems = ["hiRequest.dataPushUrl: an http(s) URL is required"]
    if not problems:
        dates = hi_request["dateRange"]
        if services.parse_time(dates["from"]) is None or services.parse_time(dates["to"]) is None:
            problems = ["hiRequest.dateRange: ISO 8601 date-times are required"]
    if problems:
        return abdm_error(400, "ABDM-1015", "Invalid Response: " + "; ".join(problems))
    services.health_information_request(
        hi_request=hi_request, hiu_id=hiu_id, hiu_bridge=request.abdm_client, request_id=request.abdm_request_id
    )
    return _accepted()


@api_view("POST")
@require_session(cm_id=True)
def hip_on_request(request):
    """The HIP acknowledges (or refuses) a health-information request."""
    body = json_body(request)
    problems = services.schema_problems(schemas.HIP_ON_REQUEST, body)
    if problems:
        return _flat_error("Invalid request: " + "; ".join(problems))
    hi_request = body.get("hiRequest") or {}
    transfer = services.transfer_for(hi_request.get("transactionId")) if hi_request else None
    if transfer is None and not hi_request:
        transfer = (
            services.HealthInformationRequest.objects.select_related("artefact")
            .filter(hip_request_id=body["response"]["requestId"])
            .first()
        )
    if transfer is None or services.hip_bridge(transfer.artefact.hip_id) != request.abdm_client:
        return _flat_error("Invalid request: no such transaction of this HIP", "ABDM-1017")
    services.hip_acknowledged(
        transfer=transfer, session_status=hi_request.get("sessionStatus"), error=body.get("error")
    )
    return _accepted()


@api_view("POST")
@require_session(cm_id=True)
def health_information_notify(request):
    """A data-flow notification (the HIP: TRANSFERRED/FAILED; the HIU: RECEIVED/FAILED), recorded."""
    body = json_body(request)
    problems = services.schema_problems(schemas.HEALTH_INFORMATION_NOTIFY, body)
    if problems:
        return _flat_error("Invalid request: " + "; ".join(problems))
    notification = body["notification"]
    transfer = services.transfer_for(notification["transactionId"])
    if transfer is None or str(transfer.artefact.artefact_id) != str(notification["consentId"]).lower():
        return _flat_error("Invalid request: no such transaction under this consent", "ABDM-1017")
    notifier = notification["notifier"]
    if notifier["type"] == "HIP":
        allowed = services.hip_bridge(transfer.artefact.hip_id) == request.abdm_client
    else:
        allowed = transfer.hiu_bridge == request.abdm_client
    if not allowed:
        return _flat_error("Invalid request: the notifier is not part of this transaction")
    services.transfer_notified(transfer=transfer, notification=notification)
    return _accepted()


@api_view("GET")
@require_session(cm_id=True)
def transfer_status(request, transaction_id):
    """The status of a data-flow transaction, for its HIU or HIP."""
    transfer = services.transfer_for(transaction_id)
    if transfer is None or request.abdm_client not in (
        transfer.hiu_bridge,
        services.hip_bridge(transfer.artefact.hip_id),
    ):
        return abdm_error(404, "ABDM-1001", "No data found")
    return ok({"transactionId": str(transfer.transaction_id), "status": transfer.status})
