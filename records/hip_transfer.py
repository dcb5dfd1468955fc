"""The portal's facilities as HIPs on ABDM: consent artefacts ABDM notifies, and the health-information requests made
under them (NHA's hiecm-m2.yaml and the consent-management-data-flow drop; bodies in abdm/dataflow.py).

1. `consent_notify` (webhook `/api/v3/consent/request/hip/notify`): the artefact is stored (GRANTED) or its status
   changed (REVOKED, EXPIRED), audited, and acknowledged through the outbox (on-notify, OK or ERROR).
2. `health_information_request` (webhook `/api/v3/hip/health-information/request`): the request is checked against
   the artefact (known, for this facility as HIP, granted, not past dataEraseAt, dates inside the consented range,
   the key material and push URL usable, every care context the artefact names held here for that patient). A
   refusal is recorded and audited and answered with ABDM's error on the on-request; nothing is sent. Otherwise one
   item per care context is recorded and the on-request says ACKNOWLEDGED; once ABDM took it, the push task runs.
3. `transfer_push` (Celery `records.hip_push_health_information`): each care context's FHIR bundle (its current
   records of the consented hiTypes and dates, fhir.care_context_bundle) encrypted with Fidelius under a fresh key
   pair, POSTed to the dataPushUrl; a care context counts as sent only when the HIU accepted the page holding it.
   A push URL that fails is tried again with the outbox's backoff, PUSH_ATTEMPTS times, then its care contexts are
   errored. Every care context sent is an audited read the citizen sees in their access log ("sent to <HIU> under
   consent <id>"). Then the transfer notification (per care context OK / ERRORED with the reason) goes through the
   outbox.
"""

import contextlib
import json
import logging
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from celery import shared_task
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import CharField, Q
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from abdm import callbacks, client, dataflow, fidelius, outbox
from abdm.client import AbdmError
from abdm.enums import OutboxStatus
from abdm.models import OutboxMessage
from abha.selectors import account_by_identifier
from core.exceptions import DomainError
from core.services import audit_record
from facilities.enums import FacilityStatus
from facilities.models import Facility

from . import fhir, selectors
from .enums import AccessBasis, HipArtefactStatus, HipTransferItemStatus, HipTransferStatus
from .models import CareContext, HealthRecord, HipConsentArtefact, HipTransfer, HipTransferItem

log = logging.getLogger("records.hip_transfer")

PUSH_ATTEMPTS = 5  # with the outbox's backoff (10 s doubling, jittered, capped): well inside ABDM's 20 minutes
PAGE_BYTES = 4 * 1024 * 1024  # encrypted content per data push page
PUSH_LEASE = timedelta(minutes=2)  # a worker holding a push: no other starts it meanwhile

# ABDM's codes (hiecm-m2.yaml x-abdm-errors, errors/m2.yaml) for what the HIP refuses.
UNKNOWN_ARTEFACT = ("ABDM-1112", "Invalid or already expired consent artefact id")
NOT_GRANTED = ("ABDM-1062", "Consent Not granted")
EXPIRED = ("ABDM-1061", "Consent artefact expired")
BAD_DATES = ("ABDM-1063", "Date Range given is invalid")
OTHER_HIP = ("ABDM-1035", "Invalid HIP ID")
BAD_CARE_CONTEXTS = ("ABDM-1057", "Invalid Care Contexts")
BAD_BODY = "ABDM-1006"

NOTIFY_ACTION = "records.hip_consent_notified"
REQUEST_ACTION = "records.hip_transfer_request"
REFUSED_ACTION = "records.hip_transfer_refused"
NOTIFIED_ACTION = "records.hip_transfer_notified"


def register() -> None:
    """From RecordsConfig.ready(): the two webhooks and the outbox kinds of the data flow."""
    callbacks.register_callback(dataflow.CONSENT_NOTIFY_WEBHOOK, consent_notify)
    callbacks.register_callback(dataflow.HEALTH_INFORMATION_REQUEST_WEBHOOK, health_information_request)
    outbox.register_handler(dataflow.ON_REQUEST_KIND, on_success=_acknowledged, on_failure=_not_acknowledged)
    outbox.register_handler(dataflow.TRANSFER_NOTIFY_KIND, on_success=_notified)


def _date(value) -> datetime | None:
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, UTC)
    return parsed


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _text(value, limit: int = 255) -> str:
    return str(value)[:limit] if isinstance(value, str | int) else ""


def _our_facility(hip_id: str) -> Facility | None:
    """A facility of the portal that ABDM may address as HIP: its HFR ID, verified."""
    if not hip_id:
        return None
    return Facility.objects.filter(facility_id=hip_id, status=FacilityStatus.VERIFIED).first()


# --- 1. Consent notify ------------------------------------------------------------------------------------------


def consent_notify(request_id: str, body: dict, headers: dict) -> None:
    """The webhook: store or update the artefact, audit, queue the on-notify. Runs in abdm.callbacks' transaction
    (with the receipt). A body without a notification or consent id is refused (400, nothing stored)."""
    notification = _dict(body.get("notification"))
    status = notification.get("status")
    try:
        consent_id = str(uuid.UUID(str(notification.get("consentId"))))
    except ValueError:
        raise DomainError("notification.consentId must be a UUID", code="bad_body") from None
    if status not in HipArtefactStatus.values:
        # DENIED and REQUESTED never reach an HIP (the drop): acknowledged with an error, nothing stored.
        _on_notify(consent_id, request_id, error=(BAD_BODY, "Bad Request, invalid request Body"), subject=None)
        return None
    artefact = HipConsentArtefact.objects.select_for_update().filter(consent_id=consent_id).first()
    detail = _dict(notification.get("consentDetail"))
    error = None
    now = timezone.now()
    if status == HipArtefactStatus.GRANTED:
        if artefact is None:
            artefact = _artefact_from(consent_id, notification, detail)
        facility = artefact.facility
        header_hip = headers.get("X-Hip-Id") or ""
        if facility is None or (header_hip and header_hip != artefact.hip_id):
            error = OTHER_HIP
    elif artefact is None:
        error = UNKNOWN_ARTEFACT
    elif artefact.status == HipArtefactStatus.GRANTED:
        artefact.status = status  # REVOKED or EXPIRED; a revoked artefact stays revoked when it also expires
        artefact.status_changed_at = now
    if artefact is not None:
        artefact.notified_request_id = request_id[:100]
        artefact.save()
        audit_record(
            actor=None,
            action=NOTIFY_ACTION,
            target=artefact,
            details={
                "consent_id": consent_id,
                "status": status,
                "hip": artefact.hip_id,
                "hiu": artefact.hiu_id,
                "hiu_name": artefact.hiu_name,
                "error": error[0] if error else "",
            },
        )
    _on_notify(consent_id, request_id, error=error, subject=artefact)
    return None


def _artefact_from(consent_id: str, notification: dict, detail: dict) -> HipConsentArtefact:
    hip, hiu = _dict(detail.get("hip")), _dict(detail.get("hiu"))
    purpose, requester = _dict(detail.get("purpose")), _dict(detail.get("requester"))
    permission = _dict(detail.get("permission"))
    dates = _dict(permission.get("dateRange"))
    patient_address = _text(_dict(detail.get("patient")).get("id"))
    hip_id = _text(hip.get("id"), 64)
    care_contexts = [
        {
            "patientReference": _text(item.get("patientReference")),
            "careContextReference": _text(item.get("careContextReference")),
        }
        for item in detail.get("careContexts") or []
        if isinstance(item, dict)
    ]
    return HipConsentArtefact(
        consent_id=consent_id,
        status=HipArtefactStatus.GRANTED,
        facility=_our_facility(hip_id),
        hip_id=hip_id,
        hip_name=_text(hip.get("name")),
        patient_address=patient_address,
        patient=account_by_identifier(patient_address) if patient_address else None,
        hiu_id=_text(hiu.get("id"), 64),
        hiu_name=_text(hiu.get("name")),
        hiu_type=_text(hiu.get("type"), 64),
        requester_name=_text(requester.get("name")),
        requester_identifier=_dict(requester.get("identifier")),
        consent_manager_id=_text(_dict(detail.get("consentManager")).get("id"), 64),
        schema_version=_text(detail.get("schemaVersion"), 16),
        purpose_code=_text(purpose.get("code"), 8),
        purpose_text=_text(purpose.get("text"), 64),
        purpose_ref_uri=_text(purpose.get("refUri")),
        hi_types=[t for t in detail.get("hiTypes") or [] if isinstance(t, str)],
        care_contexts=care_contexts,
        access_mode=_text(permission.get("accessMode"), 8),
        date_from=_date(dates.get("from")),
        date_to=_date(dates.get("to")),
        data_erase_at=_date(permission.get("dataEraseAt")),
        frequency=_dict(permission.get("frequency")),
        consent_created_at=_date(detail.get("createdAt")),
        signature=_text(notification.get("signature"), 10_000),
        grant_acknowledgement=bool(notification.get("grantAcknowledgement")),
        status_changed_at=timezone.now(),
    )


def _on_notify(consent_id, request_id, *, error, subject) -> None:
    outbox.enqueue(
        kind=dataflow.ON_NOTIFY_KIND,
        method="POST",
        path=dataflow.CONSENT_ON_NOTIFY_PATH,
        json=dataflow.consent_on_notify_body(consent_id=consent_id, request_id=request_id, error=error),
        subject=subject,
    )


# --- 2. Health-information request ------------------------------------------------------------------------------


class Refusal(Exception):
    def __init__(self, error: tuple[str, str]):
        super().__init__(error[1])
        self.error = error


def _check_key_material(key_material: dict) -> None:
    """The requester's key material as the scheme needs it (abdm.fidelius); Refusal otherwise."""
    key = _dict(key_material.get("dhPublicKey"))
    try:
        if str(key_material.get("cryptoAlg", "")).upper() != "ECDH":
            raise fidelius.FideliusError("cryptoAlg is not ECDH")
        if str(key_material.get("curve", "")).lower() != "curve25519":
            raise fidelius.FideliusError("curve is not Curve25519")
        fidelius.decode_public_key(key.get("keyValue"))
        fidelius.decode_nonce(key_material.get("nonce"))
    except fidelius.FideliusError as error:
        raise Refusal((BAD_BODY, f"Bad Request, invalid keyMaterial: {error}")) from None
    expiry = _date(key.get("expiry"))
    if expiry is not None and expiry <= timezone.now():
        raise Refusal((BAD_BODY, "Bad Request, invalid keyMaterial: the key has expired"))


def _check(transfer: HipTransfer, artefact: HipConsentArtefact | None, hi_request: dict) -> list[CareContext]:
    """The checks of a health-information request, in the order ABDM's errors name them. Returns the care contexts
    to send (the artefact's, all held here for its patient), or raises Refusal."""
    if artefact is None:
        raise Refusal(UNKNOWN_ARTEFACT)
    if artefact.facility_id is None or (transfer.hip_id and transfer.hip_id != artefact.hip_id):
        raise Refusal(OTHER_HIP)
    if artefact.facility.status != FacilityStatus.VERIFIED:
        raise Refusal(OTHER_HIP)
    if artefact.status == HipArtefactStatus.REVOKED:
        raise Refusal(NOT_GRANTED)
    if artefact.status == HipArtefactStatus.EXPIRED or artefact.is_expired:
        raise Refusal(EXPIRED)
    dates = _dict(hi_request.get("dateRange"))
    transfer.date_from, transfer.date_to = _date(dates.get("from")), _date(dates.get("to"))
    if (
        transfer.date_from is None
        or transfer.date_to is None
        or transfer.date_from > transfer.date_to
        or (artefact.date_from and transfer.date_from < artefact.date_from)
        or (artefact.date_to and transfer.date_to > artefact.date_to)
    ):
        raise Refusal(BAD_DATES)
    url = urlsplit(transfer.data_push_url)
    if url.scheme not in ("http", "https") or not url.netloc:
        raise Refusal((BAD_BODY, "Bad Request, invalid dataPushUrl"))
    _check_key_material(transfer.key_material)
    patient = artefact.patient or account_by_identifier(artefact.patient_address)
    references = [item["careContextReference"] for item in artefact.care_contexts]
    found = {
        care_context.reference: care_context
        for care_context in CareContext.objects.filter(facility=artefact.facility, reference__in=references)
    }
    if (
        patient is None
        or not references
        or any(reference not in found or found[reference].patient_id != patient.pk for reference in references)
    ):
        raise Refusal(BAD_CARE_CONTEXTS)
    if artefact.patient_id is None:
        artefact.patient = patient
        artefact.save(update_fields=["patient", "updated_at"])
    return [found[reference] for reference in dict.fromkeys(references)]


def health_information_request(request_id: str, body: dict, headers: dict) -> None:
    """The webhook: check, record, audit and answer through the outbox (on-request). A repeated transactionId
    changes nothing. A body without a transactionId or hiRequest is refused (400)."""
    transaction_id = _text(body.get("transactionId"), 100)
    hi_request = body.get("hiRequest")
    if not transaction_id or not isinstance(hi_request, dict):
        raise DomainError("transactionId and hiRequest are required", code="bad_body")
    if HipTransfer.objects.filter(transaction_id=transaction_id).exists():
        log.info("Health-information request for transaction %s repeated: answered before", transaction_id)
        return None
    consent_id = _text(_dict(hi_request.get("consent")).get("id"), 100)
    artefact = None
    with contextlib.suppress(ValueError):
        artefact = (
            HipConsentArtefact.objects.select_related("facility").filter(consent_id=uuid.UUID(consent_id)).first()
        )
    transfer = HipTransfer(
        transaction_id=transaction_id,
        request_id=request_id[:100],
        consent_id=consent_id,
        artefact=artefact,
        facility=artefact.facility if artefact else None,
        hip_id=(headers.get("X-Hip-Id") or "")[:64],
        data_push_url=_text(hi_request.get("dataPushUrl"), 500),
        key_material=_dict(hi_request.get("keyMaterial")),
        status=HipTransferStatus.ACKNOWLEDGED,
    )
    try:
        care_contexts = _check(transfer, artefact, hi_request)
    except Refusal as refusal:
        transfer.status = HipTransferStatus.REFUSED
        transfer.error_code, transfer.error_message = refusal.error[0], refusal.error[1][:255]
        transfer.save()
        audit_record(
            actor=None,
            action=REFUSED_ACTION,
            target=artefact.patient if artefact and artefact.patient else transfer,
            details={
                "transaction_id": transaction_id,
                "consent_id": consent_id,
                "hip": transfer.hip_id,
                "hiu": artefact.hiu_id if artefact else "",
                "code": refusal.error[0],
                "reason": refusal.error[1],
            },
        )
        log.info("Health-information request %s refused: %s", transaction_id, refusal.error[0])
        _on_request(transfer, error=refusal.error)
        return None
    transfer.save()
    HipTransferItem.objects.bulk_create(
        HipTransferItem(transfer=transfer, care_context=care_context, care_context_reference=care_context.reference)
        for care_context in care_contexts
    )
    audit_record(
        actor=None,
        action=REQUEST_ACTION,
        target=transfer,
        details={"transaction_id": transaction_id, "consent_id": consent_id, "care_contexts": len(care_contexts)},
    )
    _on_request(transfer, error=None)
    return None


def _on_request(transfer: HipTransfer, *, error) -> None:
    outbox.enqueue(
        kind=dataflow.ON_REQUEST_KIND,
        method="POST",
        path=dataflow.HEALTH_INFORMATION_ON_REQUEST_PATH,
        json=dataflow.on_request_body(
            transaction_id=transfer.transaction_id, request_id=transfer.request_id, error=error
        ),
        subject=transfer,
    )


def _acknowledged(message, body) -> None:
    """ABDM took the on-request: an acknowledged transfer's push starts (after this commit). The journey's order:
    the acknowledgement, then the data."""
    transfer = HipTransfer.objects.filter(pk=message.subject_id, status=HipTransferStatus.ACKNOWLEDGED).first()
    if transfer is not None:
        transaction.on_commit(lambda: push_health_information.delay(transfer.pk))


def _not_acknowledged(message) -> None:
    """ABDM refused or never took the acknowledgement: the HIU was told nothing is coming (ABDM-1402), so nothing
    is sent; the transfer fails without a notification (the gateway would not take that either)."""
    transfer = HipTransfer.objects.filter(pk=message.subject_id, status=HipTransferStatus.ACKNOWLEDGED).first()
    if transfer is None:
        return
    reason = f"ABDM did not take the acknowledgement ({message.error_code})."
    transfer.items.filter(status=HipTransferItemStatus.PENDING).update(
        status=HipTransferItemStatus.ERRORED, reason=reason[:255]
    )
    transfer.status = HipTransferStatus.FAILED
    transfer.last_push_error = reason[:300]
    transfer.save(update_fields=["status", "last_push_error", "updated_at"])


# --- 3. Data push and transfer notify -----------------------------------------------------------------------------


@shared_task(name="records.hip_push_health_information")
def push_health_information(transfer_id: int) -> str | None:
    """Push one acknowledged transfer's pending care contexts (queued after the on-request, and again after each
    backoff); idempotent: a transfer another worker holds, or that is finished, is left alone."""
    return transfer_push(transfer_id=transfer_id)


@shared_task(name="records.hip_push_sweep")
def hip_push_sweep() -> int:
    """Periodic: queue the push of acknowledged transfers that nobody is pushing (a task message lost while the
    broker was down, a worker killed mid-push whose hold ran out). Returns how many were queued."""
    todo = transfers_to_resume()
    for transfer_id in todo:
        push_health_information.delay(transfer_id)
    return len(todo)


def transfers_to_resume(*, limit: int = 200) -> list[int]:
    """Acknowledged transfers, not yet pushed, whose on-request ABDM took (its outbox message sent) at least a
    minute ago, and whose next attempt is due. One query (the outbox rows by subject, in a subquery)."""
    now = timezone.now()
    acknowledged = OutboxMessage.objects.filter(
        kind=dataflow.ON_REQUEST_KIND,
        status=OutboxStatus.SENT,
        subject_type=ContentType.objects.get_for_model(HipTransfer),
        sent_at__lte=now - timedelta(minutes=1),
    ).values("subject_id")
    due = (
        HipTransfer.objects.filter(status=HipTransferStatus.ACKNOWLEDGED, pushed_at__isnull=True)
        .filter(Q(next_push_at__isnull=True) | Q(next_push_at__lte=now))
        .annotate(key=Cast("pk", CharField()))  # the outbox keeps subject IDs as text
        .filter(key__in=acknowledged)
    )
    return list(due.order_by("created_at").values_list("pk", flat=True)[:limit])


def _claim(transfer_id: int) -> HipTransfer | None:
    now = timezone.now()
    with transaction.atomic():
        transfer = (
            HipTransfer.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("artefact", "facility")
            .filter(pk=transfer_id, status=HipTransferStatus.ACKNOWLEDGED, notified_at__isnull=True)
            .first()
        )
        if transfer is None or (transfer.next_push_at and transfer.next_push_at > now):
            return None
        transfer.push_attempts += 1
        transfer.next_push_at = now + PUSH_LEASE
        transfer.save(update_fields=["push_attempts", "next_push_at", "updated_at"])
        return transfer


def _records_for(item: HipTransferItem, transfer: HipTransfer) -> list[HealthRecord]:
    artefact = transfer.artefact
    records = HealthRecord.objects.current().filter(care_context_id=item.care_context_id, hi_type__in=artefact.hi_types)
    if transfer.date_from:
        records = records.filter(record_date__gte=timezone.localdate(transfer.date_from))
    if transfer.date_to:
        records = records.filter(record_date__lte=timezone.localdate(transfer.date_to))
    return list(records.select_related("facility", "patient").order_by("-record_date", "-id"))


def _bundle_json(care_context: CareContext, records: list[HealthRecord]) -> str:
    """The care context's document bundle of these records (fhir.care_context_bundle), as the JSON text sent."""
    return json.dumps(
        fhir.care_context_bundle(care_context, records=records), separators=(",", ":"), ensure_ascii=False
    )


def transfer_push(*, transfer_id: int) -> str | None:
    """One push attempt. Returns the transfer's status afterwards, or None when there was nothing to do.

    Outside any transaction while talking to the HIU; each accepted page's care contexts are marked sent (and their
    reads audited) in their own transaction, so a page the HIU did not accept is never counted as sent."""
    transfer = _claim(transfer_id)
    if transfer is None:
        return None
    artefact = transfer.artefact
    items = list(transfer.items.filter(status=HipTransferItemStatus.PENDING).select_related("care_context__patient"))
    if artefact.status != HipArtefactStatus.GRANTED or artefact.is_expired:
        _error_items(items, "The consent was revoked or expired before the data was sent.")
        return _finish(transfer)
    requester = transfer.key_material
    key_expiry = _date(_dict(requester.get("dhPublicKey")).get("expiry"))
    if key_expiry is not None and key_expiry <= timezone.now():
        _error_items(items, "The HIU's key expired before the data was sent.")
        return _finish(transfer)
    material = fidelius.generate_key_material()
    key = dataflow.push_key_material(
        public_key=material.public_key,
        nonce=material.nonce,
        expiry=(timezone.now() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    )
    pages, page, size = [], [], 0
    for item in items:
        records = _records_for(item, transfer)
        if not records:
            _error_items([item], "No records of the consented types in the consented dates.")
            continue
        content = _bundle_json(item.care_context, records)
        encrypted = fidelius.encrypt(
            content,
            sender_private_key=material.private_key,
            sender_nonce=material.nonce,
            requester_public_key=requester["dhPublicKey"]["keyValue"],
            requester_nonce=requester["nonce"],
        )
        entry = {
            "content": encrypted,
            "media": dataflow.MEDIA,
            "checksum": dataflow.checksum(content),
            "careContextReference": item.care_context_reference,
        }
        if page and size + len(encrypted) > PAGE_BYTES:
            pages.append(page)
            page, size = [], 0
        page.append((item, entry, records))
        size += len(encrypted)
    if page:
        pages.append(page)
    for number, page in enumerate(pages, start=1):
        try:
            dataflow.push_page(
                transfer.data_push_url,
                transaction_id=transfer.transaction_id,
                page_number=number,
                page_count=len(pages),
                entries=[entry for _, entry, _ in page],
                key_material=key,
            )
        except AbdmError as error:
            reason = f"{error.code}: {error.message}"[:300]
            if error.transient and transfer.push_attempts < PUSH_ATTEMPTS:
                return _try_later(transfer, reason)
            log.warning("Data push of transfer %s failed for good: %s", transfer.transaction_id, error.code)
            _error_items([item for item, _, _ in page], f"The HIU did not accept the data ({reason[:200]}).")
            continue
        _sent(transfer, page)
    return _finish(transfer)


def _try_later(transfer: HipTransfer, reason: str) -> str:
    delay = outbox.retry_delay(transfer.push_attempts)
    now = timezone.now()
    HipTransfer.objects.filter(pk=transfer.pk).update(
        last_push_error=reason, next_push_at=now + timedelta(seconds=delay), updated_at=now
    )
    log.info("Data push of transfer %s attempt %s failed; next in %ds", transfer.transaction_id, transfer.push_attempts,
             delay)  # fmt: skip
    push_health_information.apply_async((transfer.pk,), countdown=delay + 0.5)
    return transfer.status


def _error_items(items: list[HipTransferItem], reason: str) -> None:
    HipTransferItem.objects.filter(pk__in=[item.pk for item in items], status=HipTransferItemStatus.PENDING).update(
        status=HipTransferItemStatus.ERRORED, reason=reason[:255]
    )


@transaction.atomic
def _sent(transfer: HipTransfer, page: list) -> None:
    """The HIU accepted the page: its care contexts are sent, and each patient's access log says so."""
    now = timezone.now()
    artefact = transfer.artefact
    for item, entry, records in page:
        HipTransferItem.objects.filter(pk=item.pk).update(
            status=HipTransferItemStatus.TRANSFERRED,
            sent_at=now,
            checksum=entry["checksum"],
            records=[str(record.uuid) for record in records],
            hi_types=sorted({record.hi_type for record in records}),
            reason="",
        )
        audit_record(
            actor=None,
            action=selectors.READ_ACTION,
            target=item.care_context.patient,
            details={
                "basis": AccessBasis.CONSENT,
                "abdm": True,
                "facility": transfer.facility.facility_id,
                "facility_name": transfer.facility.name,
                "records": [str(record.uuid) for record in records],
                "hi_types": sorted({record.hi_type for record in records}),
                "source_facilities": [transfer.facility.name],
                "artefact": str(artefact.consent_id),
                "hiu": artefact.hiu_id,
                "hiu_name": artefact.hiu_name or artefact.hiu_id,
                "transaction_id": transfer.transaction_id,
                "care_context": item.care_context_reference,
            },
        )


def _finish(transfer: HipTransfer) -> str:
    """Every care context is sent or errored: record the outcome and queue the transfer notification, once."""
    with transaction.atomic():
        transfer = HipTransfer.objects.select_for_update().get(pk=transfer.pk)
        if transfer.status != HipTransferStatus.ACKNOWLEDGED:
            return transfer.status
        items = list(transfer.items.order_by("id"))
        sent = [item for item in items if item.status == HipTransferItemStatus.TRANSFERRED]
        if sent and len(sent) == len(items):
            transfer.status = HipTransferStatus.TRANSFERRED
        elif sent:
            transfer.status = HipTransferStatus.PARTLY_TRANSFERRED
        else:
            transfer.status = HipTransferStatus.FAILED
        transfer.pushed_at = timezone.now()
        transfer.next_push_at = None
        transfer.save()
        statuses = [
            (
                item.care_context_reference,
                item.status == HipTransferItemStatus.TRANSFERRED,
                "Transferred" if item.status == HipTransferItemStatus.TRANSFERRED else item.reason or "Not sent",
            )
            for item in items
        ]
        outbox.enqueue(
            kind=dataflow.TRANSFER_NOTIFY_KIND,
            method="POST",
            path=dataflow.HEALTH_INFORMATION_NOTIFY_PATH,
            json=dataflow.transfer_notify_body(
                consent_id=transfer.consent_id,
                transaction_id=transfer.transaction_id,
                done_at=client.timestamp(),
                hip_id=transfer.artefact.hip_id,
                statuses=statuses,
            ),
            subject=transfer,
        )
        return transfer.status


def _notified(message, body) -> None:
    transfer = HipTransfer.objects.filter(pk=message.subject_id).first()
    if transfer is not None and transfer.notified_at is None:
        transfer.notified_at = timezone.now()
        transfer.save(update_fields=["notified_at", "updated_at"])
        audit_record(
            actor=None,
            action=NOTIFIED_ACTION,
            target=transfer,
            details={"transaction_id": transfer.transaction_id, "status": transfer.status},
        )
