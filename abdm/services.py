"""Writes of the abdm app itself: the bridge URL the gateway calls back.

`PATCH /api/hiecm/gateway/v3/bridge/url {"url": ...}` (hiecm-gateway.yaml, operationId
gateway_patch_gateway_v3_bridge_url; answered 202) tells the gateway where this portal's bridge is. The portal
sends it through the outbox when ABDM_BRIDGE_URL differs from the URL ABDM last accepted (BridgeRegistration), at
start (`manage.py abdm_register_bridge`, run after migrate) and whenever the setting changes. Only the base URL is
registered: the gateway appends each webhook's path (/api/v3/...) to it.
"""

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import outbox
from .enums import OutboxStatus
from .models import BridgeRegistration, OutboxMessage

log = logging.getLogger("abdm.services")

BRIDGE_URL_KIND = "abdm.bridge_url"
BRIDGE_URL_PATH = "/api/hiecm/gateway/v3/bridge/url"


def registered_bridge_url() -> str | None:
    """The bridge URL ABDM last accepted for our client ID, or None."""
    registration = BridgeRegistration.objects.filter(client_id=settings.ABDM_CLIENT_ID).first()
    return registration.url if registration else None


@transaction.atomic
def register_bridge_url(*, url: str | None = None) -> OutboxMessage | None:
    """Queue the bridge URL update when `url` (ABDM_BRIDGE_URL by default) is not the one ABDM last accepted and no
    update to it is already on its way. Returns the queued (or already queued) message, or None when ABDM already
    has that URL. Queries: a lock on the registration row, one read of open messages, at most one insert."""
    url = (url or settings.ABDM_BRIDGE_URL).rstrip("/")
    current = BridgeRegistration.objects.select_for_update().filter(client_id=settings.ABDM_CLIENT_ID).first()
    if current is not None and current.url == url:
        return None
    waiting = (
        OutboxMessage.objects.filter(kind=BRIDGE_URL_KIND, status=OutboxStatus.PENDING, body__url=url)
        .order_by("-created_at")
        .first()
    )
    if waiting is not None:
        return waiting
    log.info("Registering the bridge URL with the gateway")
    return outbox.enqueue(kind=BRIDGE_URL_KIND, method="PATCH", path=BRIDGE_URL_PATH, json={"url": url})


def _bridge_url_accepted(message: OutboxMessage, body) -> None:
    BridgeRegistration.objects.update_or_create(
        client_id=settings.ABDM_CLIENT_ID,
        defaults={"url": message.body["url"], "confirmed_at": timezone.now()},
    )


outbox.register_handler(BRIDGE_URL_KIND, on_success=_bridge_url_accepted)
