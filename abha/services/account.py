"""The citizen's own ABHA: contact details, addresses, and the changes confirmed by OTP (new mobile, deactivate,
reactivate, delete)."""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from abdm import m1
from core.counters import count_add
from core.enums import CountMetric
from core.exceptions import Conflict, DomainError, NotAllowed, NotFound
from core.services import audit_record
from core.sms import mask_mobile

from ..enums import AccountStatus, Gender, OtpPurpose
from ..identifiers import IdentifierError, address_validate, mobile_clean, pincode_clean
from ..models import AbhaAccount, AbhaAddress, OtpTransaction
from .otp import (
    OTP_TTL,
    _invalid,
    _new_otp,
    _send_otp_after_commit,
    _throttle_otp,
    _txn_locked,
    _uuid_or_none,
    otp_verify,
)
from .profile import account_x_token


def _address_taken(field: str) -> Conflict:
    message = _("This ABHA address is taken. Choose another one.")
    return Conflict(message, code="abha_address_taken", fields={field: [message]})


def _address_or_conflict(raw: str, *, field: str = "abha_address") -> str:
    try:
        local = address_validate(raw)
    except IdentifierError as error:
        raise _invalid(field, error.message) from None
    if AbhaAddress.objects.named(local).exists():
        raise _address_taken(field)
    return local


# The apps after abha keep what a citizen granted and shared (records: consent requests and artefacts; scanshare: the
# profiles shared at counters). abha may not import them (core <- facilities <- abha <- scanshare <- records), so,
# like access rules, each registers from its AppConfig.ready() what a deactivation, reactivation or deletion means
# for its rows: `handler(*, account, event, actor, request)`, event "deactivate", "reactivate" or "delete", called
# by account_confirm inside the change's transaction (after the account's own change, before its audit row), so
# the account and everything that copied it change together or not at all.
ACCOUNT_EVENTS = ("deactivate", "reactivate", "delete")
_account_change_handlers: list = []


def on_account_change(handler):
    """Registers `handler` for the account events (once, however often it is registered); returns it."""
    if handler not in _account_change_handlers:
        _account_change_handlers.append(handler)
    return handler


def _account_changed(account: AbhaAccount, event: str, actor, request) -> None:
    for handler in _account_change_handlers:
        handler(account=account, event=event, actor=actor, request=request)


def _own(account: AbhaAccount, actor) -> AbhaAccount:
    """The account locked for update, when `actor` is its citizen and it is not deleted."""
    if actor is None or account.user_id != actor.pk:
        raise NotAllowed(_("Only the citizen can change their own ABHA."))
    account = AbhaAccount.objects.select_for_update().get(pk=account.pk)
    if account.status == AccountStatus.DELETED:
        raise Conflict(_("This ABHA has been deleted."), code="abha_deleted")
    return account


@transaction.atomic
def account_update_contact(*, account: AbhaAccount, actor, address: str, pincode: str, email: str, request=None):
    """Changes the address, pincode and email (validated as at enrollment); audited `abha.update`."""
    account = _own(account, actor)
    errors = {}
    address = " ".join(str(address or "").split())
    if len(address) > 300:
        errors["address"] = [_("Use at most 300 characters.")]
    pincode = str(pincode or "").strip()
    if pincode:
        try:
            pincode = pincode_clean(pincode)
        except IdentifierError as error:
            errors["pincode"] = [error.message]
    email = str(email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = [_("Enter a valid email address.")]
    if errors:
        raise DomainError(_("Some fields are not valid."), code="invalid", fields=errors)
    changed = [f for f, v in (("address", address), ("pincode", pincode), ("email", email)) if getattr(account, f) != v]
    account.address, account.pincode, account.email = address, pincode, email
    account.save(update_fields=["address", "pincode", "email", "updated_at"])
    audit_record(actor=actor, action="abha.update", target=account, details={"fields": changed}, request=request)
    return account


@transaction.atomic
def address_add(*, account: AbhaAccount, actor, local: str, make_primary: bool = False, request=None) -> AbhaAddress:
    """Adds another ABHA address (rules and case-insensitive uniqueness as at enrollment)."""
    account = _own(account, actor)
    local = _address_or_conflict(local, field="abha_address")
    if make_primary:
        account.addresses.filter(is_primary=True).update(is_primary=False)
    try:
        with transaction.atomic():
            address = AbhaAddress.objects.create(account=account, local=local, is_primary=make_primary)
    except IntegrityError:
        raise _address_taken("abha_address") from None
    audit_record(
        actor=actor, action="abha.address_add", target=account, details={"address": address.full}, request=request
    )
    return address


@transaction.atomic
def account_otp_start(*, account: AbhaAccount, actor, purpose: str, new_mobile: str = "", ip=None) -> OtpTransaction:
    """Sends an OTP confirming a change the citizen asked for.

    `purpose` mobile: ABDM sends the OTP to `new_mobile` (m1_profile_request_otp with the citizen's token; ABDM
    refuses a mobile with 6 ABHAs). deactivate, reactivate or delete: the portal sends it to the account's own
    mobile (these changes are the portal's own). Throttled like every OTP.
    """
    account = _own(account, actor)
    allowed = {
        OtpPurpose.MOBILE_CHANGE: True,
        OtpPurpose.DEACTIVATE: account.status == AccountStatus.ACTIVE,
        OtpPurpose.REACTIVATE: account.status == AccountStatus.DEACTIVATED,
        OtpPurpose.DELETE: True,
    }
    if not allowed.get(purpose):
        raise Conflict(_("This cannot be done to the ABHA in its current state."), code="invalid_state")
    mobile = account.mobile
    if purpose == OtpPurpose.MOBILE_CHANGE:
        try:
            mobile = mobile_clean(new_mobile)
        except IdentifierError as error:
            raise _invalid("mobile", error.message) from None
        if mobile == account.mobile:
            raise _invalid("mobile", _("This is already your mobile number."))
        _throttle_otp(mobile=mobile, purpose=purpose, ip=ip)
        sent = _mobile_otp_request(account, mobile)
        now = timezone.now()
        return OtpTransaction.objects.create(
            purpose=purpose,
            mobile=mobile,
            account=account,
            abdm_txn_id=sent.txn_id,
            sent_at=now,
            expires_at=now + OTP_TTL,
        )
    _throttle_otp(mobile=mobile, purpose=purpose, ip=ip)
    txn = OtpTransaction(purpose=purpose, mobile=mobile, account=account)
    otp = _new_otp(txn)
    txn.save()
    _send_otp_after_commit(mobile, otp)
    return txn


def _mobile_otp_request(account: AbhaAccount, mobile: str) -> m1.OtpSent:
    try:
        return m1.mobile_update_request_otp(x_token=account_x_token(account), mobile=mobile)
    except m1.TokenExpired:
        return m1.mobile_update_request_otp(x_token=account_x_token(account, refresh=True), mobile=mobile)


def mobile_change_confirm(*, account: AbhaAccount, actor, txn_id, otp: str, request=None) -> AbhaAccount:
    """ABDM checks the new mobile's OTP (m1_profile_verify_otp) and links it; the portal's copy follows, audited
    `abha.mobile_change`. A wrong OTP raises `otp_invalid` (the field kept)."""
    if actor is None or account.user_id != actor.pk:
        raise NotAllowed(_("Only the citizen can change their own ABHA."))
    otp = str(otp or "").strip()
    if not (otp.isdecimal() and len(otp) == 6):
        raise _invalid("otp", _("Enter the 6-digit OTP."))
    with transaction.atomic():
        txn = _txn_locked(txn_id, OtpPurpose.MOBILE_CHANGE)
        if txn.account_id != account.pk or txn.completed_at:
            raise NotFound(_("This request has expired or does not exist. Please start again."), code="txn_not_found")
        m1.mobile_update_verify(x_token=account_x_token(account), txn_id=txn.abdm_txn_id, otp=otp)
        account = _own(account, actor)
        old, user = account.mobile, account.user
        account.mobile = user.mobile = txn.mobile
        account.save(update_fields=["mobile", "updated_at"])
        user.save(update_fields=["mobile"])
        txn.verified_at = txn.completed_at = timezone.now()
        txn.save(update_fields=["verified_at", "completed_at", "updated_at"])
        details = {"from": mask_mobile(old), "to": mask_mobile(txn.mobile)}
        audit_record(actor=actor, action="abha.mobile_change", target=account, details=details, request=request)
    return account


def _confirmed(account: AbhaAccount, txn_id, purpose: str) -> OtpTransaction:
    """The verified transaction of this account's change, locked and marked complete."""
    txn = _txn_locked(txn_id, purpose)
    if txn.account_id != account.pk or not txn.verified_at:
        raise NotFound(_("This request has expired or does not exist. Please start again."), code="txn_not_found")
    if txn.completed_at:
        raise Conflict(_("This request is already complete. Please start again."), code="txn_completed")
    txn.completed_at = timezone.now()
    txn.save(update_fields=["completed_at", "updated_at"])
    return txn


def account_confirm(*, account: AbhaAccount, actor, txn_id, otp: str, purpose: str, request=None) -> AbhaAccount:
    """Applies a change confirmed by OTP: new mobile (through ABDM: mobile_change_confirm), deactivate, reactivate,
    or delete.

    Delete erases the personal data (names, birth date, contact, ABDM tokens, addresses), keeps
    the number as a tombstone so it is never issued again, disables the sign-in and its API
    tokens, and audits `abha.delete`. Deactivate, reactivate and delete also run the handlers the later apps
    registered (`on_account_change`: records suspends, restores or revokes consents and erases their copies of the
    identifiers, scanshare erases shared profiles), in the same transaction. The OTP check commits on its own
    (failed attempts count).
    """
    if purpose == OtpPurpose.MOBILE_CHANGE:
        return mobile_change_confirm(account=account, actor=actor, txn_id=txn_id, otp=otp, request=request)
    if actor is None or account.user_id != actor.pk:
        raise NotAllowed(_("Only the citizen can change their own ABHA."))
    if not OtpTransaction.objects.filter(uuid=_uuid_or_none(txn_id), purpose=purpose, account=account).exists():
        raise NotFound(_("This request has expired or does not exist. Please start again."), code="txn_not_found")
    otp_verify(txn_id=txn_id, otp=otp, purpose=purpose)  # its own transaction: wrong tries must count
    with transaction.atomic():
        _confirmed(account, txn_id, purpose)
        account = _own(account, actor)
        now = timezone.now()
        if purpose == OtpPurpose.DEACTIVATE:
            account.status, account.deactivated_at = AccountStatus.DEACTIVATED, now
            account.save(update_fields=["status", "deactivated_at", "updated_at"])
            _count_active(account, -1)
            _account_changed(account, "deactivate", actor, request)
            action, details = "abha.deactivate", {}
        elif purpose == OtpPurpose.REACTIVATE:
            account.status, account.deactivated_at = AccountStatus.ACTIVE, None
            account.save(update_fields=["status", "deactivated_at", "updated_at"])
            _count_active(account, +1)
            _account_changed(account, "reactivate", actor, request)
            action, details = "abha.reactivate", {}
        elif purpose == OtpPurpose.DELETE:
            was_active = account.status == AccountStatus.ACTIVE
            _erase(account, now)
            if was_active:
                _count_active(account, -1)
            _account_changed(account, "delete", actor, request)
            action, details = "abha.delete", {"tombstone": True}
        else:
            raise DomainError(_("This request has expired or does not exist. Please start again."))
        audit_record(actor=actor, action=action, target=account, details=details, request=request)
    return account


def _count_active(account: AbhaAccount, delta: int) -> None:
    """Active-ABHA dashboard counter, changed in the same transaction as the status."""
    count_add(
        metric=CountMetric.ABHA_ACTIVE,
        district_lgd=account.district_id,
        facility_key=account.assisted_facility_id,
        delta=delta,
    )


def _erase(account: AbhaAccount, now) -> None:
    """Deletes the person's data from the account and its sign-in; the number stays as a tombstone."""
    from rest_framework.authtoken.models import Token

    account.addresses.all().delete()
    for field in ("first_name", "middle_name", "last_name", "mobile", "email", "address", "pincode"):
        setattr(account, field, "")
    for field in ("abdm_token", "abdm_refresh_token"):
        setattr(account, field, "")
    account.abdm_token_expires_at = account.abdm_refresh_expires_at = None
    account.gender = Gender.UNDISCLOSED
    account.year_of_birth, account.month_of_birth, account.day_of_birth = 0, None, None
    account.status, account.deleted_at = AccountStatus.DELETED, now
    account.save()
    user = account.user
    user.first_name = user.last_name = user.email = user.mobile = ""
    user.is_active = False
    user.set_unusable_password()
    user.save()
    Token.objects.filter(user=user).delete()
    # Their OTP conversations held the mobile (and the enrollment's details): gone too.
    OtpTransaction.objects.filter(Q(account=account) | Q(created_account=account)).delete()
