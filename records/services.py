"""Writes for records and consents; reads of records too, because every read writes an audit row.

Every function is keyword-only, atomic, takes `actor=` and audits in the same transaction.
Consent state changes lock the row (SELECT ... FOR UPDATE) and check its state, so of two
concurrent grants one wins and the other gets Conflict (409).
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from abha.models import AbhaAccount
from abha.selectors import account_by_identifier
from core import access
from core.counters import count_add
from core.enums import CountMetric
from core.exceptions import Conflict, DomainError, NotAllowed, NotFound
from core.models import AuditEvent
from core.otp import otp_issue, otp_matches, otp_throttle
from core.services import audit_record
from core.sms import send_on_commit
from facilities.enums import FacilityStatus, MembershipRole
from facilities.models import Facility, FacilityMembership, Professional

from . import selectors
from .enums import (
    AccessBasis,
    AccessMode,
    ArtefactStatus,
    ConsentStatus,
    FrequencyUnit,
    HiType,
    LinkMatch,
    LinkStatus,
    Purpose,
)
from .fhir import BundleError, summarize, validate_bundle
from .models import (
    BreakGlassGrant,
    CareContext,
    ConsentArtefact,
    ConsentRequest,
    HealthRecord,
    LinkRequest,
    Notification,
)

FREQUENCY_WINDOWS = {
    FrequencyUnit.HOUR: dt.timedelta(hours=1),
    FrequencyUnit.DAY: dt.timedelta(days=1),
    FrequencyUnit.WEEK: dt.timedelta(weeks=1),
    FrequencyUnit.MONTH: dt.timedelta(days=30),
    FrequencyUnit.YEAR: dt.timedelta(days=365),
}


class ConsentInactive(NotAllowed):
    code = "consent_inactive"


class FrequencyExceeded(DomainError):
    status = 429
    code = "frequency_exceeded"


@dataclass
class RecordRead:
    """What a read returns: the records and the grant that allowed them."""

    records: list
    basis: str
    artefact: ConsentArtefact | None = None
    grant: BreakGlassGrant | None = None
    has_more: bool = False  # a page was asked for and older records exist


# --- Helpers -----------------------------------------------------------------------------


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


def _notify(consent_request: ConsentRequest, event: str) -> None:
    """In-app notification now, SMS after commit (if the requester has a mobile)."""
    Notification.objects.create(user=consent_request.requester, consent_request=consent_request, event=event)
    mobile = consent_request.requester.mobile
    if mobile:
        text = _("ABDM portal: consent request %(ref)s for %(patient)s is now %(status)s.") % {
            "ref": str(consent_request.uuid)[:8],
            "patient": consent_request.patient_address,
            "status": event,
        }
        send_on_commit(to=mobile, text=text)


# --- Records -----------------------------------------------------------------------------


def _demographics_clean(demographics: dict | None) -> dict:
    """Name, 10-digit mobile, gender (M/F/O/U) and year of birth of a patient without ABHA."""
    data = demographics or {}
    name = str(data.get("name") or "").strip()
    mobile = str(data.get("mobile") or "").strip()
    gender = str(data.get("gender") or "").strip().upper()
    year = data.get("year_of_birth")
    errors = []
    if not name:
        errors.append(_("Give the patient's name."))
    if not (len(mobile) == 10 and mobile.isdigit() and mobile[0] in "6789"):
        errors.append(_("Give the patient's 10-digit mobile number."))
    if gender not in ("M", "F", "O", "U"):
        errors.append(_("Give the patient's gender as M, F, O or U."))
    if not isinstance(year, int) or not 1900 <= year <= timezone.localdate().year:
        errors.append(_("Give the patient's year of birth."))
    if errors:
        raise DomainError(
            _("Give the patient's ABHA, or their name, mobile, gender and year of birth."),
            fields={"demographics": errors},
        )
    return {
        "patient_name": name[:200],
        "patient_mobile": mobile,
        "patient_gender": gender,
        "patient_year_of_birth": year,
    }


@transaction.atomic
def record_add(
    *,
    actor,
    facility: Facility,
    patient: AbhaAccount | None,
    reference: str,
    display: str,
    date: dt.date,
    hi_type: str,
    bundle: dict,
    demographics: dict | None = None,
    request=None,
) -> tuple[HealthRecord, bool]:
    """Store a FHIR bundle in the facility's care context `reference` for `patient`.

    `patient` None keeps an older record by `demographics` (name, mobile, gender, year_of_birth)
    until the patient links it (link_start / link_confirm).

    Returns (record, created). The same bundle again is a no-op; a changed bundle with the same
    identity becomes a new version (the old one stays, not current). Raises DomainError with the
    bundle's validation errors, NotAllowed when the actor does not act for the facility, Conflict
    when the reference already belongs to another patient. Audited as `records.add`.
    """
    if not access.can(actor, "act_for", facility):
        raise NotAllowed(_("You do not work at this facility."))
    if facility.status != FacilityStatus.VERIFIED:
        raise Conflict(_("Only a verified facility can add records."), code="facility_not_verified")
    if hi_type not in HiType.values:
        raise DomainError(_("Unknown health information type."), fields={"hi_type": [_("Choose from the list.")]})
    if date > timezone.localdate():
        raise DomainError(_("The visit date is in the future."), fields={"care_context": [_("Date is in the future.")]})
    demographics = _demographics_clean(demographics) if patient is None else {}
    try:
        facts = validate_bundle(bundle, hi_type)
    except BundleError as error:
        raise DomainError(_("The FHIR bundle is not valid."), fields={"bundle": error.errors}) from None

    care_context, _created = CareContext.objects.get_or_create(
        facility=facility,
        reference=reference,
        defaults={"patient": patient, "display": display, "date": date, "created_by": actor, **demographics},
    )
    if care_context.patient_id != (patient.pk if patient else None):
        raise Conflict(
            _("This care context reference belongs to another patient at this facility."),
            code="care_context_other_patient",
            fields={"care_context": [_("Reference already used for another patient.")]},
        )
    current = (
        HealthRecord.objects.select_for_update()
        .filter(care_context=care_context, record_key=facts.record_key, is_current=True)
        .first()
    )
    if current is not None and current.bundle_sha256 == facts.sha256 and current.hi_type == hi_type:
        return current, False
    version = 1
    if current is not None:
        HealthRecord.objects.filter(pk=current.pk).update(is_current=False)
        version = current.version + 1
    record = HealthRecord.objects.create(
        care_context=care_context,
        facility=facility,
        patient=patient,
        hi_type=hi_type,
        record_key=facts.record_key,
        record_date=care_context.date,
        version=version,
        supersedes=current,
        title=facts.title,
        bundle=bundle,
        summary=summarize(bundle),
        bundle_sha256=facts.sha256,
        created_by=actor,
    )
    if version == 1 and patient is not None:  # dashboard counter, same transaction; amendments are not new records
        count_add(metric=CountMetric.RECORDS_LINKED, district_lgd=facility.district_id, facility_key=facility.pk)
    audit_record(
        actor=actor,
        action="records.add" if version == 1 else "records.amend",
        target=record,
        details={
            "facility": facility.facility_id,
            "care_context": care_context.reference,
            "hi_type": hi_type,
            "version": version,
            "linked": patient is not None,
        },
        request=request,
    )
    return record, True


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


class NotForStorage(NotAllowed):
    code = "view_only_consent"


@transaction.atomic
def artefact_records_read(
    *, actor, artefact_uuid, record_uuid=None, request=None, to_store: bool = False
) -> RecordRead:
    """The records an artefact covers, for the doctor who requested it; the read is audited.

    Queries: the artefact, the doctor's membership, the frequency count (only when limited),
    the records, the audit insert: a fixed number whatever the record count.
    Raises NotAllowed (not the requester), ConsentInactive (not granted, revoked, or past
    data_erase_at, checked now rather than trusting the beat task), FrequencyExceeded, and
    NotFound for a `record_uuid` the artefact does not cover.
    """
    artefact = (
        ConsentArtefact.objects.select_related("patient", "requester_facility", "source_facility")
        .filter(uuid=artefact_uuid)
        .first()
    )
    if artefact is None or not access.can(actor, "view", artefact):
        raise NotFound(_("Not found."))
    if (
        artefact.requester_id != actor.pk
        or not FacilityMembership.objects.filter(
            user=actor, facility_id=artefact.requester_facility_id, role=MembershipRole.DOCTOR
        ).exists()
    ):
        raise NotAllowed(_("Only the doctor who requested this consent can read its records."))
    now = timezone.now()
    if artefact.status != ArtefactStatus.GRANTED or artefact.data_erase_at <= now:
        raise ConsentInactive(_("This consent is not active (revoked, expired or not granted)."))
    if to_store and artefact.access_mode != AccessMode.STORE:
        # A downloaded copy outlives the consent: only a consent granted for storing allows one.
        raise NotForStorage(_("This consent allows viewing the records here, not downloading a copy."))
    if artefact.frequency_repeats:
        window = FREQUENCY_WINDOWS[artefact.frequency_unit] * artefact.frequency_value
        reads = AuditEvent.objects.filter(
            target_type="abha.abhaaccount",
            target_id=str(artefact.patient.uuid),
            action=selectors.READ_ACTION,
            details__artefact=str(artefact.uuid),
            at__gte=now - window,
        ).count()
        if reads >= artefact.frequency_repeats:
            raise FrequencyExceeded(_("This consent allows no more reads in this period."))
    records = selectors.records_for_artefact(artefact)
    if record_uuid is not None:
        records = records.filter(uuid=record_uuid)  # one record (the raw bundle download)
    records = list(records)
    if record_uuid is not None and not records:
        # A record the consent does not cover: nothing was read, so nothing is logged or counted against the limit.
        raise NotFound(_("Not found."))
    _audit_read(
        actor=actor,
        patient=artefact.patient,
        basis=AccessBasis.CONSENT,
        records=records,
        facility=artefact.requester_facility,
        request=request,
        extra={"artefact": str(artefact.uuid), "purpose": artefact.purpose},
    )
    return RecordRead(records=records, basis=AccessBasis.CONSENT, artefact=artefact)


@transaction.atomic
def facility_records_read(*, actor, patient: AbhaAccount, request=None) -> RecordRead:
    """The patient's records created by the facilities the actor works at; audited as access."""
    from facilities.access_rules import member_facility_ids

    facility_ids = member_facility_ids(actor)
    if not facility_ids:
        raise NotAllowed(_("You do not work at a facility."))
    records = list(selectors.records_at_facilities(patient_id=patient.pk, facility_ids=facility_ids))
    by_facility = {}
    for record in records:
        by_facility.setdefault(record.facility_id, (record.facility, []))[1].append(record)
    for facility, facility_records in by_facility.values():
        _audit_read(
            actor=actor,
            patient=patient,
            basis=AccessBasis.FACILITY,
            records=facility_records,
            facility=facility,
            request=request,
            extra={},
        )
    return RecordRead(records=records, basis=AccessBasis.FACILITY)


@transaction.atomic
def own_records_read(*, actor, request=None, offset: int = 0, limit: int | None = None) -> RecordRead:
    """A citizen's own records, newest first, optionally one page of them (`offset`, `limit`); audited with basis
    `self` (only the records returned), not listed in their access log."""
    account = getattr(actor, "abha", None) if actor.is_authenticated else None
    if account is None:
        raise NotAllowed(_("Only a citizen with an ABHA has records."))
    records = selectors.own_records(account)
    records = list(records[offset : offset + limit + 1] if limit is not None else records[offset:])
    has_more = limit is not None and len(records) > limit
    records = records[:limit] if limit is not None else records
    _audit_read(
        actor=actor,
        patient=account,
        basis=AccessBasis.SELF,
        records=records,
        facility=None,
        request=request,
        extra={},
    )
    return RecordRead(records=records, basis=AccessBasis.SELF, has_more=has_more)


# --- Consent requests --------------------------------------------------------------------


def _check_permission_fields(*, hi_types, date_from, date_to, data_erase_at, now) -> dict:
    errors = {}
    if not hi_types:
        errors["hi_types"] = [_("Choose at least one type of record.")]
    elif any(hi_type not in HiType.values for hi_type in hi_types) or len(set(hi_types)) != len(hi_types):
        errors["hi_types"] = [_("Choose types of record from the list, each once.")]
    if date_from and date_to and date_from > date_to:
        errors["date_to"] = [_("The end of the date range must not be before its start.")]
    if data_erase_at is not None and data_erase_at <= now:
        errors["data_erase_at"] = [_("The access end must be in the future.")]
    return errors


@transaction.atomic
def consent_request_create(
    *,
    actor,
    patient_identifier: str,
    purpose: str,
    hi_types: list[str],
    date_from: dt.date,
    date_to: dt.date,
    data_erase_at: dt.datetime,
    access_mode: str = AccessMode.VIEW,
    frequency_unit: str = FrequencyUnit.HOUR,
    frequency_value: int = 1,
    frequency_repeats: int = 0,
    facility: Facility | None = None,
    source_facility: Facility | None = None,
    request=None,
) -> ConsentRequest:
    """A doctor asks a patient for records. Validates as ABDM.md section 5; audited `consent.request`.

    The request expires unanswered after CONSENT_REQUEST_TTL_HOURS.
    """
    if actor.role != "doctor":
        raise NotAllowed(_("Only doctors request consent."))
    facility = doctor_facility(actor, facility)
    now = timezone.now()
    errors = _check_permission_fields(
        hi_types=hi_types, date_from=date_from, date_to=date_to, data_erase_at=data_erase_at, now=now
    )
    if purpose not in Purpose.values:
        errors["purpose"] = [_("Choose a purpose from the list.")]
    if access_mode not in AccessMode.values:
        errors["access_mode"] = [_("Choose an access mode from the list.")]
    if frequency_unit not in FrequencyUnit.values or not frequency_value or frequency_value <= 0:
        errors["frequency"] = [_("The frequency must be a unit from the list and a value above 0.")]
    if frequency_repeats is None or frequency_repeats < 0:
        errors["frequency"] = [_("Repeats must be 0 or more.")]
    patient = account_by_identifier(patient_identifier)
    if patient is None or not patient.is_active:
        errors["patient"] = [_("No active ABHA matches this address.")]
    if errors:
        raise DomainError(_("Some fields are not valid."), fields=errors)
    professional = Professional.objects.filter(user=actor, status=FacilityStatus.VERIFIED).first()
    consent_request = ConsentRequest.objects.create(
        patient=patient,
        patient_address=patient_identifier.strip(),
        requester=actor,
        requester_facility=facility,
        requester_hpr_id=(professional.hpr_id or "") if professional else "",
        source_facility=source_facility,
        purpose=purpose,
        hi_types=list(hi_types),
        date_from=date_from,
        date_to=date_to,
        data_erase_at=data_erase_at,
        access_mode=access_mode,
        frequency_unit=frequency_unit,
        frequency_value=frequency_value,
        frequency_repeats=frequency_repeats,
        expires_at=now + dt.timedelta(hours=settings.CONSENT_REQUEST_TTL_HOURS),
    )
    audit_record(
        actor=actor,
        action="consent.request",
        target=consent_request,
        details={"facility": facility.facility_id, "purpose": purpose, "hi_types": list(hi_types)},
        request=request,
    )
    return consent_request


def _locked_request_for_patient(actor, request_uuid) -> ConsentRequest:
    consent_request = (
        ConsentRequest.objects.select_for_update(of=("self",))
        .select_related("patient", "requester")
        .filter(uuid=request_uuid)
        .first()
    )
    if consent_request is None or not access.can(actor, "view", consent_request):
        raise NotFound(_("Not found."))
    if consent_request.patient.user_id != actor.pk:
        raise NotAllowed(_("Only the patient can answer a consent request."))
    if consent_request.status != ConsentStatus.REQUESTED:
        raise Conflict(_("This request has already been answered or has expired."))
    if consent_request.expires_at <= timezone.now():
        raise Conflict(_("This request has expired."), code="request_expired")
    return consent_request


@transaction.atomic
def consent_grant(
    *,
    actor,
    request_uuid,
    hi_types: list[str] | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    data_erase_at: dt.datetime | None = None,
    facility_ids: list[str] | None = None,
    request=None,
) -> tuple[ConsentRequest, list[ConsentArtefact]]:
    """The patient grants a pending request, perhaps narrower; one artefact per source facility.

    Narrowing only: hiTypes a subset, dates inside, end no later, facilities among those that
    hold the patient's records (or the request's source facility). Locks the request row:
    a second concurrent grant or deny waits, then gets Conflict. Notifies the requester.
    """
    consent_request = _locked_request_for_patient(actor, request_uuid)
    now = timezone.now()
    hi_types = list(hi_types) if hi_types else list(consent_request.hi_types)
    date_from = date_from or consent_request.date_from
    date_to = date_to or consent_request.date_to
    data_erase_at = data_erase_at or consent_request.data_erase_at
    errors = _check_permission_fields(
        hi_types=hi_types, date_from=date_from, date_to=date_to, data_erase_at=data_erase_at, now=now
    )
    if not errors.get("hi_types") and not set(hi_types) <= set(consent_request.hi_types):
        errors["hi_types"] = [_("You can only remove types of record, not add them.")]
    if date_from < consent_request.date_from:
        errors["date_from"] = [_("The date range can only be narrowed.")]
    if date_to > consent_request.date_to:
        errors["date_to"] = [_("The date range can only be narrowed.")]
    if data_erase_at > consent_request.data_erase_at:
        errors["data_erase_at"] = [_("Access can only end earlier than requested.")]
    if consent_request.source_facility_id:
        candidates = {consent_request.source_facility_id}
    else:
        candidates = set(selectors.facilities_holding_records(consent_request.patient_id, consent_request))
    candidate_facilities = {f.facility_id: f for f in Facility.objects.filter(pk__in=candidates)}
    if facility_ids:
        unknown = [fid for fid in facility_ids if fid not in candidate_facilities]
        if unknown:
            errors["facilities"] = [_("Choose among the facilities that hold your records.")]
        chosen = [candidate_facilities[fid] for fid in dict.fromkeys(facility_ids) if fid in candidate_facilities]
    else:
        chosen = list(candidate_facilities.values())
    if not chosen and "facilities" not in errors:
        errors["facilities"] = [_("No facility holds records to share.")]
    if errors:
        raise DomainError(_("Some fields are not valid."), fields=errors)
    artefacts = [
        ConsentArtefact.objects.create(
            request=consent_request,
            patient=consent_request.patient,
            requester=consent_request.requester,
            requester_facility_id=consent_request.requester_facility_id,
            source_facility=facility,
            purpose=consent_request.purpose,
            hi_types=hi_types,
            date_from=date_from,
            date_to=date_to,
            data_erase_at=data_erase_at,
            access_mode=consent_request.access_mode,
            frequency_unit=consent_request.frequency_unit,
            frequency_value=consent_request.frequency_value,
            frequency_repeats=consent_request.frequency_repeats,
        )
        for facility in sorted(chosen, key=lambda f: f.name)
    ]
    consent_request.status = ConsentStatus.GRANTED
    consent_request.responded_at = now
    consent_request.save(update_fields=["status", "responded_at", "updated_at"])
    audit_record(
        actor=actor,
        action="consent.grant",
        target=consent_request,
        details={
            "hi_types": hi_types,
            "date_from": date_from.isoformat(),
            "date_to": date_to.isoformat(),
            "data_erase_at": data_erase_at.isoformat(),
            "artefacts": [str(a.uuid) for a in artefacts],
        },
        request=request,
    )
    _notify(consent_request, ConsentStatus.GRANTED)
    return consent_request, artefacts


@transaction.atomic
def consent_deny(*, actor, request_uuid, request=None) -> ConsentRequest:
    """The patient refuses a pending request (same locking as grant); notifies the requester."""
    consent_request = _locked_request_for_patient(actor, request_uuid)
    consent_request.status = ConsentStatus.DENIED
    consent_request.responded_at = timezone.now()
    consent_request.save(update_fields=["status", "responded_at", "updated_at"])
    audit_record(actor=actor, action="consent.deny", target=consent_request, request=request)
    _notify(consent_request, ConsentStatus.DENIED)
    return consent_request


@transaction.atomic
def artefact_revoke(*, actor, artefact_uuid, request=None) -> ConsentArtefact:
    """The patient ends a granted artefact now; reads stop at once. Conflict unless GRANTED."""
    artefact = (
        ConsentArtefact.objects.select_for_update(of=("self",))
        .select_related("patient", "request__requester")
        .filter(uuid=artefact_uuid)
        .first()
    )
    if artefact is None or not access.can(actor, "view", artefact):
        raise NotFound(_("Not found."))
    if artefact.patient.user_id != actor.pk:
        raise NotAllowed(_("Only the patient can revoke a consent."))
    if artefact.status != ArtefactStatus.GRANTED:
        raise Conflict(_("Only a granted consent can be revoked."))
    artefact.status = ArtefactStatus.REVOKED
    artefact.revoked_at = timezone.now()
    artefact.save(update_fields=["status", "revoked_at", "updated_at"])
    audit_record(actor=actor, action="consent.revoke", target=artefact, request=request)
    _notify(artefact.request, ArtefactStatus.REVOKED)
    return artefact


@transaction.atomic
def consents_expire(*, now: dt.datetime | None = None) -> dict:
    """Flip unanswered requests past `expires_at` and artefacts past `data_erase_at` to EXPIRED.

    Conditional UPDATEs on the rows still in the old state, so a grant or revoke racing with
    this keeps its own outcome. Audits each change as the system. Idempotent.
    """
    now = now or timezone.now()
    request_ids = list(
        ConsentRequest.objects.pending()
        .filter(expires_at__lte=now)
        .select_for_update(skip_locked=True)
        .values_list("pk", flat=True)
    )
    ConsentRequest.objects.filter(pk__in=request_ids, status=ConsentStatus.REQUESTED).update(
        status=ConsentStatus.EXPIRED, updated_at=now
    )
    artefact_ids = list(
        ConsentArtefact.objects.filter(status=ArtefactStatus.GRANTED, data_erase_at__lte=now)
        .select_for_update(skip_locked=True)
        .values_list("pk", flat=True)
    )
    ConsentArtefact.objects.filter(pk__in=artefact_ids, status=ArtefactStatus.GRANTED).update(
        status=ArtefactStatus.EXPIRED, updated_at=now
    )
    for consent_request in ConsentRequest.objects.filter(pk__in=request_ids).select_related("requester"):
        audit_record(actor=None, action="consent.expire", target=consent_request)
        _notify(consent_request, ConsentStatus.EXPIRED)
    for artefact in ConsentArtefact.objects.filter(pk__in=artefact_ids).select_related("request__requester"):
        audit_record(actor=None, action="consent.artefact_expire", target=artefact)
        _notify(artefact.request, ArtefactStatus.EXPIRED)
    return {"requests": len(request_ids), "artefacts": len(artefact_ids)}


# --- Break the glass ---------------------------------------------------------------------


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


# --- Patient-initiated linking -----------------------------------------------------------

LINK_OTP_MINUTES = 10
LINK_OTP_ATTEMPTS = 5


def normal_name(value: str) -> str:
    """Names compared for matching: lower case, dots as spaces, single spaces."""
    return " ".join(value.lower().replace(".", " ").split())


def _match(account: AbhaAccount, care_context: CareContext) -> str:
    names = {normal_name(account.full_name), normal_name(f"{account.first_name} {account.last_name}")}
    return LinkMatch.STRONG if normal_name(care_context.patient_name) in names else LinkMatch.WEAK


def link_candidates(account: AbhaAccount, facility: Facility) -> list[tuple[CareContext, str]]:
    """The facility's unlinked visits whose mobile, gender and year of birth match the account,
    each with its match strength (strong when the name matches too). One query."""
    care_contexts = CareContext.objects.filter(
        facility=facility,
        patient__isnull=True,
        patient_mobile=account.mobile,
        patient_gender=account.gender,
        patient_year_of_birth=account.year_of_birth,
    ).order_by("-date", "-id")
    return [(care_context, _match(account, care_context)) for care_context in care_contexts]


LINK_OTPS_PER_HOUR = 5


def _link_throttle(account: AbhaAccount) -> None:
    """At most LINK_OTPS_PER_HOUR linking OTPs per account per hour (a fixed window in the cache)."""
    otp_throttle(f"records:link-otp:{account.pk}", rate=f"{LINK_OTPS_PER_HOUR}/hour")


def _link_subject(link: LinkRequest) -> str:
    """What a linking OTP's digest is bound to (`link:` keeps it apart from ABHA OTP transactions)."""
    return f"link:{link.uuid}"


@transaction.atomic
def link_start(*, actor, facility: Facility, care_context_uuids: list, request=None) -> LinkRequest:
    """The citizen claims some of the facility's unlinked visits; an OTP goes to their ABHA mobile.

    Only visits that match the account's demographics can be claimed (others: DomainError).
    """
    account = getattr(actor, "abha", None) if actor.is_authenticated else None
    if account is None or not account.is_active:
        raise NotAllowed(_("Only a citizen with an active ABHA links records."))
    candidates = {str(cc.uuid): (cc, match) for cc, match in link_candidates(account, facility)}
    chosen = [candidates.get(str(uuid)) for uuid in dict.fromkeys(care_context_uuids or [])]
    if not chosen or None in chosen:
        raise DomainError(
            _("Choose visits found for you at this facility."),
            fields={"care_contexts": [_("Choose visits from the list.")]},
        )
    match = LinkMatch.STRONG if all(m == LinkMatch.STRONG for _cc, m in chosen) else LinkMatch.WEAK
    _link_throttle(account)
    link = LinkRequest(
        patient=account,
        facility=facility,
        match=match,
        otp_expires_at=timezone.now() + dt.timedelta(minutes=LINK_OTP_MINUTES),
    )
    otp, link.otp_hash = otp_issue(_link_subject(link))
    link.save()
    link.care_contexts.set([cc for cc, _m in chosen])
    audit_record(
        actor=actor,
        action="records.link_start",
        target=link,
        details={"facility": facility.facility_id, "match": match},
    )
    text = _("%(otp)s is your OTP to link your health records. Do not share it with anyone.") % {"otp": otp}
    send_on_commit(to=account.mobile, text=text)
    return link


def _link(link: LinkRequest) -> int:
    """Give the claimed visits and their records to the patient; only visits still unlinked (race-safe)."""
    ids = list(link.care_contexts.values_list("pk", flat=True))
    linked = CareContext.objects.filter(pk__in=ids, patient__isnull=True).update(patient=link.patient)
    if linked != len(ids):
        raise Conflict(_("Some of these visits were linked to someone else meanwhile."), code="already_linked")
    newly_linked = HealthRecord.objects.filter(care_context_id__in=ids, patient__isnull=True)
    first_versions = newly_linked.filter(version=1).count()
    newly_linked.update(patient=link.patient)
    if first_versions:
        count_add(
            metric=CountMetric.RECORDS_LINKED,
            district_lgd=link.facility.district_id,
            facility_key=link.facility_id,
            delta=first_versions,
        )
    return linked


@transaction.atomic
def link_confirm(*, actor, link_uuid, otp: str, request=None) -> LinkRequest:
    """Check the OTP: a strong match is linked at once, a weak one waits for the facility's review."""
    link = LinkRequest.objects.select_for_update().select_related("patient").filter(uuid=link_uuid).first()
    if link is None or link.patient.user_id != actor.pk:
        raise NotFound(_("Not found."))
    if link.status != LinkStatus.OTP_SENT:
        raise Conflict(_("This link request is already complete."))
    if link.otp_expires_at <= timezone.now():
        raise Conflict(_("The OTP has expired. Please start again."), code="otp_expired")
    if not otp_matches(_link_subject(link), otp, link.otp_hash):
        link.failed_attempts += 1
        if link.failed_attempts >= LINK_OTP_ATTEMPTS:
            link.status = LinkStatus.FAILED
        # Raising rolls this transaction back; link_confirm_counted stores the count after it.
        raise _WrongOtp(link)
    if link.match == LinkMatch.STRONG:
        count = _link(link)
        link.status = LinkStatus.LINKED
        details = {"care_contexts": count}
    else:
        link.status = LinkStatus.NEEDS_REVIEW
        details = {}
    link.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action=f"records.link_{link.status}", target=link, details=details, request=request)
    return link


class _WrongOtp(Exception):
    def __init__(self, link):
        self.link = link


def link_confirm_counted(*, actor, link_uuid, otp: str, request=None) -> LinkRequest:
    """link_confirm, keeping the failed-attempt count when the OTP is wrong (then DomainError)."""
    try:
        return link_confirm(actor=actor, link_uuid=link_uuid, otp=otp, request=request)
    except _WrongOtp as wrong:
        LinkRequest.objects.filter(pk=wrong.link.pk).update(
            failed_attempts=wrong.link.failed_attempts, status=wrong.link.status
        )
        raise DomainError(_("The OTP is not correct."), code="otp_wrong", fields={"otp": [_("Wrong OTP.")]}) from None


@transaction.atomic
def link_review(*, actor, link_uuid, approve: bool, request=None) -> LinkRequest:
    """Facility staff decide a weak match: link it, or refuse it (nothing is linked)."""
    link = LinkRequest.objects.select_for_update(of=("self",)).select_related("patient").filter(uuid=link_uuid).first()
    if link is None or not access.can(actor, "view", link):
        raise NotFound(_("Not found."))
    if not access.can(actor, "review", link):
        raise NotAllowed(_("Only the facility's staff review links."))
    if link.status != LinkStatus.NEEDS_REVIEW:
        raise Conflict(_("This link request is not waiting for review."))
    if approve:
        _link(link)
        link.status = LinkStatus.LINKED
    else:
        link.status = LinkStatus.REJECTED
    link.decided_by = actor
    link.decided_at = timezone.now()
    link.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    audit_record(actor=actor, action=f"records.link_review_{link.status}", target=link, request=request)
    return link
