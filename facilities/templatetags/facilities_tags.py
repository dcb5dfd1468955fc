from django import template
from django.conf import settings
from django.utils.translation import gettext as _

from abdm import bridge_services, outbox
from abdm.enums import OutboxStatus

from .. import posters

register = template.Library()


@register.simple_tag
def poster_loopback_address() -> str:
    """PORTAL_BASE_URL when phones cannot open it (a loopback address), else "": the counters card warns before
    posters are printed with it."""
    return settings.PORTAL_BASE_URL if posters.address_is_loopback() else ""


@register.simple_tag
def hip_status(facility) -> dict | None:
    """The facility as an HIP on ABDM, for its page: {"state", "label"} or None when ABDM was never asked.

    state is "waiting" (the bridge services add/update is queued or being retried: "Waiting for ABDM"), "failed"
    (the outbox message's "Failed: reason"), "active" ("Active HIP on ABDM", as ABDM confirmed) or "inactive"
    (ABDM confirmed the deactivation). One query (the facility's newest add/update message).
    """
    latest = outbox.messages_for(facility).filter(kind=bridge_services.HIP_SERVICE_KIND).first()
    if latest is not None and latest.status in (OutboxStatus.PENDING, OutboxStatus.AWAITING_CALLBACK):
        return {"state": "waiting", "label": latest.state_label}
    if latest is not None and latest.status in (OutboxStatus.FAILED, OutboxStatus.ABANDONED):
        return {"state": "failed", "label": latest.state_label}
    if facility.hip_active:
        return {"state": "active", "label": _("Active HIP on ABDM")}
    if latest is not None or facility.hip_confirmed_at:
        return {"state": "inactive", "label": _("Not active on ABDM")}
    return None
