"""Break the glass: a doctor's emergency access, its audited reads, and the state's review."""

import datetime as dt
import re

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from abha.selectors import account_by_identifier
from core import access, ratelimit
from core.exceptions import DomainError, NotAllowed, NotFound, Throttled
from core.services import audit_record
from facilities.models import Facility

from .. import selectors
from ..enums import AccessBasis
from ..models import BreakGlassGrant
from .common import ConsentInactive, RecordRead, _audit_read, doctor_facility, doctor_still_acts_for

# A reason the state can review: a sentence, not a token. At least this many characters (spaces collapsed), three
# different words and six different characters, so "aaaaaaaaaaaaaaaaaaaa" or "test test test test" is refused.
BTG_REASON_MIN_CHARS = 20
BTG_REASON_MIN_WORDS = 3
BTG_REASON_MIN_DISTINCT_CHARS = 6


def btg_reason_problem(reason: str) -> str | None:
    """Why `reason` is not enough to justify emergency access, or None when it is."""
    reason = " ".join(str(reason or "").split())
    words = {word.casefold() for word in re.findall(r"\w+", reason)}
    characters = {char.casefold() for char in reason if not char.isspace()}
    if (
        len(reason) < BTG_REASON_MIN_CHARS
        or len(words) < BTG_REASON_MIN_WORDS
        or len(characters) < BTG_REASON_MIN_DISTINCT_CHARS
    ):
        return _(
            "Describe the emergency in a sentence the state can review: at least %(count)s characters and "
            "%(words)s different words."
        ) % {"count": BTG_REASON_MIN_CHARS, "words": BTG_REASON_MIN_WORDS}
    return None


def _btg_throttle(actor) -> None:
    """Counts one emergency access of this doctor; Throttled (429 with Retry-After) past BTG_RATE in the window.

    A cache outage raises (503): the limit stays closed, like the OTP limits."""
    limit, seconds = ratelimit.parse_rate(settings.BTG_RATE)
    if ratelimit.hit(f"records:btg:doctor:{actor.pk}", seconds=seconds) > limit:
        raise Throttled(
            _("You have used emergency access too often. Ask the patient for consent, or wait and try again."),
            retry_after=ratelimit.retry_after(seconds=seconds),
        )


@transaction.atomic
def btg_grant(
    *, actor, patient_identifier: str, reason: str, facility: Facility | None = None, request=None
) -> BreakGlassGrant:
    """Emergency access for a doctor of a verified facility, for BTG_ACCESS_MINUTES, with a substantial reason.

    Rate-limited per doctor (BTG_RATE; every attempt with a good reason counts, so the form is no way to test
    which ABHAs exist either). Audited on the patient (so it shows in their access log, flagged), and the grant
    needs review: state officials list and mark it (`needs_review` until `btg_review`).
    """
    if actor.role != "doctor":
        raise NotAllowed(_("Only doctors can use emergency access."))
    facility = doctor_facility(actor, facility)
    reason = " ".join(str(reason or "").split())
    problem = btg_reason_problem(reason)
    if problem:
        raise DomainError(_("Some fields are not valid."), fields={"reason": [problem]})
    _btg_throttle(actor)
    patient = account_by_identifier(patient_identifier)
    if patient is None or not patient.is_active:
        raise DomainError(
            _("Some fields are not valid."), fields={"patient": [_("No active ABHA matches this number or address.")]}
        )
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
    _btg_through_abdm(actor=actor, patient=patient, reason=reason, facility=facility, grant=grant, request=request)
    return grant


def _btg_through_abdm(*, actor, patient, reason: str, facility: Facility, grant: BreakGlassGrant, request) -> None:
    """The state's emergency policy on the network: the same emergency asks ABDM's consent manager, with ABDM's
    emergency purpose (BTG, hiecm-m3), for the patient's records at facilities outside the portal, until the grant
    ends. It passed the same checks (verified facility, current doctor, rate limit, reason) and the state official
    reviews it with the grant (same reason; `records.hiu_consent_request` audited with the grant's ID)."""
    from .. import hiu

    address = next(
        (a.full.lower() for a in patient.addresses.all() if re.fullmatch(hiu.ADDRESS_SHAPE, a.full.lower())), None
    )
    if address is None:
        return
    now = timezone.now()
    hiu.consent_request_create(
        actor=actor,
        patient_address=address,
        purpose="BTG",
        hi_types=list(hiu.HiType.values),
        date_from=now - dt.timedelta(days=3650),
        date_to=now,
        data_erase_at=grant.expires_at,
        facility=facility,
        emergency_reason=f"{reason} [{grant.uuid}]",
        request=request,
    )


@transaction.atomic
def btg_records_read(*, actor, grant_uuid, request=None) -> RecordRead:
    """All current records of the patient under an active emergency grant of this doctor; audited.

    Checked at the moment of the read: the doctor is still a doctor of the grant's facility and it is verified
    (NotAllowed / FacilityNotActive), the grant has not ended and the patient's ABHA is active (ConsentInactive).
    """
    grant = BreakGlassGrant.objects.select_related("patient", "facility").filter(uuid=grant_uuid).first()
    if grant is None or grant.doctor_id != actor.pk:
        raise NotFound(_("Not found."))
    doctor_still_acts_for(actor, grant.facility)
    if not grant.is_active or not grant.patient.is_active:
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
