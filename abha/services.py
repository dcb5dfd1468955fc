"""Every write of the ABHA app: OTP transactions, enrollment, sign-in.

Services take keyword arguments, run in one database transaction, and raise
core.exceptions.DomainError (or a subclass) with a stable `code` and a translated message.
SMS goes out in `transaction.on_commit`, so an OTP is never sent for a rolled-back request.
"""

import calendar
import uuid
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core import access, ratelimit
from core.counters import count_add
from core.enums import CountMetric, Role
from core.exceptions import Conflict, DomainError, NotAllowed, NotFound
from core.models import District, User
from core.otp import otp_issue, otp_matches, otp_throttle, wrong_otp_count, wrong_otps_refuse
from core.services import audit_record
from core.sms import mask_mobile, send_on_commit

from .enums import AccountStatus, Channel, Gender, OtpPurpose
from .identifiers import (
    IdentifierError,
    aadhaar_clean,
    aadhaar_hash,
    abha_number_clean,
    abha_number_generate,
    address_local_part,
    address_validate,
    looks_like_abha_number,
    mobile_clean,
    pincode_clean,
)
from .models import CURRENT_CONSENT_VERSION, AbhaAccount, AbhaAddress, OtpTransaction

OTP_TTL = timedelta(minutes=10)
OTP_RESEND_AFTER = timedelta(seconds=60)
OTP_MAX_RESENDS = 3
OTP_MAX_ATTEMPTS = 5
# After the OTP is verified the citizen has this long to fill in the details.
ENROLMENT_TTL = timedelta(minutes=30)
MAX_ABHA_PER_MOBILE = 6
NUMBER_ATTEMPTS = 5
GENDER_ALIASES = {"T": Gender.OTHER, "D": Gender.UNDISCLOSED}


# --- OTP plumbing -------------------------------------------------------------------------


def _throttle_otp(*, mobile: str, ip: str | None) -> None:
    """OTP_MOBILE_RATE per mobile and OTP_IP_RATE per client address (fixed windows; values hashed in the keys)."""
    otp_throttle(f"abha:otp:mobile:{ratelimit.hashed(mobile)}", rate=settings.OTP_MOBILE_RATE)
    if ip:
        otp_throttle(f"abha:otp:ip:{ratelimit.hashed(ip)}", rate=settings.OTP_IP_RATE)


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


# --- Enrollment: mobile and OTP -------------------------------------------------------------


@transaction.atomic
def enrolment_start(
    *,
    mobile: str,
    consent_version: str,
    actor=None,
    ip: str | None = None,
    facility=None,
    channel: str = Channel.SELF,
) -> OtpTransaction:
    """Opens an enrollment transaction for `mobile` and sends it an OTP.

    Refuses early when the consent version is not the current one or the mobile already holds
    6 ABHAs. Assisted enrollment (`facility` given) needs `actor` to act for that facility.
    Throttled per mobile and per IP. Writes one OtpTransaction; the SMS leaves on commit.
    """
    try:
        mobile = mobile_clean(mobile)
    except IdentifierError as error:
        raise _invalid("mobile", error.message) from None
    if consent_version != CURRENT_CONSENT_VERSION:
        raise DomainError(
            _("Please read and accept the current consent text first."),
            code="consent_required",
            fields={
                "consent_version": [_("Accept consent version %(version)s.") % {"version": CURRENT_CONSENT_VERSION}]
            },
        )
    if facility is not None:
        if not access.can(actor, "act_for", facility):
            raise NotAllowed(_("You do not work at this facility."))
        channel = channel if channel in (Channel.ASSISTED, Channel.CAMP) else Channel.ASSISTED
    else:
        channel = Channel.SELF
    if AbhaAccount.objects.on_mobile(mobile).count() >= MAX_ABHA_PER_MOBILE:
        raise Conflict(
            _(
                "This mobile number already has 6 ABHAs, the most one number may hold. "
                "Use another mobile number, or sign in to one of its ABHAs."
            ),
            code="mobile_limit",
            fields={"mobile": [_("This mobile number already has 6 ABHAs.")]},
        )
    _throttle_otp(mobile=mobile, ip=ip)
    txn = OtpTransaction(
        purpose=OtpPurpose.ENROL,
        mobile=mobile,
        consent_version=consent_version,
        channel=channel,
        assisted_by=actor if facility is not None else None,
        assisted_facility=facility,
    )
    otp = _new_otp(txn)
    txn.save()
    _send_otp_after_commit(mobile, otp)
    return txn


@transaction.atomic
def otp_resend(*, txn_id, purpose: str, ip: str | None = None) -> OtpTransaction:
    """A new OTP for an open transaction: not before 60 s, at most 3 times, not once locked."""
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
    _throttle_otp(mobile=txn.mobile, ip=ip)
    otp = _new_otp(txn)
    txn.resend_count += 1
    txn.save(update_fields=["otp_hash", "sent_at", "expires_at", "resend_count", "updated_at"])
    _send_otp_after_commit(txn.mobile, otp)
    return txn


def otp_verify(*, txn_id, otp: str, purpose: str, ip: str | None = None) -> OtpTransaction:
    """Checks `otp` against the transaction; a wrong one counts, and 5 wrong ones lock it. Wrong OTPs
    also count per client `ip` (cache), which is refused for a while after OTP_IP_WRONG_RATE of them.

    Not one atomic block on purpose: the failed-attempt count must be saved even though the
    call then raises. Raises DomainError codes otp_invalid, otp_expired, otp_locked, throttled.
    """
    wrong_otps_refuse(ip)
    error = None
    with transaction.atomic():
        txn = _txn_locked(txn_id, purpose)
        now = timezone.now()
        if txn.completed_at:
            error = Conflict(_("This request is already complete. Please start again."), code="txn_completed")
        elif txn.verified_at:
            return txn
        elif txn.failed_attempts >= OTP_MAX_ATTEMPTS:
            error = Conflict(_("Too many wrong OTPs. Please start again."), code="otp_locked")
        elif now > txn.expires_at:
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


def _verified_enrolment(txn_id) -> OtpTransaction:
    txn = _txn_locked(txn_id, OtpPurpose.ENROL)
    if txn.completed_at:
        raise Conflict(_("This enrollment is already complete."), code="txn_completed")
    if not txn.verified_at:
        raise DomainError(_("Verify your mobile number with the OTP first."), code="otp_not_verified")
    if timezone.now() > txn.verified_at + ENROLMENT_TTL:
        raise DomainError(_("This enrollment has expired. Please start again."), code="txn_expired")
    return txn


@transaction.atomic
def enrolment_verified(*, txn_id) -> OtpTransaction:
    """The open, OTP-verified enrollment transaction (for suggestions and address checks); no write."""
    return _verified_enrolment(txn_id)


# --- Enrollment: details, address, completion ---------------------------------------------


def _int_or_none(value):
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return "invalid"


def details_clean(data: dict) -> dict:
    """Validates personal details (the same rules for the browser and the API).

    Returns a dict ready for AbhaAccount; raises DomainError with one message per bad field.
    """
    errors: dict[str, list] = {}
    cleaned: dict = {}

    def err(field, message):
        errors.setdefault(field, []).append(message)

    for field, required in (("first_name", True), ("middle_name", False), ("last_name", False)):
        value = " ".join(str(data.get(field) or "").split())
        if required and not value:
            err(field, _("Enter the first name."))
        elif len(value) > 100:
            err(field, _("Use at most 100 characters."))
        cleaned[field] = value
    gender = str(data.get("gender") or "").strip().upper()
    gender = GENDER_ALIASES.get(gender, gender)
    if gender not in Gender.values:
        err("gender", _("Choose a gender."))
    cleaned["gender"] = gender

    today = timezone.localdate()
    year = _int_or_none(data.get("year_of_birth"))
    month = _int_or_none(data.get("month_of_birth"))
    day = _int_or_none(data.get("day_of_birth"))
    if year is None or year == "invalid":
        err("year_of_birth", _("Enter the year of birth (4 digits)."))
    elif year > today.year:
        err("year_of_birth", _("The year of birth cannot be in the future."))
    elif year < today.year - 130:
        err("year_of_birth", _("Enter a year of birth after %(year)s.") % {"year": today.year - 131})
    if month == "invalid" or (month is not None and not 1 <= month <= 12):
        err("month_of_birth", _("Choose a month from 1 to 12."))
    if day is not None and month is None and "month_of_birth" not in errors:
        err("month_of_birth", _("Choose the month too, or leave the day empty."))
    if not errors.get("year_of_birth") and not errors.get("month_of_birth"):
        if day == "invalid" or (day is not None and not 1 <= day <= calendar.monthrange(year, month)[1]):
            err("day_of_birth", _("This day does not exist in that month."))
        elif date(year, month or 1, day or 1) > today:
            err("year_of_birth", _("The date of birth cannot be in the future."))
    cleaned.update(year_of_birth=year, month_of_birth=month, day_of_birth=day)

    state_lgd, district_lgd = _int_or_none(data.get("state_lgd")), _int_or_none(data.get("district_lgd"))
    district = None
    if isinstance(district_lgd, int):
        district = District.objects.select_related("state").filter(lgd_code=district_lgd).first()
    if district is None:
        err("district_lgd", _("Choose a district from the list."))
    elif state_lgd != district.state_id:
        err("state_lgd", _("This district is not in the chosen state."))
    cleaned["district"] = district
    cleaned["state"] = district.state if district else None

    address = " ".join(str(data.get("address") or "").split())
    if len(address) > 300:
        err("address", _("Use at most 300 characters."))
    cleaned["address"] = address
    pincode = str(data.get("pincode") or "").strip()
    if pincode:
        try:
            pincode = pincode_clean(pincode)
        except IdentifierError as error:
            err("pincode", error.message)
    cleaned["pincode"] = pincode
    email = str(data.get("email") or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            err("email", _("Enter a valid email address."))
    cleaned["email"] = email
    if errors:
        raise DomainError(_("Some fields are not valid."), code="invalid", fields=errors)
    return cleaned


def _details_and_aadhaar(data: dict, aadhaar: str | None) -> tuple[dict, str | None]:
    """Cleaned details and Aadhaar digits; every bad field (Aadhaar included) reported at once."""
    errors, cleaned, digits = {}, {}, None
    try:
        cleaned = details_clean(data)
    except DomainError as error:
        errors.update(error.fields)
    if aadhaar:
        try:
            digits = aadhaar_clean(aadhaar)
        except IdentifierError as error:
            errors["aadhaar"] = [error.message]
    if errors:
        raise DomainError(_("Some fields are not valid."), code="invalid", fields=errors)
    return cleaned, digits


def _aadhaar_checked(digits: str) -> tuple[str, str]:
    """(hash, last 4) of a valid Aadhaar that has no ABHA yet; Conflict aadhaar_has_abha otherwise."""
    digest = aadhaar_hash(digits)
    if AbhaAccount.objects.filter(aadhaar_hash=digest).exists():
        raise _aadhaar_conflict()
    return digest, digits[-4:]


def _aadhaar_conflict() -> Conflict:
    message = _("This Aadhaar number already has an ABHA. Sign in to your ABHA instead of creating a new one.")
    return Conflict(message, code="aadhaar_has_abha", fields={"aadhaar": [message]})


def _draft_json(cleaned: dict) -> dict:
    draft = {k: v for k, v in cleaned.items() if k not in ("district", "state")}
    draft["district_lgd"] = cleaned["district"].lgd_code
    draft["state_lgd"] = cleaned["state"].lgd_code
    return draft


@transaction.atomic
def enrolment_save_details(*, txn_id, data: dict, aadhaar: str | None = None) -> OtpTransaction:
    """Browser step "personal details": validates them and keeps them on the transaction.

    When an Aadhaar is given it is checked here, so a duplicate is caught at this step
    (Conflict aadhaar_has_abha); only its HMAC and last 4 digits are kept.
    """
    txn = _verified_enrolment(txn_id)
    cleaned, digits = _details_and_aadhaar(data, aadhaar)
    txn.aadhaar_hash, txn.aadhaar_last4 = _aadhaar_checked(digits) if digits else ("", "")
    txn.draft = _draft_json(cleaned)
    txn.save(update_fields=["draft", "aadhaar_hash", "aadhaar_last4", "updated_at"])
    return txn


def _lock_mobile(mobile: str) -> None:
    """Serialises enrollments on one mobile so two at once cannot both be the 6th."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"abha-mobile:{mobile}"])
    # SQLite transactions here are IMMEDIATE: one writer at a time already.


def _address_or_conflict(raw: str, *, field: str = "abha_address") -> str:
    try:
        local = address_validate(raw)
    except IdentifierError as error:
        raise _invalid(field, error.message) from None
    if AbhaAddress.objects.named(local).exists():
        raise _address_taken(field)
    return local


def _address_taken(field: str) -> Conflict:
    message = _("This ABHA address is taken. Choose another one.")
    return Conflict(message, code="abha_address_taken", fields={field: [message]})


@transaction.atomic
def enrolment_complete(
    *,
    txn_id,
    data: dict | None = None,
    aadhaar: str | None = None,
    abha_address: str | None = None,
    actor=None,
    request=None,
) -> AbhaAccount:
    """Creates the ABHA: citizen user, account, default address (+ the chosen one), in one transaction.

    `data` are the personal details (API); without it the details saved by the browser wizard
    are used. Checks, in order: OTP verified, details, Aadhaar duplicate, address free, at most 6
    ABHAs on the mobile (under a per-mobile lock). The number is random with a Luhn digit; a
    collision with an existing number (unique constraint) is retried with a new one.
    Audited as `abha.enrol`.
    """
    txn = _verified_enrolment(txn_id)
    if data is None:
        if not txn.draft:
            raise DomainError(_("Fill in your personal details first."), code="details_missing")
        data = txn.draft
    cleaned, digits = _details_and_aadhaar(data, aadhaar)
    if digits:
        digest, last4 = _aadhaar_checked(digits)
    else:
        digest, last4 = txn.aadhaar_hash or None, txn.aadhaar_last4
        if digest and AbhaAccount.objects.filter(aadhaar_hash=digest).exists():
            raise _aadhaar_conflict()
    chosen = None
    if abha_address and not looks_like_abha_number(address_local_part(abha_address)):
        chosen = _address_or_conflict(abha_address)
    _lock_mobile(txn.mobile)
    if AbhaAccount.objects.on_mobile(txn.mobile).count() >= MAX_ABHA_PER_MOBILE:
        raise Conflict(_("This mobile number already has 6 ABHAs, the most one number may hold."), code="mobile_limit")

    for _attempt in range(NUMBER_ATTEMPTS):
        number = abha_number_generate()
        try:
            with transaction.atomic():
                user = User(
                    username=number,
                    role=Role.CITIZEN,
                    first_name=cleaned["first_name"][:150],
                    last_name=cleaned["last_name"][:150],
                    mobile=txn.mobile,
                )
                user.set_unusable_password()
                user.save()
                account = AbhaAccount.objects.create(
                    user=user,
                    abha_number=number,
                    mobile=txn.mobile,
                    aadhaar_hash=digest,
                    aadhaar_last4=last4 if digest else "",
                    consent_version=txn.consent_version,
                    channel=txn.channel,
                    assisted_by_id=txn.assisted_by_id,
                    assisted_facility_id=txn.assisted_facility_id,
                    **cleaned,
                )
            break
        except IntegrityError as error:
            if "abha_one_per_aadhaar" in str(error):
                raise _aadhaar_conflict() from None
            continue  # the random number (or its username) exists already: draw another
    else:
        raise RuntimeError("Could not draw a free ABHA number; the number space is nearly full.")

    addresses = [AbhaAddress(account=account, local=number, is_primary=chosen is None)]
    if chosen:
        addresses.append(AbhaAddress(account=account, local=chosen, is_primary=True))
    try:
        with transaction.atomic():
            AbhaAddress.objects.bulk_create(addresses)
    except IntegrityError:
        raise _address_taken("abha_address") from None  # taken by a concurrent enrollment
    for metric in (CountMetric.ABHA_CREATED, CountMetric.ABHA_ACTIVE):  # dashboard counters, same transaction
        count_add(metric=metric, district_lgd=account.district_id, facility_key=account.assisted_facility_id)
    # The account holds the details now; the transaction keeps no copy of them.
    txn.completed_at = timezone.now()
    txn.created_account = account
    txn.draft, txn.aadhaar_hash, txn.aadhaar_last4 = {}, "", ""
    txn.save(update_fields=["completed_at", "created_account", "draft", "aadhaar_hash", "aadhaar_last4", "updated_at"])
    audit_record(
        actor=actor if actor is not None and actor.is_authenticated else user,
        action="abha.enrol",
        target=account,
        details={
            "channel": account.channel,
            "district": account.district_id,
            "facility": str(txn.assisted_facility.uuid) if txn.assisted_facility_id else None,
        },
        request=request,
    )
    return account


# --- Sign-in --------------------------------------------------------------------------------


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


# --- The citizen's own account: contact details, mobile, addresses, deactivate, delete ---------


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

    `purpose` is mobile (the OTP goes to `new_mobile`), deactivate, reactivate or delete (to
    the account's own mobile). Throttled like every OTP.
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
        if AbhaAccount.objects.on_mobile(mobile).count() >= MAX_ABHA_PER_MOBILE:
            raise Conflict(
                _("This mobile number already has 6 ABHAs."),
                code="mobile_limit",
                fields={"mobile": [_("This mobile number already has 6 ABHAs.")]},
            )
    _throttle_otp(mobile=mobile, ip=ip)
    txn = OtpTransaction(purpose=purpose, mobile=mobile, account=account)
    otp = _new_otp(txn)
    txn.save()
    _send_otp_after_commit(mobile, otp)
    return txn


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
    """Applies a change confirmed by OTP: new mobile, deactivate, reactivate, or delete.

    Delete erases the personal data (names, birth date, contact, Aadhaar hash, addresses), keeps
    the number as a tombstone so it is never issued again, disables the sign-in and its API
    tokens, and audits `abha.delete`. The OTP check commits on its own (failed attempts count).
    """
    if actor is None or account.user_id != actor.pk:
        raise NotAllowed(_("Only the citizen can change their own ABHA."))
    if not OtpTransaction.objects.filter(uuid=_uuid_or_none(txn_id), purpose=purpose, account=account).exists():
        raise NotFound(_("This request has expired or does not exist. Please start again."), code="txn_not_found")
    otp_verify(txn_id=txn_id, otp=otp, purpose=purpose)  # its own transaction: wrong tries must count
    with transaction.atomic():
        txn = _confirmed(account, txn_id, purpose)
        account = _own(account, actor)
        now = timezone.now()
        user = account.user
        if purpose == OtpPurpose.MOBILE_CHANGE:
            _lock_mobile(txn.mobile)
            if AbhaAccount.objects.on_mobile(txn.mobile).count() >= MAX_ABHA_PER_MOBILE:
                raise Conflict(_("This mobile number already has 6 ABHAs."), code="mobile_limit")
            old = account.mobile
            account.mobile = user.mobile = txn.mobile
            account.save(update_fields=["mobile", "updated_at"])
            user.save(update_fields=["mobile"])
            details = {"from": mask_mobile(old), "to": mask_mobile(txn.mobile)}
            action = "abha.mobile_change"
        elif purpose == OtpPurpose.DEACTIVATE:
            account.status, account.deactivated_at = AccountStatus.DEACTIVATED, now
            account.save(update_fields=["status", "deactivated_at", "updated_at"])
            _count_active(account, -1)
            action, details = "abha.deactivate", {}
        elif purpose == OtpPurpose.REACTIVATE:
            account.status, account.deactivated_at = AccountStatus.ACTIVE, None
            account.save(update_fields=["status", "deactivated_at", "updated_at"])
            _count_active(account, +1)
            action, details = "abha.reactivate", {}
        elif purpose == OtpPurpose.DELETE:
            was_active = account.status == AccountStatus.ACTIVE
            _erase(account, now)
            if was_active:
                _count_active(account, -1)
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
    for field in ("first_name", "middle_name", "last_name", "mobile", "email", "address", "pincode", "aadhaar_last4"):
        setattr(account, field, "")
    account.gender = Gender.UNDISCLOSED
    account.year_of_birth, account.month_of_birth, account.day_of_birth = 0, None, None
    account.aadhaar_hash = None
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


# --- Housekeeping -----------------------------------------------------------------------------

OTP_TRANSACTION_RETENTION = timedelta(days=1)


def otp_transactions_purge(*, now=None) -> int:
    """Deletes OTP transactions older than a day (they hold mobile numbers and OTP hashes).

    Finished enrollments keep nothing there (the account holds the data); unfinished ones have
    long expired. One DELETE on the created_at index; returns the number of rows deleted.
    """
    cutoff = (now or timezone.now()) - OTP_TRANSACTION_RETENTION
    deleted, _ = OtpTransaction.objects.filter(created_at__lt=cutoff).delete()
    return deleted
