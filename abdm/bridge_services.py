"""The state's bridge and its services on ABDM: a verified facility is an HIP service of the bridge, its HFR ID the
service ID.

Operations of NHA's published OpenAPI (nha-in/docs, catalogue/openapi/hiecm/v3/):

- add or update: `POST /v1/bridges/MutipleHRPAddUpdateServices` of hiecm-m4.yaml (operationId
  m4_post_v1_bridges_mutiplehrpaddupdateservices, NHA's `facilityAddAndUpdate`; the spelling "Mutiple" is the
  spec's), on the registry's server (ABDM_HFR_URL). Body BridgeAddUpdateRequestDTO: facilityId (^IN\\d+$),
  facilityName, HRP[MultipleHRPRequest: bridgeId, hipName, type, active]. The gateway file (hiecm-gateway.yaml)
  publishes only the reads, so the write is M4's, as ohcnetwork/care_abdm sends it.
- read the bridge's services: `GET /api/hiecm/gateway/v3/bridge-services` (operationId
  gateway_get_gateway_v3_bridge_services): {bridge, services[{id, name, types, endpoints, active}]}.
- read one service: `GET /api/hiecm/gateway/v3/bridge-service/serviceId/{service-id}` (operationId
  gateway_get_gateway_v3_bridge_service_serviceid_service_id): {id, bridgeId, serviceId, name, isHip, ...}.

Writes go through the outbox (`hip_service_enqueue`), inside the caller's transaction: the row commits with the
facility's change and a Celery task sends it, again later while ABDM is down. The bridge ID is the portal's client
ID (ABDM_CLIENT_ID), as ABDM issues them.
"""

import re

from django.conf import settings

from . import outbox
from .client import AbdmError, gateway_request

ADD_UPDATE_PATH = "/v1/bridges/MutipleHRPAddUpdateServices"
BRIDGE_SERVICES_PATH = "/api/hiecm/gateway/v3/bridge-services"
SERVICE_PATH = "/api/hiecm/gateway/v3/bridge-service/serviceId/{service_id}"
HIP = "HIP"
# The outbox kind of a facility's add/update: the facilities app registers its handlers for it.
HIP_SERVICE_KIND = "bridge.hip_service"
HIP_NAME_LENGTH = 100


def hip_name(name: str, facility_id: str = "") -> str:
    """The facility's name as the HIP's name: Latin letters, digits, spaces, dots and hyphens, starting with a
    letter or digit, at most 100 characters (HFR refuses "special characters" in hipName; ohcnetwork/care_abdm
    strips them the same way). A name with none of these (all Gujarati, say) is the facility ID."""
    cleaned = " ".join(re.sub(r"[^A-Za-z0-9 .\-]+", " ", str(name or "")).split())
    cleaned = re.sub(r"^[^A-Za-z0-9]+", "", cleaned)[:HIP_NAME_LENGTH].strip()
    return cleaned or facility_id


def hip_service_body(*, facility_id: str, name: str, active: bool) -> dict:
    """BridgeAddUpdateRequestDTO for one facility as an HIP of this portal's bridge."""
    label = hip_name(name, facility_id)
    return {
        "facilityId": facility_id,
        "facilityName": label,
        "HRP": [{"bridgeId": settings.ABDM_CLIENT_ID, "hipName": label, "type": HIP, "active": bool(active)}],
    }


def hip_service_enqueue(*, facility_id: str, name: str, active: bool, subject):
    """Queue the add/update of `facility_id` as an (in)active HIP service of the bridge; returns the message.

    Call inside the transaction of the facility's change: the message commits with it and is sent after the
    commit (retried while ABDM is down). The handlers registered for HIP_SERVICE_KIND record the answer.
    """
    return outbox.enqueue(
        kind=HIP_SERVICE_KIND,
        method="POST",
        path=ADD_UPDATE_PATH,
        json=hip_service_body(facility_id=facility_id, name=name, active=active),
        base="hfr",
        subject=subject,
    )


def requested_active(message) -> bool | None:
    """Whether the add/update `message` asked for an active service (None when the body is not one of ours)."""
    try:
        return bool(message.body["HRP"][0]["active"])
    except (KeyError, IndexError, TypeError):
        return None


def bridge_services(*, timeout: float | None = None) -> dict:
    """This bridge and its services, as the gateway lists them ({"bridge": ..., "services": [...]}).

    An empty bridge (ABDM-1001 "No data found") is {"bridge": None, "services": []}.
    """
    try:
        answer = gateway_request("GET", BRIDGE_SERVICES_PATH, timeout=timeout)
    except AbdmError as error:
        if error.code == "ABDM-1001" or error.status == 404:
            return {"bridge": None, "services": []}
        raise
    if not isinstance(answer, dict):
        return {"bridge": None, "services": []}
    return {"bridge": answer.get("bridge"), "services": list(answer.get("services") or [])}


def bridge_service(service_id: str, *, timeout: float | None = None) -> dict | None:
    """One service's details from the gateway, or None when it has no such service."""
    try:
        answer = gateway_request("GET", SERVICE_PATH.format(service_id=service_id), timeout=timeout)
    except AbdmError as error:
        if error.code == "ABDM-1001" or error.status == 404:
            return None
        raise
    return answer if isinstance(answer, dict) else None
