"""Enrollment: the mobile and its OTP, the personal details, the ABHA address, and creating the ABHA."""

import calendar
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import access
from core.counters import count_add
from core.enums import CountMetric, Role
from core.exceptions import Conflict, DomainError, NotAllowed
from core.models import District, User
from core.services import audit_record

from ..enums import Channel, Gender, OtpPurpose
from ..identifiers import (
    IdentifierError,
    aadhaar_clean,
    aadhaar_hash,
    abha_number_generate,
    address_local_part,
    address_validate,
    looks_like_abha_number,
    mobile_clean,
    pincode_clean,
)
from ..models import CURRENT_CONSENT_VERSION, AbhaAccount, AbhaAddress, OtpTransaction
from .otp import _invalid, _new_otp, _send_otp_after_commit, _throttle_otp, _txn_locked

# After the OTP is verified the citizen has this long to fill in the details.
ENROLMENT_TTL = timedelta(minutes=30)
MAX_ABHA_PER_MOBILE = 6
NUMBER_ATTEMPTS = 5
GENDER_ALIASES = {"T": Gender.OTHER, "D": Gender.UNDISCLOSED}


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
    _throttle_otp(mobile=mobile, purpose=OtpPurpose.ENROL, ip=ip)
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
    """Serialises enrollments on one mobile so two at once cannot both be the 6th (an advisory lock until commit)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"abha-mobile:{mobile}"])


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
