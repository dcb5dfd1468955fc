"""Sign-in through ABDM's login (M1: m1-login-mobile, m1-login-abha-number-mobile-otp), and the audit of facility
systems' look-ups.

ABDM sends the OTP to the ABHA's mobile and checks it; the portal keeps ABDM's transaction id and, between the OTP
and the choice of one ABHA on a shared mobile, ABDM's transaction token (sealed). On success the citizen's profile
is read from ABDM and the portal's copy made or refreshed, with the user token kept sealed for the card.
"""

import contextlib
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from abdm import m1
from core import ratelimit
from core.exceptions import Conflict, DomainError, NotFound
from core.otp import otp_throttle, wrong_otp_count, wrong_otps_refuse
from core.services import audit_record

from ..enums import AccountStatus, OtpPurpose
from ..identifiers import (
    IdentifierError,
    abha_number_clean,
    abha_number_display,
    address_local_part,
    address_validate,
    looks_like_abha_number,
    mobile_clean,
)
from ..models import AbhaAccount, AbhaAddress, OtpTransaction
from ..tokens import seal, unseal
from .enrolment import account_from_profile
from .otp import (
    DECOY,
    LISTED,
    NAMED,
    OTP_MAX_ATTEMPTS,
    OTP_RESEND_AFTER,
    OTP_TTL,
    _invalid,
    _mobile_key,
    _throttle_ip,
    _txn_locked,
)

KIND, NUMBER, REFRESH = "kind", "abha_number", "refresh"


@dataclass(frozen=True)
class LoginChoice:
    """One ABHA a verified sign-in on a shared mobile may end with (as ABDM listed it)."""

    abha_number: str
    full_name: str

    @property
    def abha_number_display(self) -> str:
        return abha_number_display(self.abha_number)


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


def _decoy_mobile(kind: str, value: str) -> str:
    # The same made-up number for the same identifier every time, as a real ABHA's mobile would be; only its
    # mask is ever shown, and nothing is sent to it.
    digits = str(int(ratelimit.hashed(f"abha:login-decoy:{kind}:{value}"), 16))
    return "6789"[int(digits[-1]) % 4] + digits[-10:-1]


def _request(kind: str, value: str) -> m1.OtpSent | None:
    """ABDM's login OTP for the identifier; None when ABDM knows no such ABHA (the caller answers the same)."""
    try:
        if kind == "mobile":
            return m1.login_request_otp(mobile=value)
        return m1.login_request_otp(abha_number=value)
    except (m1.AbdmDown, DomainError) as error:
        if isinstance(error, m1.AbdmDown) or error.status == 429:
            raise
        return None  # unknown (or refused) identifier: answered like a known one, never verified


def login_start(*, login_id: str, ip: str | None = None) -> OtpTransaction:
    """Asks ABDM to send a sign-in OTP to the mobile of the ABHA named by number, address or mobile.

    Answers the same for an identifier ABDM knows no ABHA for (a transaction that looks the same, whose
    verification fails like a wrong OTP): the sign-in is no way to learn who has an ABHA. The attempt is counted
    first, per client address and per identifier. An ABHA address is signed in through its ABHA number when the
    portal knows it. Raises Throttled (429), DomainError `invalid` (a malformed id) and `abdm_unavailable` (503).
    """
    kind, value = _login_identifier(login_id)
    _throttle_ip(ip)
    if kind == "mobile":
        otp_throttle(_mobile_key(value, OtpPurpose.LOGIN), rate=settings.OTP_MOBILE_RATE)
    else:
        otp_throttle(f"abha:otp:login:{ratelimit.hashed(f'{kind}:{value}')}", rate=settings.OTP_MOBILE_RATE)
    draft = {KIND: kind}
    asked = (kind, value)
    if kind == "address":
        address = AbhaAddress.objects.named(value).select_related("account").first()
        if address is not None and address.account.status != AccountStatus.DELETED:
            kind, value = "number", address.account.abha_number
    deleted = kind == "number" and AbhaAccount.objects.filter(abha_number=value, status=AccountStatus.DELETED).exists()
    sent = _request(kind, value) if kind != "address" and not deleted else None
    if kind != "mobile":
        draft.update({NAMED: True, NUMBER: value if kind == "number" else ""})
    mobile = value if kind == "mobile" else ""
    if sent is None:
        draft[DECOY] = True
        mobile = mobile or _decoy_mobile(*asked)
    # Where the OTP went, masked the same way for a known and an unknown identifier (ABDM names a number's
    # mobile as ******1234; a typed mobile is masked by the page).
    sent_to = "" if kind == "mobile" else (sent.masked_mobile if sent else "") or "******" + mobile[-4:]
    now = timezone.now()
    return OtpTransaction.objects.create(
        purpose=OtpPurpose.LOGIN,
        mobile=mobile,
        abdm_txn_id=sent.txn_id if sent else "",
        sent_at=now,
        expires_at=now + OTP_TTL,
        draft={**draft, "sent_to": sent_to},
    )


def login_resend(*, txn_id, ip: str | None = None) -> OtpTransaction:
    """ABDM sends the sign-in OTP again (a new ABDM transaction): not before 60 s, at most 3 times."""
    from .otp import OTP_MAX_RESENDS

    with transaction.atomic():
        txn = _txn_locked(txn_id, OtpPurpose.LOGIN)
        if txn.verified_at or txn.completed_at:
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
        _throttle_ip(ip)
        if not txn.draft.get(DECOY):
            kind = "mobile" if txn.draft.get(KIND) == "mobile" else "number"
            sent = _request(kind, txn.mobile if kind == "mobile" else txn.draft.get(NUMBER, ""))
            if sent is not None:
                txn.abdm_txn_id = sent.txn_id
        now = timezone.now()
        txn.sent_at, txn.expires_at = now, now + OTP_TTL
        txn.resend_count += 1
        txn.save(update_fields=["abdm_txn_id", "sent_at", "expires_at", "resend_count", "updated_at"])
    return txn


def login_verify(*, txn_id, otp: str, ip: str | None = None) -> OtpTransaction:
    """Checks the OTP with ABDM (m1_login_verify); keeps ABDM's token (sealed) and the ABHAs it lists.

    A wrong OTP counts (5 lock the transaction) and counts per client address too. A verified transaction is
    returned as it is (the choice among a mobile's ABHAs follows without the OTP). Not one atomic block on purpose:
    the failed-attempt count must be saved although the call then raises.
    """
    wrong_otps_refuse(ip)
    error = None
    with transaction.atomic():
        txn = _txn_locked(txn_id, OtpPurpose.LOGIN)
        if txn.completed_at:
            error = Conflict(_("This request is already complete. Please start again."), code="txn_completed")
        elif txn.verified_at:
            return txn
        elif txn.failed_attempts >= OTP_MAX_ATTEMPTS:
            error = Conflict(_("Too many wrong OTPs. Please start again."), code="otp_locked")
        elif timezone.now() > txn.expires_at:
            error = DomainError(_("This OTP has expired. Ask for a new one."), code="otp_expired")
        else:
            result = None
            if not txn.draft.get(DECOY) and str(otp or "").strip().isdecimal():
                try:
                    result = m1.login_verify(txn_id=txn.abdm_txn_id, otp=str(otp).strip())
                except DomainError as refused:
                    if refused.code != "otp_invalid":
                        raise
            if result is None or result.tokens is None:
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
                txn.verified_at = timezone.now()
                txn.abdm_txn_id = result.txn_id or txn.abdm_txn_id
                txn.abdm_token = seal(result.tokens.token)
                listed = [
                    {"abha_number": a.abha_number, "name": a.name}
                    for a in result.accounts
                    if a.status in ("", "ACTIVE", "DEACTIVATED")
                ]
                if not listed and txn.draft.get(NUMBER):
                    listed = [{"abha_number": txn.draft[NUMBER], "name": ""}]
                txn.draft = {
                    **txn.draft,
                    LISTED: listed,
                    REFRESH: seal(result.tokens.refresh_token),
                    "expires_in": result.tokens.expires_in,
                    "refresh_expires_in": result.tokens.refresh_expires_in,
                }
                txn.save(update_fields=["verified_at", "abdm_txn_id", "abdm_token", "draft", "updated_at"])
                return txn
    raise error


def login_candidates(txn: OtpTransaction) -> list[LoginChoice]:
    """The ABHAs a verified sign-in may end with, as ABDM listed them (none for an unknown identifier)."""
    if txn.draft.get(DECOY):
        return []
    return [LoginChoice(abha_number=a["abha_number"], full_name=a.get("name", "")) for a in txn.draft.get(LISTED, [])]


def login_finish(*, txn_id, abha_number: str | None = None, request=None) -> AbhaAccount:
    """Ends a verified sign-in with one ABHA (the only one, or `abha_number` among those ABDM listed).

    A sign-in by mobile chooses the ABHA at ABDM (m1_login_select_account with the transaction token); the
    profile is read from ABDM (m1_profile_get_account) and the portal's copy made or refreshed, with the user
    token kept sealed. Marks the transaction complete (an OTP signs in once) and audits `abha.sign_in`.
    """
    with transaction.atomic():
        txn = _txn_locked(txn_id, OtpPurpose.LOGIN)
        if not txn.verified_at:
            raise DomainError(_("Verify the OTP first."), code="otp_not_verified")
        if txn.completed_at:
            raise Conflict(_("This request is already complete. Please start again."), code="txn_completed")
        if timezone.now() > txn.verified_at + OTP_TTL:
            raise DomainError(_("This sign-in has expired. Please start again."), code="txn_expired")
        candidates = login_candidates(txn)
        wanted = str(abha_number or "").replace("-", "").replace(" ", "").strip()
        chosen = [c for c in candidates if c.abha_number == wanted] if wanted else candidates[:1]
        if not chosen or (not wanted and len(candidates) > 1):
            message = _("Choose one of the ABHAs on this mobile number.")
            raise DomainError(message, code="choose_account", fields={"abha_number": [message]})
        token = unseal(txn.abdm_token)
        if len(candidates) > 1:  # ABDM answered a transaction token and the list: the choice is made at ABDM
            tokens = m1.login_verify_user(txn_id=txn.abdm_txn_id, abha_number=chosen[0].abha_number, t_token=token)
        else:
            tokens = m1.Tokens(
                token=token,
                expires_in=int(txn.draft.get("expires_in") or 1800),
                refresh_token=unseal(txn.draft.get(REFRESH, "")),
                refresh_expires_in=int(txn.draft.get("refresh_expires_in") or 0),
            )
        profile = m1.profile_get(x_token=tokens.token)
        if profile.abha_number != chosen[0].abha_number:
            raise NotFound(_("ABDM found no ABHA for what you entered."), code="abha_not_found")
        account, _created = account_from_profile(profile, tokens=tokens)
        txn.completed_at = timezone.now()
        txn.account = account
        txn.abdm_token = ""
        txn.draft = {KIND: txn.draft.get(KIND)}
        txn.save(update_fields=["completed_at", "account", "abdm_token", "draft", "updated_at"])
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
