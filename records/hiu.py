"""The portal's doctors as HIU users on ABDM (issue 18): consent requests through ABDM's consent manager, artefacts
fetched and kept, the encrypted data pull, and erasure at dataEraseAt or revocation. Bodies and paths:
abdm/consent.py (hiecm-m3.yaml).

1. `consent_request_create`: the doctor's request is stored (QUEUED) and its init goes through the outbox; the
   on-init (outbox on_success) gives ABDM's consent request ID (REQUESTED) or ABDM's error (FAILED). While ABDM is
   down the message waits in the outbox and the doctor's list shows its state.
2. `notify` (webhook /api/v3/hiu/consent/request/notify): for a request we made (else refused 400, audited, nothing
   changed): GRANTED stores one artefact per ID and fetches each (consent fetch -> on-fetch); DENIED / EXPIRED move
   the request; REVOKED / EXPIRED with artefacts end them and erase their received records at once. Acknowledged on
   hiu/on-notify through the outbox.
3. `_on_fetch`: the artefact with every field of consentDetail and the signature; a granted one starts the data pull:
   a fresh Fidelius key pair and nonce per request (the private key sealed at rest, erased when the transfer ends),
   the health-information request -> on-request gives the transaction ID.
4. `data_push` (the dataPushUrl, POST /records/hiu/data-push/): under the HIP's ABDM session token (401 without),
   for a known transaction whose artefact is readable,
   each entry is decrypted with that transfer's key, checked (FHIR R4 document bundle by records.fhir, NRCES
   profile, the Patient carrying the consent's ABHA address) and stored; refusals are audited and store nothing. At
   the last page the key is erased and the HIU's transfer notification (RECEIVED / FAILED) goes through the outbox.
5. Reads (`artefact_read`) check at read time: the doctor is the requester and still a doctor of a verified facility,
   the artefact GRANTED and before dataEraseAt. `erase_due` (beat, records.expire_consents) empties the copies.
"""

import datetime as dt
import json
import logging
import re
import uuid

import jwt
from django.conf import settings
from django.db import transaction
from django.http import JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from abdm import callbacks, client, fidelius, outbox
from abdm import consent as m3
from abha import tokens
from abha.selectors import account_by_identifier
from core.exceptions import DomainError, NotAllowed, NotFound
from core.services import audit_record
from facilities.enums import FacilityStatus
from facilities.models import Professional

from . import fhir, selectors
from .enums import (
    NRCES_PROFILE_BASE,
    AccessMode,
    FrequencyUnit,
    HiType,
    HiuArtefactStatus,
    HiuRequestStatus,
    HiuTransferStatus,
    Purpose,
)
from .models import HiuArtefact, HiuConsentRequest, HiuRecord, HiuTransfer
from .services.common import ConsentInactive, doctor_facility, doctor_still_acts_for

log = logging.getLogger("records.hiu")

REFUSED_ACTION = "records.hiu_refused"
KEY_HOURS = 1  # the HIU's public key expiry in the health-information request
ADDRESS_SHAPE = r"^[a-zA-Z0-9][a-zA-Z0-9_.\-!]+[a-zA-Z0-9]@(abdm|sbx)$"


def register() -> None:
    """From RecordsConfig.ready(): the HIU webhooks and the outbox kinds of the M3 calls."""
    callbacks.register_callback(m3.ON_INIT_WEBHOOK)  # answers an init: the outbox runs _on_init
    callbacks.register_callback(m3.ON_STATUS_WEBHOOK)
    callbacks.register_callback(m3.ON_FETCH_WEBHOOK)
    callbacks.register_callback(m3.HI_ON_REQUEST_WEBHOOK)
    callbacks.register_callback(m3.NOTIFY_WEBHOOK, notify)
    outbox.register_handler(m3.INIT_KIND, on_success=_on_init, on_failure=_init_failed)
    outbox.register_handler(m3.STATUS_KIND, on_success=_on_status)
    outbox.register_handler(m3.FETCH_KIND, on_success=_on_fetch)
    outbox.register_handler(m3.HI_REQUEST_KIND, on_success=_on_hi_request, on_failure=_hi_request_failed)


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _time(value) -> dt.datetime | None:
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, dt.UTC)
    return parsed


def _day(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _header(headers: dict, name: str) -> str:
    wanted = name.lower()
    return next((str(v).strip() for k, v in (headers or {}).items() if k.lower() == wanted), "")


def _refuse(reason: str, details: dict | None = None, request=None) -> None:
    log.warning("HIU refusal: %s", reason)
    audit_record(actor=None, action=REFUSED_ACTION, details={"reason": reason, **(details or {})}, request=request)


# --- 1. Consent requests ---------------------------------------------------------------------------------------


def _requester_identifier(actor) -> tuple[str, str, str, str]:
    """(name, value, type, system) of the doctor as ABDM's requester: their HPR ID when verified."""
    professional = Professional.objects.filter(user=actor, status=FacilityStatus.VERIFIED).first()
    name = (actor.get_full_name() or actor.get_username() or "Doctor")[:200]
    if professional is not None and professional.hpr_id:
        return name, professional.hpr_id, "HPR", "https://hpr.abdm.gov.in"
    return name, f"portal-{actor.pk}", "REGNO", settings.PORTAL_BASE_URL.rstrip("/")


@transaction.atomic
def consent_request_create(
    *,
    actor,
    patient_address: str,
    purpose: str,
    hi_types: list[str],
    date_from: dt.datetime,
    date_to: dt.datetime,
    data_erase_at: dt.datetime,
    access_mode: str = AccessMode.VIEW,
    frequency_unit: str = FrequencyUnit.HOUR,
    frequency_value: int = 1,
    frequency_repeats: int = 0,
    hip_id: str = "",
    hip_name: str = "",
    care_contexts: list[dict] | None = None,
    facility=None,
    emergency_reason: str = "",
    request=None,
) -> HiuConsentRequest:
    """A doctor's consent request to ABDM (validated as ABDM.md section 5), sent through the outbox."""
    if actor.role != "doctor":
        raise NotAllowed(_("Only doctors request consent."))
    facility = doctor_facility(actor, facility)
    now = timezone.now()
    errors = {}
    address = (patient_address or "").strip().lower()
    if not re.fullmatch(ADDRESS_SHAPE, address):
        errors["patient"] = [_("Enter the patient's ABHA address (name@abdm or name@sbx).")]
    if purpose not in Purpose.values:
        errors["purpose"] = [_("Choose a purpose from the list.")]
    if not hi_types or any(t not in HiType.values for t in hi_types) or len(set(hi_types)) != len(hi_types):
        errors["hi_types"] = [_("Choose types of record from the list, each once.")]
    if date_from and date_to and date_from > date_to:
        errors["date_to"] = [_("The end of the date range must not be before its start.")]
    if date_from and date_from > now + dt.timedelta(minutes=5):
        errors["date_from"] = [_("The date range must start today or earlier.")]
    if data_erase_at is None or data_erase_at <= now:
        errors["data_erase_at"] = [_("The access end must be in the future.")]
    if access_mode not in AccessMode.values:
        errors["access_mode"] = [_("Choose an access mode from the list.")]
    if frequency_unit not in FrequencyUnit.values or not frequency_value or frequency_value <= 0:
        errors["frequency"] = [_("The frequency must be a unit from the list and a value above 0.")]
    elif frequency_repeats is None or frequency_repeats < 0:
        errors["frequency"] = [_("Repeats must be 0 or more.")]
    if hip_id and not re.fullmatch(r"^[A-Za-z0-9]+[A-Za-z0-9_\-]*[A-Za-z0-9]$", hip_id):
        errors["hip_id"] = [_("Enter the facility's ABDM ID as given (letters, digits, - and _).")]
    if care_contexts and (
        not hip_id
        or not all(
            isinstance(c, dict) and c.get("patientReference") and c.get("careContextReference") for c in care_contexts
        )
    ):
        errors["care_contexts"] = [_("Care contexts need the facility they are at and both references.")]
    if errors:
        raise DomainError(_("Some fields are not valid."), fields=errors)
    name, value, id_type, system = _requester_identifier(actor)
    consent_request = HiuConsentRequest.objects.create(
        requester=actor,
        facility=facility,
        patient_address=address,
        requester_name=name,
        requester_hpr_id=value if id_type == "HPR" else "",
        purpose=purpose,
        hi_types=list(hi_types),
        date_from=date_from,
        date_to=date_to,
        data_erase_at=data_erase_at,
        access_mode=access_mode,
        frequency_unit=frequency_unit,
        frequency_value=frequency_value,
        frequency_repeats=frequency_repeats or 0,
        hip_id=hip_id,
        hip_name=hip_name,
        emergency_reason=emergency_reason,
        init_request_id=uuid.uuid4(),
    )
    body = m3.init_body(
        purpose=purpose,
        patient_address=address,
        hiu_id=facility.facility_id,
        hiu_name=facility.name,
        requester_name=name,
        requester_id=value,
        requester_id_type=id_type,
        requester_system=system,
        hi_types=hi_types,
        access_mode=access_mode,
        date_from=date_from,
        date_to=date_to,
        data_erase_at=data_erase_at,
        frequency={"unit": frequency_unit, "value": frequency_value, "repeats": frequency_repeats or 0},
        hip_id=hip_id,
        hip_name=hip_name,
        care_contexts=[
            {"patientReference": c["patientReference"], "careContextReference": c["careContextReference"]}
            for c in care_contexts or []
        ],
    )
    message = outbox.enqueue(
        kind=m3.INIT_KIND,
        method="POST",
        path=m3.INIT_PATH,
        json=body,
        subject=consent_request,
        awaits_callback=True,
    )
    consent_request.init_request_id = message.request_id
    consent_request.save(update_fields=["init_request_id"])
    audit_record(
        actor=actor,
        action="records.hiu_consent_request",
        target=consent_request,
        details={"facility": facility.facility_id, "purpose": purpose, "hi_types": list(hi_types), "hip": hip_id},
        request=request,
    )
    return consent_request


def _request_for_message(message) -> HiuConsentRequest | None:
    return HiuConsentRequest.objects.select_for_update().filter(init_request_id=message.request_id).first()


def _on_init(message, body) -> None:
    consent_request = _request_for_message(message)
    if consent_request is None:
        return
    body = _dict(body)
    error = _dict(body.get("error"))
    found = _uuid(_dict(body.get("consentRequest")).get("id"))
    if error or found is None:
        consent_request.status = HiuRequestStatus.FAILED
        consent_request.error = f"{error.get('code', '')} {error.get('message', '')}".strip()[:300] or "no ID"
    else:
        consent_request.consent_request_id = found
        if consent_request.status == HiuRequestStatus.QUEUED:
            consent_request.status = HiuRequestStatus.REQUESTED
    consent_request.save(update_fields=["status", "error", "consent_request_id", "updated_at"])


def _init_failed(message) -> None:
    consent_request = _request_for_message(message)
    if consent_request is not None and consent_request.status == HiuRequestStatus.QUEUED:
        consent_request.status = HiuRequestStatus.FAILED
        consent_request.error = (message.failure_reason or _("ABDM refused the request."))[:300]
        consent_request.save(update_fields=["status", "error", "updated_at"])


def consent_status_ask(*, consent_request: HiuConsentRequest, actor=None, request=None) -> None:
    """Ask ABDM for the request's status (on-status answers; `_on_status` applies it)."""
    if consent_request.consent_request_id is None:
        raise DomainError(_("ABDM has not given this request an ID yet."))
    audit_record(actor=actor, action="records.hiu_consent_status", target=consent_request, request=request)
    outbox.enqueue(
        kind=m3.STATUS_KIND,
        method="POST",
        path=m3.STATUS_PATH,
        json=m3.status_body(consent_request.consent_request_id),
        subject=consent_request,
        hiu_id=consent_request.facility.facility_id,
        awaits_callback=True,
    )


def _on_status(message, body) -> None:
    found = _dict(_dict(body).get("consentRequest"))
    consent_request = (
        HiuConsentRequest.objects.select_for_update()
        .filter(consent_request_id=_uuid(found.get("id")) or uuid.UUID(int=0))
        .first()
    )
    if consent_request is None:
        return
    status = found.get("status")
    if status in HiuRequestStatus.values and status != consent_request.status:
        consent_request.status = status
        consent_request.save(update_fields=["status", "updated_at"])
    if status == HiuRequestStatus.GRANTED:
        for item in found.get("consentArtefacts") or []:
            artefact_id = _uuid(_dict(item).get("id"))
            if artefact_id is not None:
                _artefact_granted(consent_request, artefact_id)


# --- 2. Notifications --------------------------------------------------------------------------------------------


def _artefact_granted(consent_request: HiuConsentRequest, artefact_id: uuid.UUID) -> HiuArtefact:
    artefact, created = HiuArtefact.objects.get_or_create(
        artefact_id=artefact_id,
        defaults={
            "consent_request": consent_request,
            "data_erase_at": consent_request.data_erase_at,
            "patient_address": consent_request.patient_address,
        },
    )
    if artefact.consent_request_id != consent_request.pk:
        raise DomainError("The artefact belongs to another consent request.", code="bad_body")
    if created:
        outbox.enqueue(
            kind=m3.FETCH_KIND,
            method="POST",
            path=m3.FETCH_PATH,
            json=m3.fetch_body(artefact_id),
            subject=artefact,
            hiu_id=consent_request.facility.facility_id,
            awaits_callback=True,
        )
    return artefact


def _erase(artefacts, now) -> int:
    """Empty the received copies of these artefacts and their transfers' keys (reads already refuse)."""
    ids = [a.pk for a in artefacts]
    count = HiuRecord.objects.filter(artefact_id__in=ids, erased_at__isnull=True).update(
        bundle=None, summary={}, erased_at=now, updated_at=now
    )
    HiuTransfer.objects.filter(artefact_id__in=ids, key_erased_at__isnull=True).update(
        sealed_private_key="", key_erased_at=now, updated_at=now
    )
    HiuArtefact.objects.filter(pk__in=ids, erased_at__isnull=True).update(erased_at=now, updated_at=now)
    return count


def notify(request_id: str, body: dict, headers: dict) -> None:
    """ABDM's consent notification for one of our requests; refused (400, audited, nothing changed) otherwise."""
    notification = _dict(body.get("notification"))
    status = notification.get("status")
    request_uuid = _uuid(notification.get("consentRequestId"))
    consent_request = (
        HiuConsentRequest.objects.select_for_update()
        .select_related("facility")
        .filter(consent_request_id=request_uuid)
        .first()
        if request_uuid
        else None
    )
    if consent_request is None:
        _refuse("notification for a consent request the portal never made", {"request_id": request_id[:100]})
        raise DomainError("Invalid consentRequestId: no consent request of this HIU", code="unknown_request")
    hiu_header = _header(headers, "X-HIU-ID")
    if hiu_header and hiu_header != consent_request.facility.facility_id:
        _refuse("notification for another HIU", {"request_id": request_id[:100]})
        raise DomainError("Invalid X-HIU-ID", code="other_hiu")
    if status not in ("GRANTED", "DENIED", "EXPIRED", "REVOKED", "REQUESTED"):
        raise DomainError("notification.status is not one of ABDM's", code="bad_body")
    artefact_ids = [_uuid(_dict(item).get("id")) for item in notification.get("consentArtefacts") or []]
    if any(value is None for value in artefact_ids):
        raise DomainError("consentArtefacts[].id must be UUIDs", code="bad_body")
    now = timezone.now()
    fields = ["status", "updated_at"]
    if status == "GRANTED":
        consent_request.status = HiuRequestStatus.GRANTED
        for artefact_id in artefact_ids:
            _artefact_granted(consent_request, artefact_id)
    elif status in ("REVOKED", "EXPIRED") and artefact_ids:
        artefacts = list(
            HiuArtefact.objects.select_for_update().filter(
                consent_request=consent_request, artefact_id__in=artefact_ids
            )
        )
        if len(artefacts) != len(set(artefact_ids)):
            _refuse("notification names artefacts of another request", {"request_id": request_id[:100]})
            raise DomainError("Invalid consentArtefacts for this consent request", code="unknown_artefact")
        for artefact in artefacts:
            artefact.status = status
            if status == "REVOKED":
                artefact.revoked_at = now
            artefact.save(update_fields=["status", "revoked_at", "updated_at"])
        _erase(artefacts, now)
        if not consent_request.artefacts.filter(status=HiuArtefactStatus.GRANTED).exists():
            consent_request.status = status
    elif status in ("DENIED", "EXPIRED"):
        consent_request.status = status
        consent_request.reason = str(notification.get("reason") or "")[:300]
        fields.append("reason")
    consent_request.save(update_fields=fields)
    audit_record(
        actor=None,
        action="records.hiu_consent_notified",
        target=consent_request,
        details={"status": status, "artefacts": [str(a) for a in artefact_ids]},
    )
    outbox.enqueue(
        kind=m3.ON_NOTIFY_KIND,
        method="POST",
        path=m3.ON_NOTIFY_PATH,
        json=m3.on_notify_body(
            consent_ids=[str(a) for a in artefact_ids] or [str(consent_request.consent_request_id)],
            request_id=request_id,
        ),
        subject=consent_request,
    )
    return None


# --- 3. Artefact fetch and the health-information request ----------------------------------------------------


def _on_fetch(message, body) -> None:
    artefact_id = _uuid(_dict(message.body).get("consentId"))
    artefact = (
        HiuArtefact.objects.select_for_update()
        .select_related("consent_request__facility")
        .filter(artefact_id=artefact_id or uuid.UUID(int=0))
        .first()
    )
    if artefact is None:
        return
    consent = _dict(_dict(body).get("consent"))
    detail = _dict(consent.get("consentDetail"))
    consent_request = artefact.consent_request
    problems = []
    if _uuid(detail.get("consentId")) != artefact.artefact_id:
        problems.append("consentDetail.consentId is not the artefact asked for")
    if _dict(detail.get("hiu")).get("id") != consent_request.facility.facility_id:
        problems.append("consentDetail.hiu is not this facility")
    if str(_dict(detail.get("patient")).get("id") or "").lower() != consent_request.patient_address:
        problems.append("consentDetail.patient is not the patient asked for")
    if problems:
        _refuse("; ".join(problems), {"artefact": str(artefact.artefact_id)})
        return
    permission = _dict(detail.get("permission"))
    dates = _dict(permission.get("dateRange"))
    purpose = _dict(detail.get("purpose"))
    artefact.status = consent.get("status") if consent.get("status") in HiuArtefactStatus.values else artefact.status
    artefact.fetched_at = timezone.now()
    artefact.schema_version = str(detail.get("schemaVersion") or "")[:10]
    artefact.abdm_created_at = _time(detail.get("createdAt"))
    artefact.patient_address = str(_dict(detail.get("patient")).get("id") or "")[:64]
    artefact.hip_id = str(_dict(detail.get("hip")).get("id") or "")[:64]
    artefact.hip_name = str(_dict(detail.get("hip")).get("name") or "")[:200]
    artefact.hiu_id = str(_dict(detail.get("hiu")).get("id") or "")[:64]
    artefact.consent_manager_id = str(_dict(detail.get("consentManager")).get("id") or "")[:30]
    artefact.care_contexts = [c for c in detail.get("careContexts") or [] if isinstance(c, dict)]
    artefact.purpose_code = str(purpose.get("code") or "")[:8]
    artefact.purpose_text = str(purpose.get("text") or "")[:100]
    artefact.purpose_ref_uri = str(purpose.get("refUri") or "")[:255]
    artefact.requester = _dict(detail.get("requester"))
    artefact.hi_types = [t for t in detail.get("hiTypes") or [] if isinstance(t, str)]
    artefact.access_mode = str(permission.get("accessMode") or "")[:8]
    artefact.date_from = _time(dates.get("from"))
    artefact.date_to = _time(dates.get("to"))
    erase = _time(permission.get("dataEraseAt") or detail.get("dataEraseAt"))
    if erase is not None:
        artefact.data_erase_at = min(erase, consent_request.data_erase_at)
    artefact.frequency = _dict(permission.get("frequency") or detail.get("frequency"))
    artefact.signature = str(consent.get("signature") or "")
    artefact.detail = detail
    artefact.save()
    audit_record(actor=None, action="records.hiu_artefact_fetched", target=artefact, details={"hip": artefact.hip_id})
    if artefact.is_readable and artefact.date_from and artefact.date_to:
        transfer_start(artefact=artefact)


def data_push_url() -> str:
    return settings.ABDM_BRIDGE_URL.rstrip("/") + reverse("records:hiu_data_push")


def transfer_start(*, artefact: HiuArtefact) -> HiuTransfer:
    """A health-information request for the artefact under a fresh key pair and nonce (private key sealed)."""
    keys = fidelius.generate_key_material()
    now = timezone.now()
    transfer = HiuTransfer.objects.create(
        artefact=artefact,
        request_id=uuid.uuid4(),
        public_key=keys.public_key,
        nonce=keys.nonce,
        sealed_private_key=tokens.seal(keys.private_key),
    )
    message = outbox.enqueue(
        kind=m3.HI_REQUEST_KIND,
        method="POST",
        path=m3.HI_REQUEST_PATH,
        json=m3.hi_request_body(
            artefact_id=artefact.artefact_id,
            date_from=artefact.date_from,
            date_to=artefact.date_to,
            data_push_url=data_push_url(),
            public_key=keys.public_key,
            nonce=keys.nonce,
            key_expiry=now + dt.timedelta(hours=KEY_HOURS),
        ),
        subject=transfer,
        hiu_id=artefact.consent_request.facility.facility_id,
        awaits_callback=True,
    )
    transfer.request_id = message.request_id
    transfer.save(update_fields=["request_id"])
    return transfer


def _end_transfer(transfer: HiuTransfer, status: str, error: str = "") -> None:
    transfer.status = status
    transfer.error = error[:300]
    transfer.sealed_private_key = ""
    transfer.key_erased_at = timezone.now()
    transfer.save(update_fields=["status", "error", "sealed_private_key", "key_erased_at", "updated_at"])


def _on_hi_request(message, body) -> None:
    transfer = HiuTransfer.objects.select_for_update().filter(request_id=message.request_id).first()
    if transfer is None:
        return
    hi_request = _dict(_dict(body).get("hiRequest"))
    error = _dict(_dict(body).get("error"))
    transaction_id = _uuid(hi_request.get("transactionId"))
    if error or transaction_id is None:
        _end_transfer(transfer, HiuTransferStatus.FAILED, f"{error.get('code', '')} {error.get('message', '')}")
        return
    transfer.transaction_id = transaction_id
    if transfer.status == HiuTransferStatus.QUEUED:
        transfer.status = HiuTransferStatus.REQUESTED
    transfer.save(update_fields=["transaction_id", "status", "updated_at"])


def _hi_request_failed(message) -> None:
    transfer = HiuTransfer.objects.select_for_update().filter(request_id=message.request_id).first()
    if transfer is not None and transfer.status == HiuTransferStatus.QUEUED:
        _end_transfer(transfer, HiuTransferStatus.FAILED, message.failure_reason or "ABDM refused the request")


# --- 4. The data push ------------------------------------------------------------------------------------------


def _push_error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def _patient_problems(bundle: dict, address: str) -> list[str]:
    """The bundle's Patient must carry the consent's ABHA address (or, when the portal knows the account, its
    number) and no other ABHA identifier."""
    identifiers = fhir.patient_identifiers(bundle)
    account = account_by_identifier(address)
    if account is not None:
        problems = fhir.bundle_patient_errors(bundle, account)
        if problems:
            return problems
    addresses = {i.value.lower() for i in identifiers if i.kind == fhir.ABHA_ADDRESS}
    numbers = {i.value.replace("-", "") for i in identifiers if i.kind == fhir.ABHA_NUMBER}
    if address in addresses or (account is not None and account.abha_number in numbers):
        if account is None and (addresses - {address} or numbers):
            return ["the Patient carries ABHA identifiers the consent does not name"] if addresses - {address} else []
        return []
    return ["the Patient does not carry the consent's ABHA address"]


def _entry(entry: dict, *, transfer: HiuTransfer, private_key: str, key_material: dict, granted: set) -> tuple:
    """(care context reference, bundle facts or None, problems)."""
    reference = str(entry.get("careContextReference") or "")[:255]
    if reference not in granted:
        return reference, None, ["this care context is not in the consent artefact"]
    content = entry.get("content")
    if not isinstance(content, str) or not content:
        return reference, None, ["only inline content is read"]
    try:
        plaintext = fidelius.decrypt(
            content,
            requester_private_key=private_key,
            requester_nonce=transfer.nonce,
            sender_public_key=str(_dict(key_material.get("dhPublicKey")).get("keyValue") or ""),
            sender_nonce=str(key_material.get("nonce") or ""),
        )
    except fidelius.FideliusError as error:
        return reference, None, [f"decryption: {error}"]
    try:
        bundle = json.loads(plaintext)
    except ValueError:
        return reference, None, ["the content is not JSON"]
    entries = bundle.get("entry") if isinstance(bundle, dict) else None
    first = (_dict(entries[0]) if isinstance(entries, list) and entries else {}).get("resource")
    hi_type = fhir.composition_hi_type(_dict(first)) or "HealthDocumentRecord"
    try:
        facts = fhir.validate_bundle(bundle, hi_type)
    except fhir.BundleError as error:
        return reference, None, [str(e) for e in error.errors][:5]
    profiles = _dict(bundle.get("meta")).get("profile") or []
    problems = []
    if NRCES_PROFILE_BASE + "DocumentBundle" not in profiles:
        problems.append("Bundle.meta.profile must name NRCES's DocumentBundle")
    problems += _patient_problems(bundle, transfer.artefact.patient_address.lower())
    if problems:
        return reference, None, problems
    return reference, (bundle, hi_type, facts), []


def _push_bearer_problem(authorization: str | None) -> str | None:
    """Why the push's bearer is not an ABDM session token, or None. The spec's data push says "Authorization token
    is mandatory": the HIP sends its gateway session token. It must be a JWT the gateway signed (a key of its JWKS,
    as callbacks are checked), of the gateway's issuer, not expired, naming the ABDM client that holds it. The
    audience is not ours (a session token names none), so the transaction and key material still decide the rest."""
    if not authorization or not authorization.startswith("Bearer "):
        return "no bearer token"
    token = authorization.removeprefix("Bearer ").strip()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        return "not a JWT"
    kid = header.get("kid")
    if header.get("alg") != "RS256" or not isinstance(kid, str) or not kid:
        return "not an RS256 token with a kid"
    found = callbacks.gateway_keys(kid=kid)
    if kid not in found["keys"]:
        return "a key the gateway does not publish"
    try:
        claims = jwt.decode(
            token,
            jwt.PyJWK(found["keys"][kid], algorithm="RS256").key,
            algorithms=["RS256"],
            issuer=found["issuer"] or None,
            leeway=callbacks.LEEWAY,
            options={"require": ["exp", "iat"], "verify_aud": False},
        )
    except jwt.ExpiredSignatureError:
        return "expired"
    except (jwt.InvalidTokenError, jwt.PyJWKError):
        return "bad signature or claims"
    if not claims.get("clientId"):
        return "no clientId"
    return None


@csrf_exempt
def data_push(request):
    """The dataPushUrl: the HIP's encrypted entries for one of our transactions, under its ABDM session token."""
    if request.method != "POST":
        return _push_error(405, "ABDM-1006", "Method not allowed")
    try:
        problem = _push_bearer_problem(request.headers.get("Authorization"))
    except client.AbdmError:
        log.warning("Data push not verified: the gateway's keys are unavailable")
        response = _push_error(503, "ABDM-1024", "Dependent service unavailable")
        response["Retry-After"] = str(client.RETRY_AFTER_SECONDS)
        return response
    if problem:
        # Logged, not audited: without ABDM's credentials anyone could fill the audit log. Pushes that come with
        # them and are refused (an unknown transaction, a key the portal did not issue) are audited below.
        log.warning("Data push refused (401): %s", problem)
        # The gateway's own 401 shape (hiecm-gateway.yaml), as callbacks answer it.
        return JsonResponse({"code": "900901", "message": "Invalid Credentials", "description": problem}, status=401)
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("entries"), list):
        _refuse("data push: not a push body", request=request)
        return _push_error(400, "ABDM-1006", "Bad Request, invalid request Body")
    transaction_id = _uuid(body.get("transactionId"))
    key_material = _dict(body.get("keyMaterial"))
    with transaction.atomic():
        transfer = (
            HiuTransfer.objects.select_for_update()
            .select_related("artefact__consent_request__facility")
            .filter(transaction_id=transaction_id or uuid.UUID(int=0))
            .first()
        )
        if transfer is None:
            unknown = {"transaction": str(body.get("transactionId"))[:64]}
            _refuse("data push for an unknown transaction", unknown, request)
            return _push_error(404, "ABDM-1017", "Invalid TransactionId")
        artefact = HiuArtefact.objects.select_for_update().get(pk=transfer.artefact_id)
        transfer.artefact = artefact
        private_key = tokens.unseal(transfer.sealed_private_key)
        if transfer.status != HiuTransferStatus.REQUESTED or not private_key:
            _refuse("data push for a transfer that is not open", {"transaction": str(transaction_id)}, request)
            return _push_error(409, "ABDM-1017", "The transaction is not open")
        if not artefact.is_readable:
            _end_transfer(transfer, HiuTransferStatus.FAILED, "the consent ended before the data arrived")
            _refuse("data push under an ended consent", {"transaction": str(transaction_id)}, request)
            return _push_error(409, "ABDM-1062", "Consent Not granted")
        granted = {str(_dict(c).get("careContextReference")) for c in artefact.care_contexts}
        results = []
        for entry in body["entries"]:
            reference, found, problems = _entry(
                _dict(entry), transfer=transfer, private_key=private_key, key_material=key_material, granted=granted
            )
            if found is not None:
                bundle, hi_type, facts = found
                HiuRecord.objects.create(
                    transfer=transfer,
                    artefact=artefact,
                    care_context_reference=reference,
                    hi_type=hi_type,
                    title=facts.title,
                    record_date=_day(facts.date),
                    bundle=bundle,
                    summary=fhir.summarize(bundle),
                    bundle_sha256=facts.sha256,
                )
            else:
                _refuse(
                    "data push entry refused",
                    {"transaction": str(transaction_id), "care_context": reference, "problems": problems[:3]},
                    request,
                )
            results.append((reference, found is not None, "; ".join(problems) or "Data received successfully"))
        transfer.pages += 1
        page_count = body.get("pageCount") if isinstance(body.get("pageCount"), int) else 1
        page_number = body.get("pageNumber") if isinstance(body.get("pageNumber"), int) else transfer.pages
        transfer.save(update_fields=["pages", "updated_at"])
        received = all(ok for _, ok, _ in results)
        if page_number >= page_count or transfer.pages >= page_count:
            stored = transfer.records.exists()
            _end_transfer(
                transfer,
                HiuTransferStatus.RECEIVED if stored else HiuTransferStatus.FAILED,
                "" if received else "some care contexts were refused",
            )
        outbox.enqueue(
            kind=m3.HI_NOTIFY_KIND,
            method="POST",
            path=m3.HI_NOTIFY_PATH,
            json=m3.hi_notify_body(
                artefact_id=artefact.artefact_id,
                transaction_id=transaction_id,
                hiu_id=artefact.consent_request.facility.facility_id,
                hip_id=artefact.hip_id,
                received=received,
                statuses=results,
                done_at=timezone.now(),
            ),
            subject=transfer,
        )
        audit_record(
            actor=None,
            action="records.hiu_data_received",
            target=artefact,
            details={"transaction": str(transaction_id), "stored": sum(1 for _, ok, _ in results if ok)},
        )
    acknowledgement = [{"careContextReference": r, "status": "OK" if ok else "ERRORED"} for r, ok, _ in results]
    return JsonResponse({"acknowledgement": acknowledgement}, status=202)


# --- 5. Reads and erasure -------------------------------------------------------------------------------------


def artefact_read(*, actor, artefact_uuid, request=None) -> tuple[HiuArtefact, list[HiuRecord]]:
    """The records received under an artefact, for the doctor who asked: checked now (not when the beat runs)."""
    artefact = (
        HiuArtefact.objects.select_related("consent_request__facility", "consent_request__requester")
        .filter(uuid=artefact_uuid)
        .first()
    )
    if artefact is None or artefact.consent_request.requester_id != actor.pk:
        raise NotFound(_("Not found."))
    doctor_still_acts_for(actor, artefact.consent_request.facility)
    if not artefact.is_readable:
        raise ConsentInactive(_("This consent has ended: its records are no longer shown."))
    records = list(artefact.records.filter(erased_at__isnull=True).order_by("-record_date", "-id"))
    patient = account_by_identifier(artefact.patient_address)
    audit_record(
        actor=actor,
        action=selectors.READ_ACTION if patient is not None else "records.hiu_read",
        target=patient if patient is not None else artefact,
        details={
            "basis": "consent",
            "abdm_hiu": True,
            "artefact": str(artefact.artefact_id),
            "facility": artefact.consent_request.facility.facility_id,
            "facility_name": artefact.consent_request.facility.name,
            "records": [str(r.uuid) for r in records],
            "hi_types": sorted({r.hi_type for r in records}),
            "source_facilities": [artefact.hip_name or artefact.hip_id],
        },
        request=request,
    )
    return artefact, records


def record_download(*, actor, artefact_uuid, record_uuid, request=None) -> HiuRecord:
    """A received bundle to download: STORE consents only (VIEW shows, never hands out)."""
    artefact, records = artefact_read(actor=actor, artefact_uuid=artefact_uuid, request=request)
    if not artefact.allows_copies:
        raise NotAllowed(_("This consent lets you view the records, not download them."))
    record = next((r for r in records if str(r.uuid) == str(record_uuid)), None)
    if record is None:
        raise NotFound(_("Not found."))
    return record


def erase_due(*, now: dt.datetime | None = None) -> int:
    """Beat (records.expire_consents): artefacts past dataEraseAt become EXPIRED; the received copies of every ended
    artefact are erased. Idempotent."""
    now = now or timezone.now()
    with transaction.atomic():
        HiuArtefact.objects.filter(status=HiuArtefactStatus.GRANTED, data_erase_at__lte=now).update(
            status=HiuArtefactStatus.EXPIRED, updated_at=now
        )
        ended = list(
            HiuArtefact.objects.filter(erased_at__isnull=True)
            .exclude(status=HiuArtefactStatus.GRANTED)
            .select_for_update(skip_locked=True)
        )
        count = _erase(ended, now) if ended else 0
        for artefact in ended:
            audit_record(actor=None, action="records.hiu_erased", target=artefact, details={"status": artefact.status})
    return count


def requests_for_doctor(actor):
    return (
        HiuConsentRequest.objects.filter(requester=actor)
        .select_related("facility")
        .prefetch_related("artefacts")
        .order_by("-created_at", "-id")
    )


# --- 6. The citizen's view of what ABDM reports for them ----------------------------------------------------------


def abha_app_url(path: str = "") -> str:
    """The citizen's ABHA app (in development, the sandbox's app pages); ABDM_ABHA_APP_URL overrides."""
    base = getattr(settings, "ABDM_ABHA_APP_URL", "") or settings.ABDM_GATEWAY_URL.rstrip("/") + "/sandbox/v1/app"
    return base.rstrip("/") + "/" + path.lstrip("/")


def abha_address_for_demo(account) -> str | None:
    """The account's primary ABHA address when ABDM's shape admits it (name@abdm or name@sbx)."""
    for address in account.addresses.order_by("-is_primary", "id"):
        if re.fullmatch(ADDRESS_SHAPE, address.full.lower()):
            return address.full.lower()
    return None


def _addresses(account) -> list[str]:
    return [address.full.lower() for address in account.addresses.all()]


def citizen_view(account) -> dict:
    """For the citizen's consent pages: the state's doctors' requests through ABDM (pending ones with the ABHA app's
    link to answer) and the artefacts ABDM notified to the state's facilities as HIPs (with the app's revoke link)."""
    from .models import HipConsentArtefact

    addresses = _addresses(account)
    language = f"?lang={account.language}" if account.language in ("hi", "gu") else ""
    requests = list(
        HiuConsentRequest.objects.filter(patient_address__in=addresses)
        .select_related("facility")
        .order_by("-created_at", "-id")[:100]
    )
    for item in requests:
        item.app_url = abha_app_url(f"requests/{item.consent_request_id}{language}") if item.consent_request_id else ""
    shared = list(HipConsentArtefact.objects.filter(patient=account).order_by("-created_at", "-id")[:100])
    for item in shared:
        item.app_url = abha_app_url(f"artefacts/{item.consent_id}/revoke-page{language}")
    return {
        "abdm_pending": [r for r in requests if r.status == HiuRequestStatus.REQUESTED],
        "abdm_requests": [r for r in requests if r.status != HiuRequestStatus.REQUESTED],
        "abdm_shared": shared,
        "abha_app_url": abha_app_url(language),
    }


def pending_count(account) -> int:
    """The state's doctors' requests through ABDM that wait for the citizen's answer (one COUNT, one for addresses)."""
    return HiuConsentRequest.objects.filter(
        patient_address__in=_addresses(account), status=HiuRequestStatus.REQUESTED
    ).count()
