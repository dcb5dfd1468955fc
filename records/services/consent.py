"""Consent requests and artefacts: request, grant (narrower only), deny, revoke, expire; the requester is told.

Consent state changes lock the row (SELECT ... FOR UPDATE) and check its state, so of two concurrent grants one
wins and the other gets Conflict (409)."""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from abha.selectors import account_by_identifier
from core import access
from core.exceptions import Conflict, DomainError, NotAllowed, NotFound
from core.services import audit_record
from core.sms import send_on_commit
from facilities.enums import FacilityStatus
from facilities.models import Facility, Professional

from .. import selectors
from ..enums import AccessMode, ArtefactStatus, ConsentStatus, FrequencyUnit, HiType, Purpose
from ..models import ConsentArtefact, ConsentRequest, Notification
from .common import doctor_facility


def _notify(consent_request: ConsentRequest, event: str) -> None:
    """In-app notification now, SMS after commit (if the requester has a mobile)."""
    Notification.objects.create(user=consent_request.requester, consent_request=consent_request, event=event)
    mobile = consent_request.requester.mobile
    if mobile:
        text = _("ABDM portal: consent request %(ref)s for %(patient)s is now %(status)s.") % {
            "ref": str(consent_request.uuid)[:8],
            "patient": consent_request.patient_address or _("a deleted ABHA"),
            "status": event,
        }
        send_on_commit(to=mobile, text=text)


def _tell_patient(consent_request: ConsentRequest) -> None:
    """SMS to the patient after commit, in the account's language (else the request's): a request unseen expires."""
    patient = consent_request.patient
    with translation.override(patient.language or translation.get_language()):
        text = _(
            "ABDM portal: %(facility)s asks to see your health records. Answer within %(hours)s hours: %(url)s"
        ) % {
            "facility": consent_request.requester_facility.name,
            "hours": settings.CONSENT_REQUEST_TTL_HOURS,
            "url": settings.PORTAL_BASE_URL.rstrip("/") + reverse("records:citizen_consents"),
        }
    send_on_commit(to=patient.mobile, text=text)


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
    """A doctor asks a patient for records. Validates as ABDM.md section 5; audited `consent.request`; the patient
    gets an SMS after commit, in their language.

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
    _tell_patient(consent_request)
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
    if not consent_request.patient.is_active:
        raise Conflict(_("Reactivate your ABHA to answer consent requests."), code="abha_inactive")
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
    """The patient ends a granted (or suspended) artefact now; reads stop at once. Conflict otherwise."""
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
    if artefact.status not in (ArtefactStatus.GRANTED, ArtefactStatus.SUSPENDED):
        raise Conflict(_("Only a granted consent can be revoked."))
    artefact.status = ArtefactStatus.REVOKED
    artefact.revoked_at = timezone.now()
    artefact.save(update_fields=["status", "revoked_at", "updated_at"])
    audit_record(actor=actor, action="consent.revoke", target=artefact, request=request)
    _notify(artefact.request, ArtefactStatus.REVOKED)
    return artefact


@transaction.atomic
def consents_expire(*, now: dt.datetime | None = None) -> dict:
    """Flip unanswered requests past `expires_at` and artefacts (granted or suspended) past `data_erase_at` to
    EXPIRED.

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
    open_states = [ArtefactStatus.GRANTED, ArtefactStatus.SUSPENDED]
    artefact_ids = list(
        ConsentArtefact.objects.filter(status__in=open_states, data_erase_at__lte=now)
        .select_for_update(skip_locked=True)
        .values_list("pk", flat=True)
    )
    ConsentArtefact.objects.filter(pk__in=artefact_ids, status__in=open_states).update(
        status=ArtefactStatus.EXPIRED, updated_at=now
    )
    for consent_request in ConsentRequest.objects.filter(pk__in=request_ids).select_related("requester"):
        audit_record(actor=None, action="consent.expire", target=consent_request)
        _notify(consent_request, ConsentStatus.EXPIRED)
    for artefact in ConsentArtefact.objects.filter(pk__in=artefact_ids).select_related("request__requester"):
        audit_record(actor=None, action="consent.artefact_expire", target=artefact)
        _notify(artefact.request, ArtefactStatus.EXPIRED)
    return {"requests": len(request_ids), "artefacts": len(artefact_ids)}


@transaction.atomic
def consents_follow_account(*, account, event: str, actor=None, request=None) -> dict:
    """What the patient's ABHA change means for their consents (registered with abha's `on_account_change`, run in
    the account change's transaction). Each changed artefact is audited and its requester told.

    - "deactivate": granted artefacts become SUSPENDED (reads refuse at once: only GRANTED opens records).
    - "reactivate": suspended artefacts are GRANTED again while `data_erase_at` is ahead, else EXPIRED.
    - "delete": granted and suspended artefacts are REVOKED, unanswered requests EXPIRED, and the patient's ABHA
      address copied into every one of their requests is erased (the rows keep the fact: who asked, when, what,
      the answer; the patient only as the deleted account's tombstone).

    Queries: the artefacts and requests locked, one UPDATE each, an audit row and a notification per change.
    """
    now = timezone.now()
    if event == "deactivate":
        moves = {ArtefactStatus.GRANTED: ArtefactStatus.SUSPENDED}
    elif event == "reactivate":
        moves = {ArtefactStatus.SUSPENDED: None}  # GRANTED or EXPIRED, by data_erase_at
    elif event == "delete":
        moves = {ArtefactStatus.GRANTED: ArtefactStatus.REVOKED, ArtefactStatus.SUSPENDED: ArtefactStatus.REVOKED}
    else:
        return {"artefacts": 0, "requests": 0}
    artefacts = list(
        ConsentArtefact.objects.select_for_update(of=("self",))
        .select_related("request__requester")
        .filter(patient=account, status__in=list(moves))
        .order_by("pk")
    )
    for artefact in artefacts:
        new_status = moves[artefact.status]
        if new_status is None:
            new_status = ArtefactStatus.GRANTED if artefact.data_erase_at > now else ArtefactStatus.EXPIRED
        old_status, artefact.status = artefact.status, new_status
        fields = ["status", "updated_at"]
        if new_status == ArtefactStatus.REVOKED:
            artefact.revoked_at = now
            fields.append("revoked_at")
        artefact.save(update_fields=fields)
        audit_record(
            actor=actor,
            action=f"consent.{ARTEFACT_ACTIONS[new_status]}",
            target=artefact,
            details={"from": old_status, "abha": event},
            request=request,
        )
    requests = []
    if event == "delete":
        requests = list(
            ConsentRequest.objects.select_for_update(of=("self",))
            .select_related("requester")
            .filter(patient=account)
            .order_by("pk")
        )
        for consent_request in requests:
            consent_request.patient_address = ""
            fields = ["patient_address", "updated_at"]
            if consent_request.status == ConsentStatus.REQUESTED:
                consent_request.status = ConsentStatus.EXPIRED
                fields.append("status")
                audit_record(
                    actor=actor,
                    action="consent.expire",
                    target=consent_request,
                    details={"abha": event},
                    request=request,
                )
                _notify(consent_request, ConsentStatus.EXPIRED)
            consent_request.save(update_fields=fields)
    for artefact in artefacts:
        if event == "delete":
            artefact.request.patient_address = ""  # the SMS to the requester names no erased address
        _notify(artefact.request, artefact.status)
    return {"artefacts": len(artefacts), "requests": len(requests)}


# The audit action of each status a patient's ABHA change moves an artefact to.
ARTEFACT_ACTIONS = {
    ArtefactStatus.SUSPENDED: "suspend",
    ArtefactStatus.GRANTED: "resume",
    ArtefactStatus.EXPIRED: "artefact_expire",
    ArtefactStatus.REVOKED: "revoke",
}
