"""The gateway (hiecm-gateway.yaml, server https://dev.abdm.gov.in), mounted at /api/hiecm/gateway/v3/."""

import datetime

from django.conf import settings
from django.http import HttpResponse

from .auth import check_standard_headers, require_session
from .errors import abdm_error, unauthorized
from .http import api_view, json_body, ok
from .keys import signing_key
from .models import ApiClient, Bridge, BridgeService
from .services import secret_matches

GATEWAY_PREFIX = "/api/hiecm/gateway/v3"


def _iso(moment: datetime.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- abdm-sessions ------------------------------------------------------------------------------------------


@api_view("POST")
def sessions(request):
    """POST /api/hiecm/gateway/v3/sessions: client credentials -> 202 {accessToken, expiresIn,
    refreshExpiresIn, refreshToken, tokenType}. No Authorization header on this call."""
    from .tokens import session_tokens  # noqa: PLC0415

    refused = check_standard_headers(request, cm_id=True)
    if refused is not None:
        return refused
    body = json_body(request)
    missing = [name for name in ("clientId", "clientSecret", "grantType") if not isinstance(body.get(name), str)]
    if missing:
        return abdm_error(400, "ABDM-1006", f"Bad Request, invalid request Body: {', '.join(missing)} required")
    if body["grantType"] != "client_credentials":
        return abdm_error(400, "ABDM-1006", "Bad Request, invalid request Body: grantType must be client_credentials")
    client = ApiClient.objects.filter(client_id=body["clientId"], active=True).first()
    if client is None or not secret_matches(client, body["clientSecret"]):
        return unauthorized()
    return ok(session_tokens(client.client_id), status=202)


@api_view("GET")
def openid_configuration(request):
    """GET /api/hiecm/gateway/v3/.well-known/openid-configuration: where the gateway's signing keys are."""
    refused = check_standard_headers(request, cm_id=True)
    if refused is not None:
        return refused
    jwks_uri = f"{settings.SANDBOX_URL}{GATEWAY_PREFIX}/certs"
    # The spec lists `url` as required but describes only `jwks_uri`: both carry the JWKS address.
    return ok(
        {
            "issuer": settings.SANDBOX_URL,
            "jwks_uri": jwks_uri,
            "url": jwks_uri,
            "id_token_signing_alg_values_supported": ["RS256"],
        }
    )


@api_view("GET")
@require_session(cm_id=True)
def certs(request):
    """GET /api/hiecm/gateway/v3/certs: the JWKS of the keys that sign session and callback tokens."""
    key = signing_key()
    return ok({"keys": [{**key.jwk(), "x5c": [_der_b64(key.certificate_pem)]}]})


def _der_b64(certificate_pem: str) -> str:
    body = [line for line in certificate_pem.strip().splitlines() if "CERTIFICATE" not in line]
    return "".join(body)


# --- abdm-gateway: bridges ----------------------------------------------------------------------------------


@api_view("PATCH")
@require_session(cm_id=True)
def bridge_url(request):
    """PATCH /api/hiecm/gateway/v3/bridge/url {url}: where the gateway calls this client's bridge back. 202."""
    body = json_body(request)
    url = body.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")) or len(url) > 500:
        return abdm_error(400, "ABDM-1006", "Bad Request, invalid request Body: url must be an http(s) URL")
    Bridge.objects.update_or_create(bridge_id=request.abdm_client, defaults={"url": url})
    return HttpResponse(status=202)


def _service_summary(service: BridgeService) -> dict:
    return {
        "id": service.service_id,
        "name": service.name,
        "types": service.types,
        "endpoints": service.endpoints or None,
        "active": service.active,
    }


@api_view("GET")
@require_session(cm_id=True)
def bridge_services(request):
    """GET /api/hiecm/gateway/v3/bridge-services: this client's bridge and its services."""
    bridge = Bridge.objects.filter(bridge_id=request.abdm_client).first()
    if bridge is None:
        return abdm_error(404, "ABDM-1001", "No data found")
    services = bridge.services.order_by("service_id")
    return ok(
        {
            "bridge": {
                "id": bridge.bridge_id,
                "name": bridge.name,
                "url": bridge.url,
                "active": bridge.active,
                "blocklisted": bridge.blocklisted,
            },
            "services": [_service_summary(service) for service in services],
        }
    )


def service_detail(service: BridgeService) -> dict:
    return {
        "id": service.pk,
        "bridgeId": service.bridge.bridge_id,
        "serviceId": service.service_id,
        "name": service.name,
        "isHip": service.is_hip,
        "isHiu": service.is_hiu,
        "isHealthLocker": service.is_health_locker,
        "isPhr": service.is_phr,
        "active": service.active,
        "registerTime": _iso(service.register_time),
        "dateCreated": _iso(service.created_at),
        "dateModified": _iso(service.updated_at),
    }


@api_view("GET")
@require_session(cm_id=True)
def bridge_service_by_id(request, service_id):
    """GET /api/hiecm/gateway/v3/bridge-service/serviceId/{service-id}: one service's details."""
    services = BridgeService.objects.select_related("bridge").filter(service_id=service_id)
    # A service linked to several bridges: the caller's own link first.
    service = services.filter(bridge__bridge_id=request.abdm_client).first() or services.order_by("pk").first()
    if service is None:
        return abdm_error(404, "ABDM-1001", "No data found")
    return ok(service_detail(service))


# --- abdm-gateway: providers ------------------------------------------------------------------------------------


def _provider(service: BridgeService, government: set[str]) -> dict:
    return {
        "identifier": {"name": service.name, "id": service.service_id},
        "facilityType": [kind for kind in service.types if kind != "PHR"],
        "isHIP": service.is_hip,
        "isHiu": service.is_hiu,
        "isHealthLocker": service.is_health_locker,
        "isPhr": service.is_phr,
        "isGovtEntity": service.service_id in government,
        "endpoints": service.endpoints or {},
    }


def _active_services(name: str = ""):
    services = BridgeService.objects.filter(active=True, bridge__active=True).order_by("name", "service_id")
    return services.filter(name__icontains=name) if name else services


def _government_ids(services) -> set[str]:
    from .models import HfrFacility  # noqa: PLC0415 - HFR's data, read for the providers' isGovtEntity

    ids = [service.service_id for service in services]
    return set(
        HfrFacility.objects.filter(facility_id__in=ids, ownership_code="G").values_list("facility_id", flat=True)
    )


@api_view("GET")
@require_session(cm_id=True)
def providers(request):
    """GET /api/hiecm/gateway/v3/providers?name=: the active services of every bridge, by name."""
    services = list(_active_services(request.GET.get("name", "").strip())[:200])
    government = _government_ids(services)
    return ok([_provider(service, government) for service in services])


@api_view("GET")
@require_session(cm_id=True)
def provider(request, provider_id):
    """GET /api/hiecm/gateway/v3/providers/{provider-id}: one active service."""
    service = _active_services().filter(service_id=provider_id).first()
    if service is None:
        return abdm_error(404, "ABDM-1001", "No data found")
    return ok(
        {
            "identifier": {"name": service.name, "id": service.service_id},
            "facilityType": [kind for kind in service.types if kind != "PHR"],
            "isHIP": service.is_hip,
        }
    )


@api_view("GET")
@require_session(cm_id=True)
def health_lockers(request):
    """GET /api/hiecm/gateway/v3/health-lockers?name=: the active services that are health lockers."""
    services = list(_active_services(request.GET.get("name", "").strip()).filter(is_health_locker=True)[:200])
    government = _government_ids(services)
    return ok(
        [
            {
                "identifier": {"name": service.name, "id": service.service_id},
                "facilityType": [kind for kind in service.types if kind != "PHR"],
                "isHip": service.is_hip,
                "isGovtEntity": service.service_id in government,
                "endpoints": service.endpoints or {},
            }
            for service in services
        ]
    )


@api_view("GET")
@require_session(cm_id=True)
def govt_programs(request):
    """GET /api/hiecm/gateway/v3/govt-programs: the sandbox runs no government programme: an empty list."""
    return ok([])
