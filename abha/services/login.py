"""Sign-in with an OTP to the ABHA's mobile, and the audit of facility systems' look-ups."""

import contextlib

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import ratelimit
from core.exceptions import Conflict, DomainError
from core.otp import otp_throttle
from core.services import audit_record

from ..enums import OtpPurpose
from ..identifiers import (
    IdentifierError,
    abha_number_clean,
    address_local_part,
    address_validate,
    looks_like_abha_number,
    mobile_clean,
)
from ..models import AbhaAccount, AbhaAddress, OtpTransaction
from .otp import (
    DECOY,
    LISTED,
    NAMED,
    OTP_TTL,
    _invalid,
    _mobile_allows_quietly,
    _mobile_key,
    _new_otp,
    _send_otp_after_commit,
    _throttle_ip,
    _txn_locked,
)


def _login_identifier(login_id: str) -> tuple[str, str]:
    """(kind, value) of a sign-in id: ("number", 14 digits), ("mobile", 10 digits) or ("address", local part).

    Only the form is checked here (a malformed ABHA number, an empty id): the answer says nothing about accounts.
    """
    login_id = str(login_id or "").strip()
    if looks_like_abha_number(login_id):
        try:
            return "number", abha_number_clean(login_id)
        except IdentifierError as error:
            raise _invalid("login_id", error.message) from None
    with contextlib.suppress(IdentifierError):  # not a mobile: an ABHA address, then
        return "mobile", mobile_clean(login_id)
    local = address_local_part(login_id)
    if not local:
        raise _invalid("login_id", _("Enter your ABHA number, ABHA address or mobile number."))
    if looks_like_abha_number(local):  # the default address, <ABHA number>@suffix
        return _login_identifier(local)
    try:
        return "address", address_validate(local)
    except IdentifierError as error:
        raise _invalid("login_id", error.message) from None


def _login_account(kind: str, value: str) -> tuple[str | None, AbhaAccount | None]:
    """(mobile, the named account or None for "any ABHA on this mobile"); (None, None) when nothing matches."""
    accounts = AbhaAccount.objects.not_deleted()
    if kind == "mobile":
        return (value, None) if accounts.filter(mobile=value).exists() else (None, None)
    if kind == "number":
        account = accounts.filter(abha_number=value).first()
    else:
        address = AbhaAddress.objects.named(value).only("account_id").first()
        account = accounts.filter(pk=address.account_id).first() if address else None
    return (account.mobile, account) if account else (None, None)


def _decoy_mobile(kind: str, value: str) -> str:
    # The same made-up number for the same identifier every time, as a real ABHA's mobile would be; only its
    # mask is ever shown, and nothing is sent to it.
    digits = str(int(ratelimit.hashed(f"abha:login-decoy:{kind}:{value}"), 16))
    return "6789"[int(digits[-1]) % 4] + digits[-10:-1]


@transaction.atomic
def login_start(*, login_id: str, ip: str | None = None) -> OtpTransaction:
    """Sends a sign-in OTP to the mobile of the ABHA named by number, address or mobile.

    Answers the same for an identifier that names no ABHA (a transaction that looks the same, whose verification
    fails like a wrong OTP) and sends nothing then: the sign-in is no way to learn who has an ABHA. The attempt is
    counted first, per client address and per identifier (a typed mobile's counter is the mobile's own); the
    named ABHA's mobile is counted quietly, and over its limit nothing is sent. Raises Throttled (429) and
    DomainError `invalid` (a malformed id) only; queries: the account (and its address), one insert.
    """
    kind, value = _login_identifier(login_id)
    _throttle_ip(ip)
    if kind == "mobile":
        otp_throttle(_mobile_key(value, OtpPurpose.LOGIN), rate=settings.OTP_MOBILE_RATE)
    else:
        otp_throttle(f"abha:otp:login:{ratelimit.hashed(f'{kind}:{value}')}", rate=settings.OTP_MOBILE_RATE)
    mobile, account = _login_account(kind, value)
    draft = {} if kind == "mobile" else {NAMED: True}
    if mobile is None:
        mobile, draft[DECOY] = (value if kind == "mobile" else _decoy_mobile(kind, value)), True
    sending = not draft.get(DECOY) and (kind == "mobile" or _mobile_allows_quietly(mobile, OtpPurpose.LOGIN))
    txn = OtpTransaction(purpose=OtpPurpose.LOGIN, mobile=mobile, account=account, draft=draft)
    otp = _new_otp(txn)
    txn.save()
    if sending:
        _send_otp_after_commit(mobile, otp)
    return txn


def login_candidates(txn: OtpTransaction) -> list[AbhaAccount]:
    """The accounts a verified sign-in may pick from: the one named, or the ABHAs listed when the OTP was verified
    (still on the mobile and not deleted). None for a transaction of an unknown identifier."""
    if txn.draft.get(DECOY):
        return []
    if txn.account_id:
        return [txn.account]
    accounts = AbhaAccount.objects.on_mobile(txn.mobile).order_by("created_at")
    if LISTED in txn.draft:
        accounts = accounts.filter(uuid__in=txn.draft[LISTED])
    return list(accounts)


@transaction.atomic
def login_finish(*, txn_id, abha_number: str | None = None, request=None) -> AbhaAccount:
    """Ends a verified sign-in with one account (the only one, or `abha_number` among several).

    Marks the transaction complete (an OTP signs in once) and audits `abha.sign_in`.
    """
    txn = _txn_locked(txn_id, OtpPurpose.LOGIN)
    if not txn.verified_at:
        raise DomainError(_("Verify the OTP first."), code="otp_not_verified")
    if txn.completed_at:
        raise Conflict(_("This request is already complete. Please start again."), code="txn_completed")
    if timezone.now() > txn.verified_at + OTP_TTL:
        raise DomainError(_("This sign-in has expired. Please start again."), code="txn_expired")
    candidates = login_candidates(txn)
    if abha_number:
        chosen = [a for a in candidates if a.abha_number == abha_number.replace("-", "").strip()]
    else:
        chosen = candidates if len(candidates) == 1 else []
    if not chosen:
        message = _("Choose one of the ABHAs on this mobile number.")
        raise DomainError(message, code="choose_account", fields={"abha_number": [message]})
    account = chosen[0]
    txn.completed_at = timezone.now()
    txn.save(update_fields=["completed_at", "updated_at"])
    audit_record(actor=account.user, action="abha.sign_in", target=account, request=request)
    return account


# --- Verification API for facility systems ----------------------------------------------------


def lookup_audit(*, actor, account: AbhaAccount | None, identifier: str, request=None) -> None:
    """Audits a facility system's look-up (found or not), in its own transaction."""
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="abha.lookup" if account else "abha.lookup_miss",
            target=account,
            details={}
            if account
            else {"identifier_kind": "number" if looks_like_abha_number(identifier) else "address"},
            request=request,
        )
