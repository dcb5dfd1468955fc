"""Records: adding a FHIR bundle, and every read of them (under a consent, at the actor's facilities, a citizen's
own), each read audited in the same transaction."""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from abha.models import AbhaAccount
from core import access
from core.counters import count_add
from core.enums import CountMetric
from core.exceptions import Conflict, DomainError, NotAllowed, NotFound
from core.models import AuditEvent
from core.services import audit_record
from facilities.enums import FacilityStatus
from facilities.models import Facility

from .. import selectors
from ..enums import AccessBasis, AccessMode, ArtefactStatus, FrequencyUnit, HiType
from ..fhir import BundleError, summarize, validate_bundle
from ..models import CareContext, ConsentArtefact, HealthRecord
from .common import ConsentInactive, RecordRead, _audit_read, doctor_still_acts_for

FREQUENCY_WINDOWS = {
    FrequencyUnit.HOUR: dt.timedelta(hours=1),
    FrequencyUnit.DAY: dt.timedelta(days=1),
    FrequencyUnit.WEEK: dt.timedelta(weeks=1),
    FrequencyUnit.MONTH: dt.timedelta(days=30),
    FrequencyUnit.YEAR: dt.timedelta(days=365),
}


class FrequencyExceeded(DomainError):
    status = 429
    code = "frequency_exceeded"


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
    if not (len(mobile) == 10 and mobile.isdecimal() and mobile[0] in "6789"):
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
        facts = validate_bundle(bundle, hi_type, patient=patient)
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
    if patient is not None:  # linked on ABDM too, through the outbox, committed with the record (once per visit)
        from ..abdm_linking import links_add

        links_add(care_context_ids=[care_context.pk])
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
    if artefact.requester_id != actor.pk:
        raise NotAllowed(_("Only the doctor who requested this consent can read its records."))
    doctor_still_acts_for(actor, artefact.requester_facility)  # a doctor of a verified facility now
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
