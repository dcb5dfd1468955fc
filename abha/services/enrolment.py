"""Enrollment through ABDM (M1, Aadhaar OTP): Aadhaar -> Aadhaar OTP and mobile -> the mobile's OTP when it is not
the Aadhaar-linked one -> ABHA address -> card.

ABDM creates the ABHA and issues its number; the portal keeps the number, addresses, the profile ABDM returns and
the citizen's ABDM token (sealed). The Aadhaar number is held only for the one request that sends it to ABDM
(encrypted), and no OTP is stored: ABDM checks them. An Aadhaar that already has an ABHA gets that ABHA back from
ABDM (`isNew` false): the portal records it and says so, and the counters count only what ABDM confirmed new.
Calls to ABDM raise the portal errors of abdm.m1 (wrong OTP, taken address, ABDM not answering...).
"""

import contextlib
import re
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from abdm import m1
from core import access
from core.counters import count_add
from core.enums import CountMetric, Role
from core.exceptions import Conflict, DomainError, NotAllowed
from core.models import District, State, User
from core.services import audit_record

from ..enums import AccountStatus, Channel, Gender, OtpPurpose
from ..identifiers import (
    IdentifierError,
    aadhaar_clean,
    address_local_part,
    address_validate,
    looks_like_abha_number,
    mobile_clean,
)
from ..models import CURRENT_CONSENT_VERSION, AbhaAccount, AbhaAddress, OtpTransaction
from ..tokens import seal
from .otp import OTP_MAX_RESENDS, OTP_RESEND_AFTER, OTP_TTL, _invalid, _throttle_ip, _throttle_otp, _txn_locked

GENDER_ALIASES = {"T": Gender.OTHER, "D": Gender.UNDISCLOSED}

# The wizard's steps, kept on the transaction (`step`).
STEP_AADHAAR_OTP = "aadhaar_otp"  # ABDM sent the Aadhaar OTP; byAadhaar next
STEP_MOBILE_OTP = "mobile_otp"  # the ABHA exists; ABDM sent an OTP to the chosen mobile (not the Aadhaar-linked one)
STEP_ADDRESS = "address"  # the ABHA exists, its mobile is verified; choose an ABHA address
STEP_EXISTING = "existing"  # the Aadhaar already had an ABHA: ABDM returned it
STEP_DONE = "done"


@dataclass(frozen=True)
class Verified:
    """enrolment_verify_aadhaar's result."""

    txn: OtpTransaction
    account: AbhaAccount
    is_new: bool

    @property
    def mobile_pending(self) -> bool:
        return self.txn.step == STEP_MOBILE_OTP


def _otp_digits(otp: str) -> str:
    otp = str(otp or "").strip()
    if not re.fullmatch(r"[0-9]{6}", otp):
        raise _invalid("otp", _("Enter the 6-digit OTP."))
    return otp


def enrolment_start(
    *,
    aadhaar: str,
    consent_version: str,
    actor=None,
    ip: str | None = None,
    facility=None,
    channel: str = Channel.SELF,
) -> OtpTransaction:
    """Asks ABDM to send the Aadhaar OTP (UIDAI sends it to the Aadhaar-linked mobile); opens the transaction.

    Refuses first (nothing sent) when the consent version is not the current one, the Aadhaar number is not valid
    (Verhoeff) or an assisting `actor` does not act for `facility`. Throttled per client address. Writes one
    OtpTransaction holding ABDM's txnId; the Aadhaar number is not kept anywhere.
    """
    if consent_version != CURRENT_CONSENT_VERSION:
        raise DomainError(
            _("Please read and accept the current consent text first."),
            code="consent_required",
            fields={
                "consent_version": [_("Accept consent version %(version)s.") % {"version": CURRENT_CONSENT_VERSION}]
            },
        )
    try:
        digits = aadhaar_clean(aadhaar)
    except IdentifierError as error:
        raise _invalid("aadhaar", error.message) from None
    if facility is not None:
        if not access.can(actor, "act_for", facility):
            raise NotAllowed(_("You do not work at this facility."))
        channel = channel if channel in (Channel.ASSISTED, Channel.CAMP) else Channel.ASSISTED
    else:
        channel = Channel.SELF
    _throttle_ip(ip)
    sent = m1.enrol_request_aadhaar_otp(aadhaar=digits)
    now = timezone.now()
    return OtpTransaction.objects.create(
        purpose=OtpPurpose.ENROL,
        abdm_txn_id=sent.txn_id,
        step=STEP_AADHAAR_OTP,
        sent_at=now,
        expires_at=now + OTP_TTL,
        consent_version=consent_version,
        channel=channel,
        assisted_by=actor if facility is not None else None,
        assisted_facility=facility,
        draft={"sent_to": sent.masked_mobile},
    )


def _open_enrolment(txn_id, *steps: str) -> OtpTransaction:
    """The enrollment transaction, locked, at one of `steps`."""
    txn = _txn_locked(txn_id, OtpPurpose.ENROL)
    if txn.completed_at:
        raise Conflict(_("This enrollment is already complete."), code="txn_completed")
    if txn.step not in steps:
        if txn.step == STEP_MOBILE_OTP:
            raise DomainError(_("Verify your mobile number with the OTP first."), code="otp_not_verified")
        raise Conflict(_("This step is not open. Please start again."), code="wrong_step")
    return txn


def _place(profile: m1.Profile) -> tuple[State | None, District | None]:
    district = District.objects.select_related("state").filter(lgd_code=profile.district_lgd).first()
    if district is not None:
        return district.state, district
    state = State.objects.filter(lgd_code=profile.state_lgd).first() if profile.state_lgd else None
    return state, None


def _profile_fields(profile: m1.Profile) -> dict:
    state, district = _place(profile)
    gender = GENDER_ALIASES.get(profile.gender, profile.gender)
    month = profile.month_of_birth if profile.month_of_birth and 1 <= profile.month_of_birth <= 12 else None
    day = profile.day_of_birth if month and profile.day_of_birth and 1 <= profile.day_of_birth <= 31 else None
    fields = {
        "first_name": profile.first_name[:100],
        "middle_name": profile.middle_name[:100],
        "last_name": profile.last_name[:100],
        "gender": gender if gender in Gender.values else Gender.UNDISCLOSED,
        "year_of_birth": profile.year_of_birth or 0,
        "month_of_birth": month,
        "day_of_birth": day,
        "address": profile.address[:300],
        "pincode": profile.pincode if re.fullmatch(r"[1-9]\d{5}", profile.pincode or "") else "",
        "state": state,
        "district": district,
    }
    if profile.email:
        fields["email"] = profile.email[:254]
    if profile.mobile:
        fields["mobile"] = profile.mobile
    return fields


def tokens_store(account: AbhaAccount, tokens: m1.Tokens | None) -> None:
    """Keeps ABDM's user token (and refresh token) on the account, sealed, with their expiries (saved here)."""
    if tokens is None:
        return
    now = timezone.now()
    account.abdm_token = seal(tokens.token)
    account.abdm_token_expires_at = tokens.expires_at(now)
    if tokens.refresh_token:
        account.abdm_refresh_token = seal(tokens.refresh_token)
        account.abdm_refresh_expires_at = tokens.refresh_expires_at(now)
    account.save(
        update_fields=[
            "abdm_token",
            "abdm_token_expires_at",
            "abdm_refresh_token",
            "abdm_refresh_expires_at",
            "updated_at",
        ]
    )


def _sync_addresses(account: AbhaAccount, profile: m1.Profile) -> None:
    """The number's default address and ABDM's addresses exist here; ABDM's preferred one is the primary."""
    # The portal's address column holds 18 characters (ABDM.md's policy); a longer one ABDM issued is not copied.
    wanted = [account.abha_number, *[a.lower() for a in profile.addresses if a and len(a) <= 18]]
    have = {a.local: a for a in account.addresses.all()}
    for local in dict.fromkeys(wanted):
        if local not in have:
            try:
                with transaction.atomic():
                    have[local] = AbhaAddress.objects.create(account=account, local=local, is_primary=False)
            except IntegrityError:
                continue  # held here by another account: ABDM's word is final at the next claim
    preferred = profile.preferred_address if profile.preferred_address in have else None
    current = next((a for a in have.values() if a.is_primary), None)
    target = have.get(preferred) or current or have.get(account.abha_number)
    if target is not None and (current is None or current.pk != target.pk):
        account.addresses.filter(is_primary=True).update(is_primary=False)
        AbhaAddress.objects.filter(pk=target.pk).update(is_primary=True)
    account.__dict__.pop("primary_address", None)


def _account_create(profile: m1.Profile, fields: dict, txn: OtpTransaction | None) -> AbhaAccount:
    user = User.objects.filter(username=profile.abha_number).first()
    if user is None:
        user = User(username=profile.abha_number, role=Role.CITIZEN)
        user.set_unusable_password()
    user.first_name, user.last_name = fields["first_name"][:150], fields["last_name"][:150]
    user.mobile = fields.get("mobile", "")
    user.save()
    return AbhaAccount.objects.create(
        user=user,
        abha_number=profile.abha_number,
        consent_version=txn.consent_version if txn else "",
        channel=txn.channel if txn else Channel.SELF,
        assisted_by_id=txn.assisted_by_id if txn else None,
        assisted_facility_id=txn.assisted_facility_id if txn else None,
        **{"mobile": "", **fields},
    )


def account_from_profile(
    profile: m1.Profile, *, tokens: m1.Tokens | None = None, txn: OtpTransaction | None = None
) -> tuple[AbhaAccount, bool]:
    """The portal's copy of an ABHA ABDM returned (created when the portal has none): (account, created here).

    Updates the profile fields, addresses and token of a known account. A tombstone (deleted here) is refused.
    Writes in the caller's transaction.
    """
    fields = _profile_fields(profile)
    account = AbhaAccount.objects.select_for_update().filter(abha_number=profile.abha_number).first()
    created = False
    if account is None:
        try:
            with transaction.atomic():
                account = _account_create(profile, fields, txn)
                created = True
        except IntegrityError:  # made here at the same moment by another request (the same Aadhaar twice)
            account = AbhaAccount.objects.select_for_update().get(abha_number=profile.abha_number)
    if not created:
        if account.status == AccountStatus.DELETED:
            raise Conflict(_("This ABHA was deleted on this portal."), code="abha_deleted")
        for name, value in fields.items():
            setattr(account, name, value)
        account.save()
    if account.user.mobile != account.mobile:
        account.user.mobile = account.mobile
        account.user.save(update_fields=["mobile"])
    _sync_addresses(account, profile)
    tokens_store(account, tokens)
    return account, created


def enrolment_verify_aadhaar(*, txn_id, otp: str, mobile: str, actor=None, request=None) -> Verified:
    """Sends the Aadhaar OTP and the citizen's mobile to ABDM (byAadhaar), which creates the ABHA or returns the one
    this Aadhaar already has (`is_new` false).

    New ABHA: the account, its sign-in user and default address are created, ABHA_CREATED and ABHA_ACTIVE counted,
    `abha.enrol` audited; when the mobile is not the Aadhaar-linked one ABDM is asked (after the commit) for an OTP
    to it. Existing ABHA: the portal's copy is made or refreshed, nothing counted, `abha.enrol_existing` audited,
    and the transaction ends. A wrong OTP raises `otp_invalid` with the input kept.
    """
    try:
        mobile = mobile_clean(mobile)
    except IdentifierError as error:
        raise _invalid("mobile", error.message) from None
    otp = _otp_digits(otp)
    with transaction.atomic():
        txn = _open_enrolment(txn_id, STEP_AADHAAR_OTP)
        if timezone.now() > txn.expires_at:
            raise DomainError(_("This OTP has expired. Please start again."), code="otp_expired")
        result = m1.enrol_by_aadhaar(txn_id=txn.abdm_txn_id, otp=otp, mobile=mobile)
        account, created_here = account_from_profile(result.profile, tokens=result.tokens, txn=txn)
        now = timezone.now()
        txn.abdm_txn_id = result.txn_id or txn.abdm_txn_id
        txn.mobile = mobile
        txn.verified_at = now
        txn.created_account = account
        if not result.is_new:
            txn.step, txn.completed_at = STEP_EXISTING, now
        elif _aadhaar_linked(mobile, result.profile, txn.draft.get("sent_to", "")):
            txn.step = STEP_ADDRESS
        else:
            txn.step = STEP_MOBILE_OTP
        txn.save()
        if result.is_new and created_here:
            # What ABDM confirmed new, in the same transaction; an ABHA ABDM already had counts nothing.
            for metric in (CountMetric.ABHA_CREATED, CountMetric.ABHA_ACTIVE):
                count_add(metric=metric, district_lgd=account.district_id, facility_key=account.assisted_facility_id)
        audit_record(
            actor=actor if actor is not None and actor.is_authenticated else account.user,
            action="abha.enrol" if result.is_new else "abha.enrol_existing",
            target=account,
            details={
                "channel": txn.channel,
                "district": account.district_id,
                "facility": str(txn.assisted_facility.uuid) if txn.assisted_facility_id else None,
            },
            request=request,
        )
    if txn.step == STEP_MOBILE_OTP:
        with contextlib.suppress(DomainError):  # the ABHA exists; the mobile page offers "send again"
            _send_mobile_otp(txn)
    return Verified(txn=txn, account=account, is_new=result.is_new)


def _aadhaar_linked(mobile: str, profile: m1.Profile, sent_to: str) -> bool:
    """Whether `mobile` is the Aadhaar-linked one, which the Aadhaar OTP already proved. ABDM leaves the profile's
    mobile empty (or another) when it is not; its OTP message named the linked one masked ("******0903")."""
    if profile.mobile != mobile:
        return False
    shown = re.sub(r"\D", "", sent_to)
    return not shown or mobile.endswith(shown)


def _send_mobile_otp(txn: OtpTransaction) -> None:
    sent = m1.enrol_request_mobile_otp(txn_id=txn.abdm_txn_id, mobile=txn.mobile)
    now = timezone.now()
    OtpTransaction.objects.filter(pk=txn.pk).update(
        abdm_txn_id=sent.txn_id or txn.abdm_txn_id, sent_at=now, expires_at=now + OTP_TTL, updated_at=now
    )
    txn.abdm_txn_id, txn.sent_at, txn.expires_at = sent.txn_id or txn.abdm_txn_id, now, now + OTP_TTL


def enrolment_mobile_resend(*, txn_id, ip: str | None = None) -> OtpTransaction:
    """ABDM sends the mobile-verify OTP again (not before 60 s, at most 3 times; the per-mobile and per-address
    limits apply)."""
    with transaction.atomic():
        txn = _txn_locked(txn_id, OtpPurpose.ENROL)
        if txn.completed_at or txn.step != STEP_MOBILE_OTP:
            raise Conflict(_("There is no OTP to send again. Please start again."), code="wrong_step")
        if txn.resend_count >= OTP_MAX_RESENDS:
            raise Conflict(_("The OTP cannot be sent again. Please start again."), code="otp_resend_limit")
        wait = int((txn.sent_at + OTP_RESEND_AFTER - timezone.now()).total_seconds()) + 1
        if wait > 0:
            raise DomainError(
                _("You can ask for a new OTP in %(seconds)s seconds.") % {"seconds": wait}, code="otp_resend_too_soon"
            )
        _throttle_otp(mobile=txn.mobile, purpose=OtpPurpose.ENROL, ip=ip)
        _send_mobile_otp(txn)
        txn.resend_count += 1
        txn.save(update_fields=["resend_count", "updated_at"])
    return txn


def enrolment_verify_mobile(*, txn_id, otp: str) -> OtpTransaction:
    """Checks the mobile's OTP with ABDM (auth/byAbdm); the account's mobile becomes the verified one."""
    otp = _otp_digits(otp)
    with transaction.atomic():
        txn = _open_enrolment(txn_id, STEP_MOBILE_OTP)
        txn.abdm_txn_id = m1.enrol_verify_mobile_otp(txn_id=txn.abdm_txn_id, otp=otp)
        txn.step = STEP_ADDRESS
        txn.save(update_fields=["abdm_txn_id", "step", "updated_at"])
        account = AbhaAccount.objects.select_related("user").get(pk=txn.created_account_id)
        account.mobile = account.user.mobile = txn.mobile
        account.save(update_fields=["mobile", "updated_at"])
        account.user.save(update_fields=["mobile"])
    return txn


def enrolment_verified(*, txn_id) -> OtpTransaction:
    """The enrollment transaction at its address step (for suggestions and address checks); no write."""
    with transaction.atomic():
        return _open_enrolment(txn_id, STEP_ADDRESS)


def enrolment_suggestions(*, txn_id) -> list[str]:
    """ABDM's free ABHA addresses for this enrollment (local parts), best first; kept on the transaction, so one
    of them is claimed as ABDM offered it (ABDM's address policy is its own, looser than the portal's for typed
    addresses)."""
    with transaction.atomic():
        txn = _open_enrolment(txn_id, STEP_ADDRESS)
        suggested = m1.address_suggestions(txn_id=txn.abdm_txn_id)
        txn.draft = {**txn.draft, "suggested": suggested}
        txn.save(update_fields=["draft", "updated_at"])
    return suggested


def _address_local(raw: str, field: str = "abha_address") -> str:
    try:
        return address_validate(raw)
    except IdentifierError as error:
        raise _invalid(field, error.message) from None


def _address_taken(field: str) -> Conflict:
    message = _("This ABHA address is taken. Choose another one.")
    return Conflict(message, code="abha_address_taken", fields={field: [message]})


@transaction.atomic
def enrolment_complete(*, txn_id, abha_address: str | None = None, actor=None, request=None) -> AbhaAccount:
    """Ends the enrollment: claims `abha_address` at ABDM as the preferred address (or keeps the default
    `<ABHA number>@suffix` when none is given) and records it here as the primary one.

    ABDM refuses a taken address (`abha_address_taken`, the input kept); the transaction stays open then.
    Audited `abha.address_add` when an address was claimed.
    """
    txn = _open_enrolment(txn_id, STEP_ADDRESS)
    account = AbhaAccount.objects.select_for_update().get(pk=txn.created_account_id)
    local = address_local_part(abha_address or "")
    if local and not looks_like_abha_number(local):
        if local not in txn.draft.get("suggested", []) or len(local) > 18:
            local = _address_local(local)
        if AbhaAddress.objects.named(local).exclude(account=account).exists():
            raise _address_taken("abha_address")
        claimed = m1.enrol_abha_address(txn_id=txn.abdm_txn_id, local=local) or local
        account.addresses.filter(is_primary=True).update(is_primary=False)
        try:
            with transaction.atomic():
                AbhaAddress.objects.update_or_create(account=account, local=claimed, defaults={"is_primary": True})
        except IntegrityError:
            raise _address_taken("abha_address") from None
        account.__dict__.pop("primary_address", None)
        audit_record(
            actor=actor if actor is not None and actor.is_authenticated else account.user,
            action="abha.address_add",
            target=account,
            details={"address": account.primary_address.full if account.primary_address else ""},
            request=request,
        )
    txn.step, txn.completed_at = STEP_DONE, timezone.now()
    txn.save(update_fields=["step", "completed_at", "updated_at"])
    return account
