"""What the record services share: the read result and its refusal, the patient and the doctor's facility, the
access-log row."""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from abha.models import AbhaAccount
from abha.selectors import account_by_identifier
from core.exceptions import DomainError, NotAllowed
from core.services import audit_record
from facilities.enums import FacilityStatus, MembershipRole
from facilities.models import Facility, FacilityMembership

from .. import selectors
from ..models import BreakGlassGrant, ConsentArtefact


class ConsentInactive(NotAllowed):
    code = "consent_inactive"


class FacilityNotActive(NotAllowed):
    """The doctor's facility is not verified now (suspended, closed, or never verified): nothing is requested or
    read on its behalf."""

    code = "facility_not_active"


@dataclass
class RecordRead:
    """What a read returns: the records and the grant that allowed them."""

    records: list
    basis: str
    artefact: ConsentArtefact | None = None
    grant: BreakGlassGrant | None = None
    has_more: bool = False  # a page was asked for and older records exist


def patient_lookup(identifier: str) -> AbhaAccount:
    """An active ABHA by number or address, or DomainError on `patient`."""
    account = account_by_identifier(identifier)
    if account is None or not account.is_active:
        raise DomainError(_("No active ABHA matches this number or address."), fields={"patient": [_("Not found.")]})
    return account


def _refuse_unless_verified(facility: Facility) -> None:
    if facility.status != FacilityStatus.VERIFIED:
        raise FacilityNotActive(
            _("%(facility)s is not an active verified facility, so its doctors cannot request or read records.")
            % {"facility": facility.name},
            fields={"facility": [_("This facility is not active.")]},
        )


def doctor_facility(actor, facility: Facility | None) -> Facility:
    """The facility the doctor acts for: the one given (they must be its doctor) or their only one; it must be
    verified now (FacilityNotActive otherwise). One query (memberships with their facilities)."""
    memberships = FacilityMembership.objects.filter(user=actor, role=MembershipRole.DOCTOR).select_related("facility")
    facilities = {m.facility_id: m.facility for m in memberships}
    if facility is None:
        if len(facilities) != 1:
            raise DomainError(
                _("Choose the facility you act for."), fields={"facility": [_("This field is required.")]}
            )
        facility = next(iter(facilities.values()))
    elif facility.pk not in facilities:
        raise NotAllowed(_("Only a doctor of this facility can do this."))
    _refuse_unless_verified(facility)
    return facility


def doctor_still_acts_for(actor, facility: Facility) -> None:
    """At the moment of a read: `actor` is a doctor of `facility` now (a membership that ended ends access) and the
    facility is verified now (a suspended one reads nothing). NotAllowed / FacilityNotActive otherwise.

    One query (the membership); `facility` is the caller's row, read in the same request.
    """
    if not FacilityMembership.objects.filter(user=actor, facility=facility, role=MembershipRole.DOCTOR).exists():
        raise NotAllowed(_("Only a doctor of this facility can read these records."))
    _refuse_unless_verified(facility)


def _audit_read(*, actor, patient: AbhaAccount, basis: str, records: list, facility, request, extra: dict) -> None:
    """The access-log row: who, for which facility, which records, on what basis (no health data)."""
    audit_record(
        actor=actor,
        action=selectors.READ_ACTION,
        target=patient,
        details={
            "basis": basis,
            "facility": facility.facility_id if facility else "",
            "facility_name": facility.name if facility else "",
            "records": [str(record.uuid) for record in records],
            "hi_types": sorted({record.hi_type for record in records}),
            "source_facilities": sorted({record.facility.name for record in records}),
            **extra,
        },
        request=request,
    )
