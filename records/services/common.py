"""What the record services share: the read result and its refusal, the patient and the doctor's facility, the
access-log row."""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from abha.models import AbhaAccount
from abha.selectors import account_by_identifier
from core.exceptions import DomainError, NotAllowed
from core.services import audit_record
from facilities.enums import MembershipRole
from facilities.models import Facility, FacilityMembership

from .. import selectors
from ..models import BreakGlassGrant, ConsentArtefact


class ConsentInactive(NotAllowed):
    code = "consent_inactive"


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


def doctor_facility(actor, facility: Facility | None) -> Facility:
    """The facility the doctor acts for: the one given (they must be its doctor) or their only one."""
    memberships = FacilityMembership.objects.filter(user=actor, role=MembershipRole.DOCTOR).select_related("facility")
    facilities = {m.facility_id: m.facility for m in memberships}
    if facility is None:
        if len(facilities) != 1:
            raise DomainError(
                _("Choose the facility you act for."), fields={"facility": [_("This field is required.")]}
            )
        return next(iter(facilities.values()))
    if facility.pk not in facilities:
        raise NotAllowed(_("Only a doctor of this facility can do this."))
    return facility


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
