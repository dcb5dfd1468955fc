"""Break the glass: a doctor's emergency access, its audited reads, and the state's review."""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from abha.selectors import account_by_identifier
from core import access
from core.exceptions import DomainError, NotAllowed, NotFound
from core.services import audit_record
from facilities.models import Facility

from .. import selectors
from ..enums import AccessBasis
from ..models import BreakGlassGrant
from .common import ConsentInactive, RecordRead, _audit_read, doctor_facility


@transaction.atomic
def btg_grant(
    *, actor, patient_identifier: str, reason: str, facility: Facility | None = None, request=None
) -> BreakGlassGrant:
    """Emergency access for a doctor, for BTG_ACCESS_MINUTES, with a mandatory reason.

    Audited on the patient (so it shows in their access log, flagged) and listed for review.
    """
    if actor.role != "doctor":
        raise NotAllowed(_("Only doctors can use emergency access."))
    facility = doctor_facility(actor, facility)
    reason = (reason or "").strip()
    errors = {}
    if len(reason) < 10:
        errors["reason"] = [_("Explain the emergency (at least 10 characters).")]
    patient = account_by_identifier(patient_identifier)
    if patient is None or not patient.is_active:
        errors["patient"] = [_("No active ABHA matches this number or address.")]
    if errors:
        raise DomainError(_("Some fields are not valid."), fields=errors)
    grant = BreakGlassGrant.objects.create(
        doctor=actor,
        facility=facility,
        patient=patient,
        reason=reason,
        expires_at=timezone.now() + dt.timedelta(minutes=settings.BTG_ACCESS_MINUTES),
    )
    audit_record(
        actor=actor,
        action=selectors.BTG_ACTION,
        target=patient,
        details={
            "basis": AccessBasis.BREAK_GLASS,
            "emergency": True,
            "btg": str(grant.uuid),
            "facility": facility.facility_id,
            "facility_name": facility.name,
        },
        request=request,
    )
    return grant


@transaction.atomic
def btg_records_read(*, actor, grant_uuid, request=None) -> RecordRead:
    """All current records of the patient under an active emergency grant of this doctor; audited."""
    grant = BreakGlassGrant.objects.select_related("patient", "facility").filter(uuid=grant_uuid).first()
    if grant is None or grant.doctor_id != actor.pk:
        raise NotFound(_("Not found."))
    if not grant.is_active:
        raise ConsentInactive(_("This emergency access has ended."))
    records = list(selectors.records_for_btg(grant))
    _audit_read(
        actor=actor,
        patient=grant.patient,
        basis=AccessBasis.BREAK_GLASS,
        records=records,
        facility=grant.facility,
        request=request,
        extra={"btg": str(grant.uuid), "emergency": True},
    )
    return RecordRead(records=records, basis=AccessBasis.BREAK_GLASS, grant=grant)


@transaction.atomic
def btg_review(*, actor, grant: BreakGlassGrant, request=None) -> bool:
    """A state official marks an emergency access as reviewed (once; conditional update)."""
    if not access.can(actor, "review", grant):
        raise NotAllowed(_("Only state officials review emergency access."))
    updated = BreakGlassGrant.objects.filter(pk=grant.pk, reviewed_at__isnull=True).update(
        reviewed_by=actor, reviewed_at=timezone.now()
    )
    if updated:
        audit_record(actor=actor, action="records.btg_review", target=grant, request=request)
    return bool(updated)
