"""Scan & Share writes: issue a token (gap-free per counter and day), and the staff's call / done / no-show."""

import datetime
import json
import re

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core import access
from core.counters import count_add
from core.enums import CountMetric
from core.exceptions import Conflict, DomainError, NotAllowed
from core.services import audit_record, client_ip
from facilities.enums import OPEN_TOKEN_STATES, FacilityStatus, TokenStatus
from facilities.models import Counter, Facility, ScanSequence, ScanToken

HIP_ID = re.compile(r"^IN[0-9]{10}$")


class NotFound(DomainError):
    status = 404
    code = "not_found"


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
        "mobile": "XXXXXX" + account.mobile[-4:],
        "address": f"{place} {account.pincode}".strip(),
    }


def _next_number(counter_id: int, day: datetime.date) -> int:
    """Upserts the counter's row for `day` and returns the new last number.

    The row lock taken by the upsert lasts until the caller's transaction ends, so two shares at one counter are
    serialised here across processes and numbers are gap-free (a rolled-back share gives its number back).
    """
    table = ScanSequence._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (counter_id, day, last) VALUES (%s, %s, 1) "  # noqa: S608 (table name from Meta)
            f"ON CONFLICT (counter_id, day) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [counter_id, day],
        )
        return cursor.fetchone()[0]


def _give_back(counter_id: int, day: datetime.date) -> None:
    """Returns the number just taken (we still hold the row lock, so nobody took a later one)."""
    ScanSequence.objects.filter(counter_id=counter_id, day=day).update(last=F("last") - 1)


def _open_token_id(account, counter, now) -> int | None:
    """The patient's open, still valid token at `counter` (its id: a light query, run twice per share)."""
    return (
        ScanToken.objects.filter(patient=account, counter=counter, status__in=OPEN_TOKEN_STATES, valid_until__gt=now)
        .order_by("-issued_at")
        .values_list("pk", flat=True)
        .first()
    )


def _repeat(token_id: int) -> tuple[ScanToken, bool]:
    return ScanToken.objects.select_related("facility", "counter").get(pk=token_id), False


def token_issue(*, account, actor, hip_id: str, counter_code: str, request=None) -> tuple[ScanToken, bool]:
    """Shares `account`'s profile at a counter and returns (token, created); `actor` is the citizen's own user.

    A repeat share at the same counter while the earlier token is open and valid returns that token
    (created=False). Otherwise the counter's ScanSequence row gives the next number, and the token, its audit row
    and the dashboard count are written in the same transaction. On PostgreSQL all of it is one SQL call (the
    morning rush: see migration facilities 0010); elsewhere (SQLite) the same steps run through the ORM.
    """
    if actor.pk != account.user_id:
        raise NotAllowed(_("Only the patient can share their own profile."), code="not_own_account")
    if connection.vendor == "postgresql":
        return _token_issue_in_one_call(
            account=account, actor=actor, hip_id=hip_id, counter_code=counter_code, request=request
        )
    return _token_issue_orm(account=account, actor=actor, hip_id=hip_id, counter_code=counter_code, request=request)


def _inactive_account() -> NotAllowed:
    return NotAllowed(_("Your ABHA is not active, so it cannot be shared. Reactivate it first."), code="abha_inactive")


_ISSUE = (
    "SELECT * FROM facilities_scan_share_issue(%s::text, %s::text, %s::bigint, %s::bigint, %s::text, "
    "%s::timestamptz, %s::date, %s::timestamptz, %s::jsonb, %s::inet)"
)


def _token_issue_in_one_call(*, account, actor, hip_id, counter_code, request) -> tuple[ScanToken, bool]:
    hip_id, counter_code = _qr_parts(hip_id, counter_code)
    if not account.is_active:
        counter_for_scan(hip_id=hip_id, counter_code=counter_code)  # a bad QR is said first, as on the ORM path
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
    ]
    with connection.cursor() as cursor:
        cursor.execute(_ISSUE, params)
        row = cursor.fetchone()
    if row is None:  # not an active counter of a verified facility: say what is wrong
        counter_for_scan(hip_id=hip_id, counter_code=counter_code)
        # The counter was opened a moment ago, between the two looks: the ORM path takes it from here.
        return _token_issue_orm(account=account, actor=actor, hip_id=hip_id, counter_code=counter_code, request=request)
    return _token_from_row(row, account)


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
        patient_id=account.pk,
        profile=json.loads(profile),
        status=status,
        issued_at=issued_at,
        valid_until=valid_until,
    )
    token.facility, token.counter, token.patient = facility, counter, account
    return token, created


@transaction.atomic
def _token_issue_orm(*, account, actor, hip_id: str, counter_code: str, request=None) -> tuple[ScanToken, bool]:
    """token_issue through the ORM: about eleven queries in one transaction."""
    counter = counter_for_scan(hip_id=hip_id, counter_code=counter_code)
    facility = counter.facility
    if not account.is_active:
        raise _inactive_account()
    now = timezone.now()
    existing = _open_token_id(account, counter, now)
    if existing is not None:
        return _repeat(existing)
    day = timezone.localdate(now)
    number = _next_number(counter.pk, day)
    # Holding the counter's row lock: a concurrent share by the same person has committed or waits behind us.
    existing = _open_token_id(account, counter, now)
    if existing is not None:
        _give_back(counter.pk, day)
        return _repeat(existing)
    token = ScanToken.objects.create(
        facility=facility,
        counter=counter,
        day=day,
        number=number,
        patient=account,
        profile=profile_snapshot(account, today=day),
        issued_at=now,
        valid_until=now + validity(),
    )
    audit_record(
        actor=actor,
        action="scan_share.share",
        target=token,
        details={"facility": facility.facility_id, "counter": counter.code, "number": number},
        request=request,
    )
    count_add(metric=CountMetric.SCAN_TOKENS, district_lgd=facility.district_id, facility_key=facility.pk)
    return token, True


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
