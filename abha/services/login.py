"""Sign-in with an OTP to the ABHA's mobile, and the audit of facility systems' look-ups."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.exceptions import Conflict, DomainError, NotFound
from core.services import audit_record

from ..enums import OtpPurpose
from ..identifiers import IdentifierError, abha_number_clean, address_local_part, looks_like_abha_number, mobile_clean
from ..models import AbhaAccount, AbhaAddress, OtpTransaction
from .otp import OTP_TTL, _invalid, _new_otp, _send_otp_after_commit, _throttle_otp, _txn_locked


def _login_accounts(login_id: str) -> tuple[str, AbhaAccount | None]:
    """(mobile, the named account or None for "any ABHA on this mobile") for a sign-in id."""
    login_id = str(login_id or "").strip()
    accounts = AbhaAccount.objects.not_deleted()
    not_found = NotFound(_("No ABHA was found for what you entered."), code="abha_not_found")
    if looks_like_abha_number(login_id):
        try:
            number = abha_number_clean(login_id)
        except IdentifierError as error:
            raise _invalid("login_id", error.message) from None
        account = accounts.filter(abha_number=number).first()
        if account is None:
            raise not_found
        return account.mobile, account
    try:
        mobile = mobile_clean(login_id)
    except IdentifierError:
        mobile = None
    if mobile:
        if not accounts.filter(mobile=mobile).exists():
            raise not_found
        return mobile, None
    local = address_local_part(login_id)
    address = AbhaAddress.objects.named(local).only("account_id").first() if local else None
    account = accounts.filter(pk=address.account_id).first() if address else None
    if account is None:
        if not login_id:
            raise _invalid("login_id", _("Enter your ABHA number, ABHA address or mobile number."))
        raise not_found
    return account.mobile, account


@transaction.atomic
def login_start(*, login_id: str, ip: str | None = None) -> OtpTransaction:
    """Sends a sign-in OTP to the mobile of the ABHA named by number, address or mobile."""
    mobile, account = _login_accounts(login_id)
    _throttle_otp(mobile=mobile, ip=ip)
    txn = OtpTransaction(purpose=OtpPurpose.LOGIN, mobile=mobile, account=account)
    otp = _new_otp(txn)
    txn.save()
    _send_otp_after_commit(mobile, otp)
    return txn


def login_candidates(txn: OtpTransaction) -> list[AbhaAccount]:
    """The accounts a verified sign-in may pick from (one, or all ABHAs on the mobile)."""
    if txn.account_id:
        return [txn.account]
    return list(AbhaAccount.objects.on_mobile(txn.mobile).order_by("created_at"))


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
