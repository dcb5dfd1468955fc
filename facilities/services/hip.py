"""What ABDM answered about a facility as an HIP service of the state's bridge (the outbox's handlers).

facility_verify and facility_change_status queue the bridge services add/update (abdm.bridge_services) in their
transaction; the outbox sends it and calls these in the transaction that records the outcome. Registered for
`abdm.bridge_services.HIP_SERVICE_KIND` in FacilitiesConfig.ready().
"""

from django.utils import timezone

from abdm import bridge_services, outbox
from core.services import audit_record

from ..models import Facility


def _facility_of(message) -> Facility | None:
    if not message.subject_id or not str(message.subject_id).isdecimal():
        return None
    return Facility.objects.select_for_update().filter(pk=int(message.subject_id)).first()


def _is_latest(message, facility) -> bool:
    """Only the facility's newest add/update decides: an older one answered late (a suspension sent after a
    reinstatement was queued) must not undo it."""
    latest = outbox.messages_for(facility).filter(kind=bridge_services.HIP_SERVICE_KIND).first()
    return latest is None or latest.pk == message.pk


def hip_service_confirmed(message, body) -> None:
    """ABDM accepted the add/update: record whether the facility is now an active HIP on ABDM, and audit it.

    Queries: the facility's row (locked), its newest add/update message, one update, one audit insert.
    """
    facility = _facility_of(message)
    active = bridge_services.requested_active(message)
    if facility is None or active is None or not _is_latest(message, facility):
        return
    if isinstance(body, dict) and str(body.get("status") or "").lower() == "failure":  # HFR's 200 with a refusal
        hip_service_failed(message)
        return
    Facility.objects.filter(pk=facility.pk).update(hip_active=active, hip_confirmed_at=timezone.now())
    audit_record(
        actor=None,
        action="facility.hip_active" if active else "facility.hip_inactive",
        target=facility,
        details={"request_id": str(message.request_id), "service_id": facility.facility_id},
    )


def hip_service_failed(message) -> None:
    """ABDM refused the add/update, or did not answer for too long: nothing changes on the facility (what ABDM
    confirmed last stays); the page shows the message's "Failed: reason". Audited."""
    facility = _facility_of(message)
    if facility is None:
        return
    audit_record(
        actor=None,
        action="facility.hip_failed",
        target=facility,
        details={"request_id": str(message.request_id), "code": message.error_code},
    )
