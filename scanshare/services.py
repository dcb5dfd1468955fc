"""Scan & Share writes: issue a token (gap-free per counter and day), and the staff's call / done / no-show."""

import datetime
import json
import re
import secrets

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import access
from core.exceptions import Conflict, DomainError, NotAllowed, NotFound
from core.services import audit_record, client_ip
from core.sms import mask_mobile
from facilities import posters
from facilities.enums import FacilityStatus
from facilities.models import Counter, Facility

from . import selectors
from .enums import ShareSource, TokenStatus
from .models import DisplayKey, ScanToken

HIP_ID = re.compile(r"^IN[0-9]{10}$")


def abdm_counter_code_problem(counter: Counter) -> str:
    """Why ABDM's Scan & Share cannot take `counter`'s code ("" when it can): ABDM allows 1 to 20 letters and digits,
    not the facility's ID or name (facilities.posters.ABDM_COUNTER_CODE). No query (the facility is loaded)."""
    if posters.abdm_counter_code_allowed(counter):
        return ""
    if not posters.ABDM_COUNTER_CODE.match(counter.code or ""):
        return _("ABDM allows only 1 to 20 letters and digits in a counter code.")
    return _("ABDM does not allow the facility's ID or name as a counter code.")


def validity() -> datetime.timedelta:
    return datetime.timedelta(minutes=settings.SCAN_TOKEN_VALIDITY_MINUTES)


def _qr_parts(hip_id: str, counter_code: str) -> tuple[str, str]:
    """The facility ID and counter code a QR names, cleaned; a DomainError when they cannot be ours."""
    hip_id = str(hip_id or "").strip().upper()
    counter_code = str(counter_code or "").strip().upper()
    if not hip_id or not counter_code:
        raise DomainError(
            _("This link has no facility or counter. Scan the QR code at the counter again."), code="scan_incomplete"
        )
    if not HIP_ID.match(hip_id):
        raise DomainError(
            _("This QR code is not from this portal. Scan the Scan & Share poster at the counter."),
            code="foreign_qr",
        )
    return hip_id, counter_code


def counter_for_scan(*, hip_id: str, counter_code: str) -> Counter:
    """The active counter of a verified facility that a QR names, or a DomainError saying what is wrong.

    One query when the QR is good (more only to say what is wrong). A QR from another portal carries an ID
    that is not ours.
    """
    hip_id, counter_code = _qr_parts(hip_id, counter_code)
    # The usual case, one query: the QR names an active counter of a verified facility.
    counter = (
        Counter.objects.select_related("facility")
        .filter(facility__facility_id=hip_id, facility__status=FacilityStatus.VERIFIED, code=counter_code, active=True)
        .first()
    )
    if counter is not None:
        return counter
    facility = Facility.objects.filter(facility_id=hip_id).first()
    if facility is None:
        raise NotFound(_("No facility has the ID %(hip_id)s.") % {"hip_id": hip_id}, code="unknown_facility")
    if facility.status != FacilityStatus.VERIFIED:
        raise Conflict(
            _("%(facility)s is not verified, so it cannot take shares.") % {"facility": facility.name},
            code="facility_not_verified",
        )
    if not Counter.objects.filter(facility=facility, code=counter_code).exists():
        raise NotFound(
            _("%(facility)s has no counter %(code)s.") % {"facility": facility.name, "code": counter_code},
            code="unknown_counter",
        )
    raise Conflict(
        _("Counter %(code)s at %(facility)s is closed. Please ask at the help desk.")
        % {"code": counter_code, "facility": facility.name},
        code="counter_inactive",
    )


def _age(account, today: datetime.date) -> int:
    month, day = account.month_of_birth or 1, account.day_of_birth or 1
    return today.year - account.year_of_birth - ((today.month, today.day) < (month, day))


def profile_snapshot(account, *, today: datetime.date | None = None) -> dict:
    """What the patient shares: name, ABHA number and address, gender, age, masked mobile, address.

    One query (the primary ABHA address); `account.district` should be select_related.
    """
    today = today or timezone.localdate()
    primary = account.primary_address
    place = ", ".join(part for part in (account.address, account.district.name if account.district_id else "") if part)
    return {
        "name": account.full_name,
        "abha_number": account.abha_number_display,
        "abha_address": primary.full if primary else "",
        "gender": account.gender,
        "gender_display": str(account.get_gender_display()),
        "year_of_birth": account.year_of_birth,
        "age": _age(account, today),
        "mobile": mask_mobile(account.mobile),
        "address": f"{place} {account.pincode}".strip(),
    }


def token_issue(*, account, actor, hip_id: str, counter_code: str, request=None) -> tuple[ScanToken, bool]:
    """Shares `account`'s profile at a counter and returns (token, created); `actor` is the citizen's own user.

    A repeat share at the same counter while the earlier token is open and valid returns that token
    (created=False). Otherwise the counter's ScanSequence row gives the next number, and the token, its audit row
    and the dashboard count are written in the same transaction. All of it is one SQL call,
    `scanshare_share_issue` (the morning rush: see migration scanshare 0002): two queries in all with the
    profile's ABHA address; more only to say what is wrong with a bad QR.
    """
    if actor.pk != account.user_id:
        raise NotAllowed(_("Only the patient can share their own profile."), code="not_own_account")
    hip_id, counter_code = _qr_parts(hip_id, counter_code)
    if not account.is_active:
        counter_for_scan(hip_id=hip_id, counter_code=counter_code)  # a bad QR is said first
        raise _inactive_account()
    now = timezone.now()
    day = timezone.localdate(now)
    profile = profile_snapshot(account, today=day)
    params = [
        hip_id,
        counter_code,
        account.pk,
        actor.pk,
        actor.get_username()[:200],
        now,
        day,
        now + validity(),
        json.dumps(profile),
        client_ip(request),
        ShareSource.PORTAL,
        str(profile["abha_address"] or "").lower()[:100],
    ]
    return _token_from_row(_issue_or_explain(params, hip_id, counter_code), account)


def _issue_or_explain(params: list, hip_id: str, counter_code: str) -> tuple:
    row = _issue(params)
    if row is None:  # not an active counter of a verified facility: say what is wrong
        counter_for_scan(hip_id=hip_id, counter_code=counter_code)
        # The counter was opened a moment ago, between the two looks: share again.
        row = _issue(params)
        if row is None:
            # The counter keeps changing under us (opened and closed again): a rare race, so a generic answer.
            raise Conflict(_("The service is briefly unavailable. Please try again in a few seconds."), code="retry")
    return row


def abdm_token_issue(
    *, counter: Counter, account, profile: dict, abha_address: str, request_id: str
) -> tuple[ScanToken, bool]:
    """Issues the token for a profile the ABHA app shared through ABDM at `counter` (an active counter of a verified
    facility, checked by the caller) and returns (token, created).

    `account` is the portal's copy of the sharer's ABHA (None for an address-only ABHA); `profile` is what ABDM
    shared, as the queue shows it (`profile_from_abdm`). A repeat share at the counter while the earlier token is
    open and valid returns that token (created=False): the same patient, or without one the same ABHA address.
    Numbering, audit row (actor: nobody, labelled as ABDM's share with its REQUEST-ID) and dashboard count are those
    of the portal's share, in the caller's transaction: one SQL call.
    """
    now = timezone.now()
    params = [
        counter.facility.facility_id,
        counter.code,
        account.pk if account is not None else None,
        None,
        f"ABDM share {request_id}"[:200],
        now,
        timezone.localdate(now),
        now + validity(),
        json.dumps(profile),
        None,
        ShareSource.ABDM,
        abha_address.lower()[:100],
    ]
    return _token_from_row(_issue_or_explain(params, counter.facility.facility_id, counter.code), account)


def _inactive_account() -> NotAllowed:
    return NotAllowed(_("Your ABHA is not active, so it cannot be shared. Reactivate it first."), code="abha_inactive")


_ISSUE = (
    "SELECT * FROM scanshare_share_issue(%s::text, %s::text, %s::bigint, %s::bigint, %s::text, "
    "%s::timestamptz, %s::date, %s::timestamptz, %s::jsonb, %s::inet, %s::text, %s::text)"
)


def _issue(params: list) -> tuple | None:
    """One call of the SQL function (its own transaction unless the caller has one): the token's row or None."""
    with connection.cursor() as cursor:
        cursor.execute(_ISSUE, params)
        return cursor.fetchone()


def _loaded(model, **values):
    """An instance as if read from the database with just these fields (any other field is read on access)."""
    names = [field.attname for field in model._meta.concrete_fields if field.attname in values]
    return model.from_db(connection.alias, names, [values[name] for name in names])


def _token_from_row(row, account) -> tuple[ScanToken, bool]:
    (
        created,
        token_id,
        token_uuid,
        number,
        status,
        day,
        issued_at,
        valid_until,
        profile,
        counter_id,
        counter_uuid,
        counter_code,
        counter_name,
        facility_pk,
        facility_uuid,
        hip_id,
        facility_name,
    ) = row
    facility = _loaded(Facility, id=facility_pk, uuid=facility_uuid, facility_id=hip_id, name=facility_name)
    counter = _loaded(
        Counter, id=counter_id, uuid=counter_uuid, facility_id=facility_pk, code=counter_code, name=counter_name
    )
    counter.facility = facility
    token = _loaded(
        ScanToken,
        id=token_id,
        uuid=token_uuid,
        facility_id=facility_pk,
        counter_id=counter_id,
        day=day,
        number=number,
        patient_id=account.pk if account is not None else None,
        profile=json.loads(profile),
        status=status,
        issued_at=issued_at,
        valid_until=valid_until,
    )
    token.facility, token.counter, token.patient = facility, counter, account
    return token, created


# --- Staff at the counter ---------------------------------------------------------------------

_TRANSITIONS = {
    "call": ({TokenStatus.WAITING}, TokenStatus.CALLED),
    "done": ({TokenStatus.CALLED, TokenStatus.WAITING}, TokenStatus.DONE),
    "no_show": ({TokenStatus.WAITING, TokenStatus.CALLED}, TokenStatus.NO_SHOW),
}


def _require_staff(actor, facility) -> None:
    if not access.can(actor, "act_for", facility):
        raise NotAllowed(_("Only this facility's staff can run its counters."))


@transaction.atomic
def token_move(*, token: ScanToken, actor, step: str, request=None) -> ScanToken:
    """Moves a token one step ("call", "done" or "no_show"): a conditional update, so two staff pressing at
    once move it once and the second gets a Conflict. Audits `scan_share.<step>`."""
    _require_staff(actor, token.facility)
    allowed, target = _TRANSITIONS[step]
    now = timezone.now()
    changes = {"status": target, "handled_by": actor, "updated_at": now}
    changes["called_at" if target == TokenStatus.CALLED else "closed_at"] = now
    moved = ScanToken.objects.filter(pk=token.pk, status__in=allowed).update(**changes)
    if not moved:
        token.refresh_from_db(fields=["status"])
        raise Conflict(
            _("Token %(number)s is already %(status)s.")
            % {"number": token.number, "status": token.get_status_display().lower()},
            code="token_state",
        )
    token.refresh_from_db()
    audit_record(
        actor=actor, action=f"scan_share.{step}", target=token, details={"number": token.number}, request=request
    )
    return token


@transaction.atomic
def token_call_next(*, counter: Counter, actor, request=None) -> ScanToken | None:
    """Calls the lowest waiting token of today at `counter` (None when nobody waits).

    Waiting tokens past their validity are marked expired first. The row is claimed with
    `select_for_update(skip_locked=True)`, so two staff pressing "Call next" call two different patients.
    """
    _require_staff(actor, counter.facility)
    now = timezone.now()
    today = timezone.localdate(now)
    waiting = ScanToken.objects.filter(counter=counter, day=today, status=TokenStatus.WAITING)
    waiting.filter(valid_until__lte=now).update(status=TokenStatus.EXPIRED, closed_at=now, updated_at=now)
    token = waiting.filter(valid_until__gt=now).order_by("number").select_for_update(skip_locked=True).first()
    if token is None:
        return None
    return token_move(token=token, actor=actor, step="call", request=request)


# --- The citizen's ABHA deleted ---------------------------------------------------------------


@transaction.atomic
def tokens_follow_account(*, account, event: str, actor=None, request=None) -> int:
    """Erases what `account` shared at counters when the ABHA is deleted (registered with abha's
    `on_account_change`, run in the deletion's transaction): every token's profile snapshot (name, ABHA number and
    address, gender, age, masked mobile, address) becomes empty, and a token still open in a queue expires.

    The tokens stay (counter, day, number, times, status: the dashboard counts and the queue's history) and so do
    their audit rows, which name the counter and number, never the person. Deactivation changes nothing here: a
    deactivated ABHA cannot share, and the day's queue keeps what was shared. One UPDATE each; returns the tokens
    erased.
    """
    if event != "delete":
        return 0
    now = timezone.now()
    tokens = ScanToken.objects.filter(patient=account)
    tokens.open().update(status=TokenStatus.EXPIRED, closed_at=now, updated_at=now)
    erased = tokens.exclude(profile={}).update(profile={}, updated_at=now)
    if erased:
        audit_record(
            actor=actor, action="scan_share.erase", target=account, details={"tokens": erased}, request=request
        )
    return erased


@transaction.atomic
def display_key_rotate(*, counter: Counter, actor, request=None) -> str:
    """A new display key for `counter`'s waiting-hall TV; the previous one stops working at once.

    Only the facility's admins may. Stores the key's hash (upsert of the counter's one DisplayKey row), audits
    `scan_share.display_key_rotate`, and returns the key: the only time it is readable.
    """
    if not access.can(actor, "change", counter.facility):
        raise NotAllowed(_("Only this facility's admins can set up its TV displays."))
    key = secrets.token_urlsafe(24)
    DisplayKey.objects.update_or_create(
        counter=counter, defaults={"key_hash": selectors.display_key_hash(key), "rotated_by": actor}
    )
    audit_record(actor=actor, action="scan_share.display_key_rotate", target=counter, request=request)
    return key
