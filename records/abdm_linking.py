"""Care contexts linked on ABDM: HIP-initiated linking through the outbox, and user-initiated linking (discovery,
link init with an OTP, link confirm) answering the gateway's webhooks. The M2 bodies are abdm.linking's.

HIP-initiated linking, for every care context linked locally to an ABHA at a facility (records API, a visit from a
Scan & Share token, each row of a linking job, a review or a citizen's claim):

1. `links_add` writes one AbdmCareContextLink per care context (unique: a care context is linked on ABDM once) in
   the transaction that linked it locally. For a few care contexts it dispatches them at once (the outbox
   messages commit with the records); a linking job's chunk only writes its rows (one INSERT) and the
   `records.abdm_links_dispatch` task dispatches them after the commit, so the local part keeps its speed.
2. `dispatch` (per patient and HIP, under the token row's lock): with a valid link token, the pending care contexts
   go out in m2_hip_link_care_context calls of up to 20 (MAX_CARE_CONTEXTS); without one, one m2_generate_link_token
   is queued (one per patient and HIP at a time) and its callback dispatches them.
3. The link call's callback marks its care contexts linked (ABDM-1056 "already linked" counts as linked) and queues
   one m2_link_care_context_notify per call; an invalid or expired link token (ABDM-1026, -1038, -1062, -1063) is
   forgotten, the care contexts go back to pending and a new token is asked for (at most MAX_LINK_ATTEMPTS times);
   any other refusal marks them failed with ABDM's code (the job's error report lists them by row).
4. `links_sweep` (every minute): care contexts whose link call or token request got no callback within
   CALLBACK_WAIT (ABDM restarted in between) are sent again; ABDM answers a repeat with ABDM-1056, so each care
   context is linked once.

User-initiated linking (webhooks, each answered with an outbox call that echoes the webhook's REQUEST-ID):
discovery matches the patient on ABDM's verified identifiers (ABHA number, ABHA address), then on mobile + name +
gender + year of birth the way the linking job does (certain only on exactly one match: two close matches answer no
care contexts); the answer carries reference numbers and display names only. Link init sends an OTP by SMS to the
mobile the patient gave; link confirm checks it and links the chosen care contexts.
"""

import base64
import contextlib
import datetime as dt
import json
import logging
import os
from collections import defaultdict

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from abdm import callbacks, outbox
from abdm import linking as m2
from abdm.enums import OutboxStatus
from abdm.models import OutboxMessage
from abha.enums import AccountStatus
from abha.identifiers import address_full, address_local_part
from abha.models import AbhaAccount, AbhaAddress
from core.counters import count_add
from core.exceptions import DomainError
from core.otp import otp_issue, otp_matches
from core.services import audit_record
from core.sms import mask_mobile, send_on_commit
from facilities.models import Facility

from .linking.models import AbdmCareContextLink, AbdmDiscovery, AbdmLinkStatus, AbdmLinkToken
from .models import CareContext, HealthRecord
from .services import normal_name

log = logging.getLogger("records.abdm_linking")

MAX_CARE_CONTEXTS = m2.MAX_CARE_CONTEXTS
MAX_LINK_ATTEMPTS = 3  # link calls (with fresh tokens) for one care context before it is reported failed
INLINE_DISPATCH = 50  # links_add dispatches this many care contexts itself; more go to the dispatch task
TOKEN_MARGIN = dt.timedelta(seconds=60)  # a token this close to expiry is not used: the call may arrive after it
TOKEN_INVALID = {"ABDM-1026", "ABDM-1038", "ABDM-1062", "ABDM-1063"}
ALREADY_LINKED = "ABDM-1056"
# The dashboards' "records linked" as ABDM confirmed them: care contexts linked on ABDM, counted when the callback
# confirms them (core.counters; the local count, CountMetric.RECORDS_LINKED, stays beside it).
ABDM_LINKED_METRIC = "records_linked_abdm"
OTP_SECONDS = 600
OTP_ATTEMPTS = 3


def _seconds(name: str, default: int) -> int:
    """A duration setting: the Django setting when one is defined, else the environment, else `default`."""
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name) or default
    return max(int(value), 0)


def token_lifetime() -> dt.timedelta:
    """How long a link token is used when its own `exp` cannot be read. NHA's link-token drop says a token is valid
    for 6 months; a shorter default costs one token call per patient and HIP a day at most."""
    return dt.timedelta(seconds=_seconds("ABDM_LINK_TOKEN_SECONDS", 24 * 3600))


def callback_wait() -> dt.timedelta:
    """How long a sent call waits for its callback before the sweep sends it again."""
    return dt.timedelta(seconds=_seconds("ABDM_LINK_CALLBACK_WAIT_SECONDS", 300))


# --- Who the patient is on ABDM ------------------------------------------------------------------------------


def abha_address_of(account: AbhaAccount) -> str:
    """The patient's ABHA address: their primary one, else their number's default address."""
    local = (
        AbhaAddress.objects.filter(account=account)
        .order_by("-is_primary", "created_at")
        .values_list("local", flat=True)
    ).first()
    return address_full(local or account.abha_number)


def _patient_display(account: AbhaAccount) -> str:
    return account.full_name or account.abha_number


def _token_expiry(token: str, now) -> dt.datetime:
    """The token's `exp` when it is a JWT (read, not verified: ABDM checks it), else now + token_lifetime()."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return dt.datetime.fromtimestamp(int(claims["exp"]), tz=dt.UTC)
    except (IndexError, KeyError, ValueError, TypeError):
        return now + token_lifetime()


# --- Adding care contexts to link ----------------------------------------------------------------------------


def links_add(*, care_context_ids, job=None, row_numbers: dict | None = None, dispatch_now: bool | None = None) -> int:
    """Note care contexts (linked locally to a patient) to be linked on ABDM; call inside the transaction that
    linked them. Care contexts without a patient, or already noted, are skipped. `row_numbers` maps care context id
    -> the job's row number (for the error report). Returns how many were noted.

    Few care contexts are dispatched in this transaction (their outbox messages commit with them); a job's chunk
    (`dispatch_now` False, or more than INLINE_DISPATCH) is dispatched by a task after the commit.
    Queries: one read of the care contexts, one INSERT; then the dispatch (see `dispatch`)."""
    ids = list(care_context_ids)
    if not ids:
        return 0
    contexts = CareContext.objects.filter(pk__in=ids, patient__isnull=False).values_list(
        "pk", "facility_id", "patient_id"
    )
    row_numbers = row_numbers or {}
    new = [
        AbdmCareContextLink(
            care_context_id=pk,
            facility_id=facility_id,
            patient_id=patient_id,
            job=job,
            row_number=row_numbers.get(pk),
        )
        for pk, facility_id, patient_id in contexts
    ]
    if not new:
        return 0
    AbdmCareContextLink.objects.bulk_create(new, ignore_conflicts=True, batch_size=5000)
    pairs = sorted({(link.facility_id, link.patient_id) for link in new})
    if dispatch_now is None:
        dispatch_now = len(new) <= INLINE_DISPATCH
    if dispatch_now:
        for facility_id, patient_id in pairs:
            dispatch(facility_id=facility_id, patient_id=patient_id)
    else:
        _dispatch_after_commit(pairs)
    return len(new)


def dispatch_after_commit(pairs) -> None:
    """Queue `records.abdm_links_dispatch` for these sorted (facility id, patient id) pairs once the transaction
    that noted their care contexts commits (a linking chunk writes its AbdmCareContextLink rows in SQL)."""
    _dispatch_after_commit(pairs)


def _dispatch_after_commit(pairs) -> None:
    from .tasks import abdm_links_dispatch

    def queue():
        # Patients per dispatch task: a chunk of 10,000 rows queues one to three, not twenty (each send costs the
        # linking worker ~2 ms); 2 lakh rows still make dozens of tasks for the outbox's workers to share.
        step = getattr(settings, "ABDM_LINK_DISPATCH_PATIENTS", 4000)
        for start in range(0, len(pairs), step):
            part = [list(pair) for pair in pairs[start : start + step]]
            try:
                # argsrepr: Celery would otherwise format every pair into the message's headers (a tenth of a
                # second per chunk of 5,000 rows, in the linking job's transaction hooks).
                abdm_links_dispatch.apply_async((part,), argsrepr=f"[{len(part)} facility/patient pairs]")
            except Exception:  # noqa: BLE001 - the broker is down: the minute sweep dispatches pending links
                log.warning("ABDM link dispatch not queued (broker unreachable); the sweep does it")
                return

    transaction.on_commit(queue)


# --- Dispatch: a token, then link calls --------------------------------------------------------------------------


@transaction.atomic
def dispatch(*, facility_id: int, patient_id: int) -> int:
    """Send a patient's pending care contexts at one HIP: in link calls of up to MAX_CARE_CONTEXTS when a valid
    link token is at hand, else ask for one (unless a request is outstanding). Runs under the token row's lock, so
    two dispatches of the same patient never send a care context twice. Returns the link calls queued."""
    now = timezone.now()
    token, _created = AbdmLinkToken.objects.get_or_create(facility_id=facility_id, patient_id=patient_id)
    token = AbdmLinkToken.objects.select_for_update().select_related("facility", "patient").get(pk=token.pk)
    pending = list(
        AbdmCareContextLink.objects.filter(
            facility_id=facility_id, patient_id=patient_id, status=AbdmLinkStatus.PENDING
        )
        .select_related("care_context")
        .order_by("care_context_id")
    )
    if not pending:
        return 0
    if token.token and token.expires_at and token.expires_at > now + TOKEN_MARGIN:
        return _send_links(token, pending)
    if token.requested is None:
        _request_token(token, now)
    return 0


@transaction.atomic
def dispatch_many(pairs) -> int:
    """`dispatch` for many [facility id, patient id] pairs in one transaction, with a fixed number of reads for all of
    them (tokens, pending care contexts, addresses, hiTypes) and one insert per outbox message. The token rows are
    locked in id order, so two of these (or a callback's `dispatch`) never deadlock. Returns the link calls queued."""
    wanted = {(int(facility_id), int(patient_id)) for facility_id, patient_id in pairs}
    if not wanted:
        return 0
    now = timezone.now()
    facility_ids, patient_ids = {pair[0] for pair in wanted}, {pair[1] for pair in wanted}
    AbdmLinkToken.objects.bulk_create(
        [AbdmLinkToken(facility_id=facility_id, patient_id=patient_id) for facility_id, patient_id in sorted(wanted)],
        ignore_conflicts=True,
    )
    tokens = {
        (token.facility_id, token.patient_id): token
        for token in AbdmLinkToken.objects.select_for_update(of=("self",))
        .select_related("facility", "patient")
        .filter(facility_id__in=facility_ids, patient_id__in=patient_ids)
        .order_by("pk")
        if (token.facility_id, token.patient_id) in wanted
    }
    pending = defaultdict(list)
    for link in (
        AbdmCareContextLink.objects.filter(
            facility_id__in=facility_ids, patient_id__in=patient_ids, status=AbdmLinkStatus.PENDING
        )
        .select_related("care_context")
        .order_by("care_context_id")
    ):
        pending[(link.facility_id, link.patient_id)].append(link)
    addresses = {}
    for account_id, local in (
        AbhaAddress.objects.filter(account_id__in=patient_ids)
        .order_by("account_id", "-is_primary", "created_at")
        .values_list("account_id", "local")
    ):
        addresses.setdefault(account_id, address_full(local))
    hi_types = _hi_types([link.care_context_id for links in pending.values() for link in links])
    calls = 0
    for pair, token in sorted(tokens.items()):
        links = pending.get(pair)
        if not links:
            continue
        address = addresses.get(token.patient_id) or address_full(token.patient.abha_number)
        if token.token and token.expires_at and token.expires_at > now + TOKEN_MARGIN:
            calls += _send_links(token, links, address=address, hi_types=hi_types)
        elif token.requested is None:
            _request_token(token, now, address=address)
    return calls


def _request_token(token: AbdmLinkToken, now, *, address: str | None = None) -> None:
    patient = token.patient
    body = m2.link_token_body(
        abha_number=patient.abha_number,
        abha_address=address or abha_address_of(patient),
        name=_patient_display(patient),
        gender=patient.gender,
        year_of_birth=patient.year_of_birth,
    )
    message = m2.link_token_enqueue(hip_id=token.facility.facility_id, body=body, subject=token.facility)
    token.token, token.expires_at = "", None
    token.requested, token.requested_at = message.request_id, now
    token.save()


def _hi_types(care_context_ids) -> dict[int, set]:
    found = defaultdict(set)
    rows = HealthRecord.objects.filter(care_context_id__in=care_context_ids, is_current=True).values_list(
        "care_context_id", "hi_type"
    )
    for cc_id, hi_type in rows.distinct():
        found[cc_id].add(hi_type)
    return found


def _send_links(
    token: AbdmLinkToken, pending: list[AbdmCareContextLink], *, address: str | None = None, hi_types=None
) -> int:
    patient, facility = token.patient, token.facility
    address = address or abha_address_of(patient)
    if hi_types is None:
        hi_types = _hi_types([link.care_context_id for link in pending])
    calls = 0
    for start in range(0, len(pending), MAX_CARE_CONTEXTS):
        batch = pending[start : start + MAX_CARE_CONTEXTS]
        entry = m2.care_context_entry(
            patient_reference=str(patient.uuid),
            patient_display=_patient_display(patient),
            care_contexts=[
                {"referenceNumber": link.care_context.reference, "display": link.care_context.display} for link in batch
            ],
            hi_types={hi_type for link in batch for hi_type in hi_types.get(link.care_context_id, ())},
        )
        body = m2.link_care_context_body(abha_number=patient.abha_number, abha_address=address, entry=entry)
        message = m2.link_care_context_enqueue(
            hip_id=facility.facility_id, link_token=token.token, body=body, subject=facility
        )
        AbdmCareContextLink.objects.filter(pk__in=[link.pk for link in batch]).update(
            status=AbdmLinkStatus.SENT,
            batch=message.request_id,
            attempts=F("attempts") + 1,
            error_code="",
            error_message="",
        )
        calls += 1
    return calls


# --- Outcomes (outbox handlers, in the transaction that records the callback) ----------------------------------


def _error(body) -> tuple[str, str] | None:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and (error.get("code") or error.get("message")):
        return str(error.get("code") or "").removesuffix(": ")[:50], str(error.get("message") or "")[:300]
    return None


def on_token(message: OutboxMessage, body) -> None:
    """m2_on_generate_token_result: keep the token and send the patient's pending care contexts with it."""
    token = AbdmLinkToken.objects.select_for_update().filter(requested=message.request_id).first()
    if token is None:
        return  # a late answer to a request the sweep already replaced
    now = timezone.now()
    error = _error(body)
    link_token = body.get("linkToken") if isinstance(body, dict) else None
    if error is not None or not link_token:
        code, text = error or ("bad_reply", "No link token in the answer")
        _token_refused(token, code, text)
        return
    token.token, token.expires_at = str(link_token), _token_expiry(str(link_token), now)
    token.requested = token.requested_at = None
    token.error_code, token.failures = "", 0
    token.save()
    dispatch(facility_id=token.facility_id, patient_id=token.patient_id)


def on_token_failed(message: OutboxMessage) -> None:
    """The generate-token call was refused (4xx) or given up: the patient's pending care contexts fail with it."""
    token = AbdmLinkToken.objects.select_for_update().filter(requested=message.request_id).first()
    if token is not None:
        _token_refused(token, message.error_code or "failed", message.last_error)


def _token_refused(token: AbdmLinkToken, code: str, text: str) -> None:
    token.requested = token.requested_at = None
    token.token, token.expires_at = "", None
    token.error_code = code[:50]
    token.failures += 1
    token.save()
    _fail(
        AbdmCareContextLink.objects.filter(
            facility_id=token.facility_id, patient_id=token.patient_id, status=AbdmLinkStatus.PENDING
        ),
        code,
        text,
    )


def _fail(links, code: str, text: str) -> int:
    return links.update(status=AbdmLinkStatus.FAILED, error_code=code[:50], error_message=text[:300], batch=None)


def _linked(links, now) -> int:
    """Mark these care contexts linked on ABDM and count them on the dashboards (per facility and district)."""
    by_facility = list(
        links.values("facility_id", "facility__district_id")
        .annotate(n=Count("pk"))
        .values_list("facility_id", "facility__district_id", "n")
    )
    updated = links.update(status=AbdmLinkStatus.LINKED, linked_at=now, error_code="", error_message="")
    for facility_id, district_id, count in by_facility:
        count_add(metric=ABDM_LINKED_METRIC, district_lgd=district_id, facility_key=facility_id, delta=count)
    return updated


def on_care_context(message: OutboxMessage, body) -> None:
    """m2_on_carecontext_result: the call's care contexts are linked (then the context notify), or refused."""
    links = AbdmCareContextLink.objects.filter(batch=message.request_id, status=AbdmLinkStatus.SENT)
    error = _error(body)
    if error is None or error[0] == ALREADY_LINKED:
        _notify(message)
        _linked(links, timezone.now())
        return
    _link_refused(message, links, *error)


def on_care_context_failed(message: OutboxMessage) -> None:
    links = AbdmCareContextLink.objects.filter(batch=message.request_id, status=AbdmLinkStatus.SENT)
    code = message.error_code or "failed"
    if code == ALREADY_LINKED:
        _linked(links, timezone.now())
        return
    _link_refused(message, links, code, message.last_error)


def _link_refused(message: OutboxMessage, links, code: str, text: str) -> None:
    if code not in TOKEN_INVALID:
        _fail(links, code, text)
        return
    # The token was refused (expired before the call went out, say): forget it and try again with a new one.
    first = links.first()
    if first is None:
        return
    AbdmLinkToken.objects.filter(facility_id=first.facility_id, patient_id=first.patient_id).update(
        token="", expires_at=None
    )
    _fail(links.filter(attempts__gte=MAX_LINK_ATTEMPTS), code, text)
    links.filter(attempts__lt=MAX_LINK_ATTEMPTS).update(status=AbdmLinkStatus.PENDING, batch=None)
    dispatch(facility_id=first.facility_id, patient_id=first.patient_id)


def _notify(message: OutboxMessage) -> None:
    """One m2_link_care_context_notify per linked call, naming its newest care context (ABHA apps show 'new
    records at <facility>'; a notify per care context would multiply the calls by the batch size)."""
    try:
        entry = message.body["patient"][0]
        address = message.body["abhaAddress"]
        hip_id = message.headers["X-HIP-ID"]
        reference = entry["careContexts"][-1]["referenceNumber"]
    except (KeyError, IndexError, TypeError):
        return
    facility = Facility.objects.filter(facility_id=hip_id).only("pk", "name", "facility_id").first()
    if facility is None:
        return
    context = CareContext.objects.filter(facility=facility, reference=reference).only("date").first()
    when = dt.datetime.combine(context.date if context else timezone.localdate(), dt.time(), tzinfo=dt.UTC)
    body = m2.context_notify_body(
        abha_address=address,
        patient_reference=entry["referenceNumber"],
        care_context_reference=reference,
        hi_types=entry.get("hiType") or [],
        date=when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        hip_id=hip_id,
        hip_name=facility.name[:100],
    )
    m2.context_notify_enqueue(hip_id=hip_id, body=body, subject=facility)


def on_notify(message: OutboxMessage, body) -> None:
    status = (body.get("acknowledgement") or {}).get("status") if isinstance(body, dict) else None
    if status != "SUCCESS":
        log.warning("Context notify %s answered %s", message.request_id, status or _error(body))


# --- The sweep ---------------------------------------------------------------------------------------------------


def links_sweep(*, wait: dt.timedelta | None = None, limit: int = 2000) -> int:
    """Send again what ABDM never answered, and dispatch care contexts nobody is moving. Returns the patients
    dispatched. Every minute (records.abdm_links_sweep); tests call it with `wait` 0."""
    wait = callback_wait() if wait is None else wait
    cutoff = timezone.now() - wait
    # Link calls whose callback never came (answered 202, then ABDM lost it), or whose outcome was recorded without
    # its handler running: their care contexts go back to pending. Starts from the care contexts in flight (few),
    # never from the whole outbox.
    in_flight = AbdmCareContextLink.objects.filter(status=AbdmLinkStatus.SENT).values("batch")
    stuck = OutboxMessage.objects.filter(request_id__in=in_flight).filter(
        Q(status=OutboxStatus.AWAITING_CALLBACK, sent_at__lte=cutoff)
        | Q(status__in=[OutboxStatus.DONE, OutboxStatus.FAILED, OutboxStatus.ABANDONED])
    )
    batches = list(stuck.values_list("request_id", flat=True)[:limit])
    AbdmCareContextLink.objects.filter(batch__in=batches, status=AbdmLinkStatus.SENT).update(
        status=AbdmLinkStatus.PENDING, batch=None
    )
    # Token requests the same way: forgotten, so that dispatch asks again.
    requested = AbdmLinkToken.objects.filter(requested__isnull=False, requested_at__lte=cutoff).values("requested")
    silent_tokens = OutboxMessage.objects.filter(request_id__in=requested).filter(
        Q(status=OutboxStatus.AWAITING_CALLBACK, sent_at__lte=cutoff)
        | Q(status__in=[OutboxStatus.DONE, OutboxStatus.FAILED, OutboxStatus.ABANDONED])
    )
    AbdmLinkToken.objects.filter(requested__in=list(silent_tokens.values_list("request_id", flat=True)[:limit])).update(
        requested=None, requested_at=None
    )
    pairs = list(
        AbdmCareContextLink.objects.filter(status=AbdmLinkStatus.PENDING)
        .values_list("facility_id", "patient_id")
        .distinct()[:limit]
    )
    for start in range(0, len(pairs), 200):
        dispatch_many(pairs[start : start + 200])
    return len(pairs)


# --- Reads for pages ---------------------------------------------------------------------------------------------


OPEN_JOB_PROGRESS_SECONDS = 3


def job_abdm_progress(job) -> dict:
    """{"total", "linked", "failed", "waiting"} of a job's care contexts on ABDM. One query.

    The query counts the job's care contexts (tens of milliseconds at 2 lakh), and clients poll a running job
    often (the page every second, API clients faster): while the job is still linking locally, the counts are
    shared from the cache for a few seconds, so polling does not take the database from the job itself."""
    if not job.is_open:
        return _job_abdm_counts(job)
    key = f"records:linking-abdm-progress:{job.pk}"
    try:
        counts = cache.get(key)
    except Exception:  # noqa: BLE001 - the cache is down: count (as for a finished job)
        return _job_abdm_counts(job)
    if counts is None:
        counts = _job_abdm_counts(job)
        with contextlib.suppress(Exception):  # the cache is down: the next poll counts again
            cache.set(key, counts, OPEN_JOB_PROGRESS_SECONDS)
    return counts


def _job_abdm_counts(job) -> dict:
    counts = AbdmCareContextLink.objects.filter(job=job).aggregate(
        total=Count("pk"),
        linked=Count("pk", filter=Q(status=AbdmLinkStatus.LINKED)),
        failed=Count("pk", filter=Q(status=AbdmLinkStatus.FAILED)),
    )
    counts["waiting"] = counts["total"] - counts["linked"] - counts["failed"]
    return counts


def job_abdm_failures(job):
    """(row number, ABDM code, ABDM message) of the job's care contexts ABDM refused, by row."""
    return (
        AbdmCareContextLink.objects.filter(job=job, status=AbdmLinkStatus.FAILED)
        .order_by("row_number", "care_context_id")
        .values_list("row_number", "error_code", "error_message")
    )


def linked_on_abdm(*, facility_ids=None, district_id=None) -> int:
    """Care contexts ABDM confirmed as linked (at these facilities / in this district)."""
    links = AbdmCareContextLink.objects.filter(status=AbdmLinkStatus.LINKED)
    if facility_ids is not None:
        links = links.filter(facility_id__in=facility_ids)
    if district_id is not None:
        links = links.filter(facility__district_id=district_id)
    return links.count()


# --- User-initiated linking: discovery, link init, link confirm ----------------------------------------------


def _identifier(identifiers, kind: str) -> str:
    for item in identifiers or []:
        if isinstance(item, dict) and item.get("type") == kind and item.get("value"):
            return str(item["value"]).strip()
    return ""


def discovery_match(patient: dict) -> AbhaAccount | None:
    """The one account the discovery request names: by a verified ABHA number or address, else by the verified
    mobile with name, gender and year of birth all equal, and only when exactly one account matches that way and
    no other account on the mobile is close (same name, or same gender and year): never a guess."""
    verified = patient.get("verifiedIdentifiers") or []
    number = "".join(ch for ch in _identifier(verified, "ABHA_NUMBER") if ch.isdigit())
    address = _identifier(verified, "ABHA_ADDRESS") or str(patient.get("id") or "")
    active = AbhaAccount.objects.filter(status=AccountStatus.ACTIVE)
    if number:
        return active.filter(abha_number=number).first()
    local = address_local_part(address) if address else ""
    if local:
        account = active.filter(addresses__local=local.lower()).first()
        if account is not None:
            return account
        if local.isdigit():
            return active.filter(abha_number=local).first()
    mobile = _identifier(verified, "MOBILE")[-10:]
    if not mobile:
        return None
    name = normal_name(str(patient.get("name") or ""))
    gender, year = str(patient.get("gender") or ""), patient.get("yearOfBirth")
    exact, close = [], []
    for account in active.filter(mobile=mobile):
        names = {normal_name(account.full_name), normal_name(f"{account.first_name} {account.last_name}")}
        same_name = name in names
        same_facts = account.gender == gender and account.year_of_birth == year
        if same_name and same_facts:
            exact.append(account)
        elif same_name or same_facts:
            close.append(account)
    return exact[0] if len(exact) == 1 and not close else None


def _unlinked_matches(facility: Facility, account: AbhaAccount):
    """Visits the facility kept by demographics that are this person's beyond doubt: same mobile, name, gender and
    year of birth. Visits already linked to the patient are offered too (linking is idempotent on ABDM)."""
    name = normal_name(account.full_name)
    candidates = CareContext.objects.filter(
        facility=facility,
        patient__isnull=True,
        patient_mobile=account.mobile,
        patient_gender=account.gender,
        patient_year_of_birth=account.year_of_birth,
    )
    return [context for context in candidates if normal_name(context.patient_name) == name]


def _entry(account: AbhaAccount, contexts: list[CareContext]) -> dict:
    hi_types = _hi_types([context.pk for context in contexts])
    return m2.care_context_entry(
        patient_reference=str(account.uuid),
        patient_display=_patient_display(account),
        care_contexts=[{"referenceNumber": context.reference, "display": context.display} for context in contexts],
        hi_types={hi_type for context in contexts for hi_type in hi_types.get(context.pk, ())},
    )


def _hip(headers: dict) -> Facility | None:
    hip_id = str(headers.get("X-Hip-Id") or headers.get("X-HIP-ID") or "").strip().upper()
    return Facility.objects.filter(facility_id=hip_id).first() if hip_id else None


def on_discover_request(request_id: str, body: dict, headers: dict) -> None:
    """The discovery webhook: match the patient, answer on-discover with reference numbers and display names (at
    most 20 care contexts, the newest; `patient` empty when nobody or nobody for certain matches)."""
    transaction_id = str(body.get("transactionId") or "")[:100]
    patient = body.get("patient") if isinstance(body.get("patient"), dict) else {}
    facility = _hip(headers)
    if not transaction_id:
        raise DomainError("transactionId is required")
    account = discovery_match(patient) if facility is not None else None
    contexts = []
    if account is not None:
        contexts = list(
            CareContext.objects.filter(facility=facility, patient=account).order_by("-date", "-id")[:MAX_CARE_CONTEXTS]
        )
        contexts += _unlinked_matches(facility, account)[: MAX_CARE_CONTEXTS - len(contexts)]
    entries = [_entry(account, contexts)] if contexts else []
    if contexts:
        AbdmDiscovery.objects.update_or_create(
            transaction_id=transaction_id,
            defaults={
                "facility": facility,
                "patient": account,
                "abha_address": str(patient.get("id") or abha_address_of(account))[:100],
                "care_context_ids": [context.pk for context in contexts],
            },
        )
    m2.on_discover_enqueue(transaction_id=transaction_id, request_id=request_id, entries=entries, subject=facility)
    audit_record(
        actor=None,
        action="records.abdm_discover",
        target=facility,
        details={"transaction": transaction_id, "matched": account is not None, "care_contexts": len(contexts)},
    )


def on_link_init_request(request_id: str, body: dict, headers: dict) -> None:
    """The link-init webhook: the chosen care contexts must be among those discovery offered; an OTP goes to the
    patient's mobile by SMS and on-init answers with the link reference and when the OTP expires."""
    transaction_id = str(body.get("transactionId") or "")[:100]
    discovery = AbdmDiscovery.objects.select_for_update().filter(transaction_id=transaction_id).first()
    if discovery is None:
        raise DomainError("Invalid TransactionId")
    wanted = {
        str(item.get("referenceNumber"))
        for entry in body.get("patient") or []
        if isinstance(entry, dict)
        for item in entry.get("careContexts") or []
        if isinstance(item, dict)
    }
    offered = dict(CareContext.objects.filter(pk__in=discovery.care_context_ids).values_list("reference", "pk"))
    chosen = [offered[reference] for reference in sorted(wanted) if reference in offered]
    if not chosen or len(chosen) != len(wanted):
        raise DomainError("Invalid Care Contexts")
    account = discovery.patient
    code, discovery.otp_hash = otp_issue(f"abdm-link:{discovery.link_reference}")
    discovery.chosen_ids = chosen
    discovery.otp_expires_at = timezone.now() + dt.timedelta(seconds=OTP_SECONDS)
    discovery.failed_attempts = 0
    discovery.save()
    text = _("%(otp)s is your OTP to link your records at %(facility)s to your ABHA. Do not share it.") % {
        "otp": code,
        "facility": discovery.facility.name,
    }
    send_on_commit(to=account.mobile, text=text)
    expiry = discovery.otp_expires_at.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    m2.on_init_enqueue(
        transaction_id=transaction_id,
        request_id=request_id,
        link_reference=str(discovery.link_reference),
        hint=mask_mobile(account.mobile),
        expiry=expiry,
        subject=discovery.facility,
    )


def _otp_text(token) -> str:
    """The OTP as typed: the spec types `token` as an integer, which drops an OTP's leading zeros."""
    if isinstance(token, int) and not isinstance(token, bool):
        return f"{token:06d}"
    return str(token or "").strip()


def on_link_confirm_request(request_id: str, body: dict, headers: dict) -> None:
    """The link-confirm webhook: the OTP must match (OTP_ATTEMPTS tries, OTP_SECONDS); the chosen care contexts
    are linked to the patient locally (unlinked visits are given to them) and on-confirm lists them. These care
    contexts are linked on ABDM by this answer, so they are noted as linked (no HIP-initiated call follows)."""
    confirmation = body.get("confirmation") if isinstance(body.get("confirmation"), dict) else {}
    reference = str(confirmation.get("linkRefNumber") or "")
    try:
        discovery = AbdmDiscovery.objects.select_for_update().filter(link_reference=reference).first()
    except (ValueError, DomainError):
        discovery = None
    if discovery is None or not discovery.otp_hash:
        raise DomainError("Invalid Link Reference Number")
    now = timezone.now()
    if discovery.confirmed_at is not None:
        raise DomainError("Duplicate Confirm request")
    refusal = None
    if discovery.otp_expires_at <= now or discovery.failed_attempts >= OTP_ATTEMPTS:
        refusal = {"code": "ABDM-1006", "message": "OTP expired, please start again"}
    elif not otp_matches(f"abdm-link:{discovery.link_reference}", _otp_text(confirmation.get("token")),
                         discovery.otp_hash):  # fmt: skip
        discovery.failed_attempts += 1
        discovery.save(update_fields=["failed_attempts"])
        refusal = {"code": "ABDM-1006", "message": "Invalid OTP"}
    if refusal is not None:
        m2.on_confirm_enqueue(request_id=request_id, entries=[], error=refusal, subject=discovery.facility)
        return
    account, facility = discovery.patient, discovery.facility
    unlinked = list(
        CareContext.objects.filter(pk__in=discovery.chosen_ids, patient__isnull=True).values_list("pk", flat=True)
    )
    if unlinked:
        from .services.link_requests import visits_link

        visits_link(care_context_ids=unlinked, account=account, facility=facility)
    contexts = list(CareContext.objects.filter(pk__in=discovery.chosen_ids, patient=account).order_by("-date", "-id"))
    AbdmCareContextLink.objects.bulk_create(
        [AbdmCareContextLink(care_context=context, facility=facility, patient=account) for context in contexts],
        ignore_conflicts=True,
    )
    _linked(AbdmCareContextLink.objects.filter(care_context__in=contexts).exclude(status=AbdmLinkStatus.LINKED), now)
    discovery.confirmed_at = now
    discovery.save(update_fields=["confirmed_at"])
    m2.on_confirm_enqueue(
        request_id=request_id, entries=[_entry(account, contexts)] if contexts else [], subject=facility
    )
    audit_record(
        actor=None,
        action="records.abdm_link_confirm",
        target=facility,
        details={"care_contexts": len(contexts), "link_reference": str(discovery.link_reference)},
    )


# --- Registration ------------------------------------------------------------------------------------------------


def register() -> None:
    """From RecordsConfig.ready(): the webhooks and the outbox kinds of linking."""
    callbacks.register_callback(m2.ON_GENERATE_TOKEN_WEBHOOK)
    callbacks.register_callback(m2.ON_CARE_CONTEXT_WEBHOOK)
    callbacks.register_callback(m2.ON_CONTEXT_NOTIFY_WEBHOOK)
    callbacks.register_callback(m2.DISCOVER_WEBHOOK, on_discover_request)
    callbacks.register_callback(m2.LINK_INIT_WEBHOOK, on_link_init_request)
    callbacks.register_callback(m2.LINK_CONFIRM_WEBHOOK, on_link_confirm_request)
    outbox.register_handler(m2.TOKEN_KIND, on_success=on_token, on_failure=on_token_failed)
    outbox.register_handler(m2.LINK_KIND, on_success=on_care_context, on_failure=on_care_context_failed)
    outbox.register_handler(m2.NOTIFY_KIND, on_success=on_notify)
