"""OTP transactions of every ABHA flow: the limits, a fresh OTP on commit, resend, verify, and the purge.

An OTP is only ever kept as its HMAC (core.otp); the SMS goes out after the commit (core.sms.send_on_commit), so
an OTP is never sent for a rolled-back request and a failed delivery never fails one.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core import ratelimit
from core.exceptions import Conflict, DomainError, NotFound
from core.otp import otp_issue, otp_matches, otp_throttle, wrong_otp_count, wrong_otps_refuse
from core.sms import send_on_commit

from ..enums import OtpPurpose
from ..models import OtpTransaction

OTP_TTL = timedelta(minutes=10)
OTP_RESEND_AFTER = timedelta(seconds=60)
OTP_MAX_RESENDS = 3
OTP_MAX_ATTEMPTS = 5


# A sign-in transaction's `draft` (enrollment keeps its wizard state there) holds:
# DECOY: made for an identifier ABDM knows no ABHA for: it looks and answers like a real one, never verifies;
# NAMED: the caller named an ABHA number or address (not a mobile);
# LISTED: the ABHAs ABDM listed after the OTP, the only ones the sign-in may end with.
DECOY, NAMED, LISTED = "decoy", "named", "listed"


def _mobile_key(mobile: str, purpose: str) -> str:
    # Per mobile and purpose: a family's phone (up to six ABHAs) signs in, enrols and resends at a camp without
    # one flow using up another's OTPs; the per-IP limits below are the ones against abuse.
    return f"abha:otp:mobile:{purpose}:{ratelimit.hashed(mobile)}"


def _throttle_ip(ip: str | None) -> None:
    if ip:
        otp_throttle(f"abha:otp:ip:{ratelimit.hashed(ip)}", rate=settings.OTP_IP_RATE)


def _throttle_otp(*, mobile: str, purpose: str, ip: str | None) -> None:
    """OTP_MOBILE_RATE per mobile and purpose, OTP_IP_RATE per client address (fixed windows; values hashed)."""
    otp_throttle(_mobile_key(mobile, purpose), rate=settings.OTP_MOBILE_RATE)
    _throttle_ip(ip)


def _new_otp(txn: OtpTransaction) -> str:
    """Sets a fresh OTP on `txn` (hash, send time, expiry) and returns it for sending only."""
    otp, txn.otp_hash = otp_issue(str(txn.uuid))
    now = timezone.now()
    txn.sent_at = now
    txn.expires_at = now + OTP_TTL
    return otp


def _send_otp_after_commit(mobile: str, otp: str) -> None:
    # A failed delivery leaves the transaction standing: core.sms retries it, and the citizen can ask again.
    text = gettext("%(otp)s is your ABHA OTP. It is valid for 10 minutes. Do not share it with anyone.") % {"otp": otp}
    send_on_commit(to=mobile, text=text)


def _uuid_or_none(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _txn_locked(txn_id, purpose: str) -> OtpTransaction:
    key = _uuid_or_none(txn_id)
    txn = OtpTransaction.objects.select_for_update().filter(uuid=key, purpose=purpose).first() if key else None
    if txn is None:
        raise NotFound(_("This request has expired or does not exist. Please start again."), code="txn_not_found")
    return txn


def _invalid(field: str, message) -> DomainError:
    return DomainError(message, code="invalid", fields={field: [message]})


def otp_resend(*, txn_id, purpose: str, ip: str | None = None) -> OtpTransaction:
    """A new OTP for an open transaction: not before 60 s, at most 3 times, not once locked. A sign-in's OTP is
    ABDM's: asked of ABDM again (login_resend)."""
    if purpose == OtpPurpose.LOGIN:
        from .login import login_resend  # noqa: PLC0415 - login builds on this module

        return login_resend(txn_id=txn_id, ip=ip)
    return _otp_resend(txn_id=txn_id, purpose=purpose, ip=ip)


@transaction.atomic
def _otp_resend(*, txn_id, purpose: str, ip: str | None = None) -> OtpTransaction:
    txn = _txn_locked(txn_id, purpose)
    if txn.verified_at:
        raise Conflict(_("This OTP has already been verified."), code="otp_already_verified")
    if txn.failed_attempts >= OTP_MAX_ATTEMPTS:
        raise Conflict(_("Too many wrong OTPs. Please start again."), code="otp_locked")
    if txn.resend_count >= OTP_MAX_RESENDS:
        raise Conflict(_("The OTP cannot be sent again. Please start again."), code="otp_resend_limit")
    wait = int((txn.sent_at + OTP_RESEND_AFTER - timezone.now()).total_seconds()) + 1
    if wait > 0:
        raise DomainError(
            _("You can ask for a new OTP in %(seconds)s seconds.") % {"seconds": wait}, code="otp_resend_too_soon"
        )
    _throttle_otp(mobile=txn.mobile, purpose=txn.purpose, ip=ip)
    otp = _new_otp(txn)
    txn.resend_count += 1
    txn.save(update_fields=["otp_hash", "sent_at", "expires_at", "resend_count", "updated_at"])
    _send_otp_after_commit(txn.mobile, otp)
    return txn


def otp_verify(*, txn_id, otp: str, purpose: str, ip: str | None = None) -> OtpTransaction:
    """Checks `otp` against the transaction; a wrong one counts, and 5 wrong ones lock it. Wrong OTPs
    also count per client `ip` (cache), which is refused for a while after OTP_IP_WRONG_RATE of them.

    A verified transaction is returned as it is (the one service that completes each asks again once, with no OTP).

    Not one atomic block on purpose: the failed-attempt count must be saved even though the
    call then raises. Raises DomainError codes otp_invalid, otp_expired, otp_locked, txn_completed, throttled.
    A sign-in's OTP is ABDM's: checked by ABDM (login_verify).
    """
    if purpose == OtpPurpose.LOGIN:
        from .login import login_verify  # noqa: PLC0415 - login builds on this module

        return login_verify(txn_id=txn_id, otp=otp, ip=ip)
    wrong_otps_refuse(ip)
    error = None
    with transaction.atomic():
        txn = _txn_locked(txn_id, purpose)
        now = timezone.now()
        if txn.completed_at:
            error = Conflict(_("This request is already complete. Please start again."), code="txn_completed")
        elif txn.failed_attempts >= OTP_MAX_ATTEMPTS:
            error = Conflict(_("Too many wrong OTPs. Please start again."), code="otp_locked")
        elif txn.verified_at:
            return txn  # the owner's own change, confirmed by account_confirm once after the page verified it
        elif not txn.verified_at and now > txn.expires_at:
            error = DomainError(_("This OTP has expired. Ask for a new one."), code="otp_expired")
        elif not otp_matches(str(txn.uuid), otp, txn.otp_hash):
            txn.failed_attempts += 1
            txn.save(update_fields=["failed_attempts", "updated_at"])
            wrong_otp_count(ip)
            left = OTP_MAX_ATTEMPTS - txn.failed_attempts
            if left:
                message = _("The OTP is not correct. Attempts left: %(left)s.") % {"left": left}
                error = DomainError(message, code="otp_invalid", fields={"otp": [message]})
            else:
                error = Conflict(_("Too many wrong OTPs. Please start again."), code="otp_locked")
        else:
            txn.verified_at = now
            txn.save(update_fields=["verified_at", "updated_at"])
            return txn
    raise error


OTP_TRANSACTION_RETENTION = timedelta(days=1)


def otp_transactions_purge(*, now=None) -> int:
    """Deletes OTP transactions older than a day (they hold mobile numbers and OTP hashes).

    Finished enrollments keep nothing there (the account holds the data); unfinished ones have
    long expired. One DELETE on the created_at index; returns the number of rows deleted.
    """
    cutoff = (now or timezone.now()) - OTP_TRANSACTION_RETENTION
    deleted, _ = OtpTransaction.objects.filter(created_at__lt=cutoff).delete()
    return deleted
