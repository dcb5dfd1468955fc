"""Writes of the sandbox's ABHA service: residents, transactions and their OTPs, accounts, addresses.

OTPs go out by SMS after the transaction commits (transaction.on_commit); the database keeps only a keyed hash.
"""

import datetime
import enum
import os

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..sms import send_sms
from . import identity
from .models import AbhaAddress, Account, Resident, Transaction, TransactionKind

OTP_SECONDS = int(os.environ.get("ABDM_SANDBOX_OTP_SECONDS") or 600)  # "OTP will be valid for 10 minute only"
OTP_ATTEMPTS = int(os.environ.get("ABDM_SANDBOX_OTP_ATTEMPTS") or 5)
# OTPs per mobile in 30 minutes (then ABDM-1100): generous, because one sandbox serves a whole test run.
OTP_SENDS = int(os.environ.get("ABDM_SANDBOX_OTP_SENDS") or 50)
LOCK_SECONDS = 30 * 60  # ABDM-1100: "Please try again in 30 minutes."
TXN_SECONDS = int(os.environ.get("ABDM_SANDBOX_TXN_SECONDS") or 1800)
MAX_ACCOUNTS_PER_MOBILE = 6  # ABDM-1124


class OtpResult(enum.Enum):
    OK = "ok"
    WRONG = "wrong"
    EXPIRED = "expired"
    LOCKED = "locked"


class TooManyOtps(Exception):
    """ABDM-1100: too many OTPs for this mobile, or the transaction is locked after wrong attempts."""


class MobileFull(Exception):
    """ABDM-1124: the mobile already carries six ABHA numbers."""


class AddressTaken(Exception):
    """ABDM-1101."""


def _now():
    return timezone.now()


# --- residents (UIDAI) --------------------------------------------------------------------------------------


def resident_for_aadhaar(aadhaar: str) -> Resident:
    """The resident of a (valid) Aadhaar: the one defined for it, else a made-up one, created now and kept so
    the same number always finds the same person."""
    digest = identity.aadhaar_hash(aadhaar)
    found = Resident.objects.filter(aadhaar_hash=digest).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return Resident.objects.create(
                aadhaar_hash=digest, aadhaar_last4=aadhaar[-4:], generated=True, **identity.made_up_resident(digest)
            )
    except IntegrityError:  # made by a concurrent request
        return Resident.objects.get(aadhaar_hash=digest)


@transaction.atomic
def resident_define(*, aadhaar: str, fields: dict) -> tuple[Resident, bool]:
    """Create or replace the resident of `aadhaar` (helper endpoint). Returns (resident, created)."""
    digest = identity.aadhaar_hash(aadhaar)
    resident, created = Resident.objects.update_or_create(
        aadhaar_hash=digest, defaults={"aadhaar_last4": aadhaar[-4:], "generated": False, **fields}
    )
    return resident, created


# --- transactions and OTPs -------------------------------------------------------------------------------------


def transaction_start(*, kind: str, scope: list, login_hint: str = "", otp_system: str = "", client_id: str = "",
                      resident=None, account=None, candidates=None) -> Transaction:  # fmt: skip
    return Transaction.objects.create(
        kind=kind, scope=sorted(scope), login_hint=login_hint, otp_system=otp_system, client_id=client_id,
        resident=resident, account=account, candidates=candidates or [],
        expires_at=_now() + datetime.timedelta(seconds=TXN_SECONDS),
    )  # fmt: skip


def transaction_live(txn_id, kinds) -> Transaction | None:
    """The live (not expired) transaction `txn_id` of one of `kinds`, else None."""
    return Transaction.objects.filter(txn_id=txn_id, kind__in=kinds, expires_at__gt=_now()).first()


_SMS = {
    "aadhaar": "{otp} is your Aadhaar OTP to {purpose}. It is valid for 10 minutes. Do not share it. -UIDAI",
    "abdm": "{otp} is your OTP to {purpose}. It is valid for 10 minutes. Do not share it. -ABDM",
}
_PURPOSE = {
    TransactionKind.ENROL_AADHAAR: "create your ABHA",
    TransactionKind.LOGIN: "sign in to your ABHA",
    TransactionKind.SEARCH: "find your ABHA",
    TransactionKind.PROFILE: "change the mobile number of your ABHA",
    TransactionKind.PHR_LOGIN: "sign in with your ABHA address",
}


def otp_send(txn: Transaction, *, mobile: str, system: str, purpose: str | None = None) -> None:
    """A fresh OTP for `txn`, sent to `mobile` by SMS after commit. Raises TooManyOtps past OTP_SENDS for that
    mobile in 30 minutes, or while the transaction is locked."""
    now = _now()
    if txn.locked_until and txn.locked_until > now:
        raise TooManyOtps()
    recent = Transaction.objects.filter(otp_mobile=mobile, updated_at__gt=now - datetime.timedelta(minutes=30))
    if sum(recent.values_list("otp_sends", flat=True)) >= OTP_SENDS:
        raise TooManyOtps()
    otp = identity.new_otp()
    txn.otp_mobile = mobile
    txn.otp_hash = identity.secret_hash(f"otp:{txn.txn_id}", otp)
    txn.otp_expires_at = now + datetime.timedelta(seconds=OTP_SECONDS)
    txn.otp_attempts = 0
    txn.otp_sends += 1
    txn.otp_verified = False
    txn.save()
    text = _SMS[system].format(otp=otp, purpose=purpose or _PURPOSE[txn.kind])
    transaction.on_commit(lambda: send_sms(mobile, text))


def otp_check(txn_id, kinds, otp: str) -> tuple[OtpResult, Transaction | None]:
    """Check an OTP against the live transaction `txn_id` (row locked). A right OTP is spent; wrong ones count,
    and the OTP_ATTEMPTS-th wrong one locks the transaction for 30 minutes."""
    with transaction.atomic():
        txn = (
            Transaction.objects.select_for_update().filter(txn_id=txn_id, kind__in=kinds, expires_at__gt=_now()).first()
        )
        if txn is None:
            return OtpResult.EXPIRED, None
        now = _now()
        if txn.locked_until and txn.locked_until > now:
            return OtpResult.LOCKED, txn
        if not txn.otp_hash or txn.otp_expires_at is None or txn.otp_expires_at <= now:
            return OtpResult.EXPIRED, txn
        if identity.secret_hash(f"otp:{txn.txn_id}", otp) != txn.otp_hash:
            txn.otp_attempts += 1
            if txn.otp_attempts >= OTP_ATTEMPTS:
                txn.locked_until = now + datetime.timedelta(seconds=LOCK_SECONDS)
                txn.otp_hash = ""
                txn.save()
                return OtpResult.LOCKED, txn
            txn.save()
            return OtpResult.WRONG, txn
        txn.otp_hash = ""
        txn.otp_verified = True
        txn.save()
        return OtpResult.OK, txn


def otp_expire(txn_id) -> bool:
    """Helper endpoint: the current OTP of `txn_id` expires now (tests of the expiry path)."""
    return bool(Transaction.objects.filter(txn_id=txn_id).update(otp_expires_at=_now() - datetime.timedelta(seconds=1)))


# --- accounts -------------------------------------------------------------------------------------------------


def _unused_numbers(count: int) -> list[str]:
    """`count` fresh random ABHA numbers, unused in the database and distinct from each other."""
    chosen: set[str] = set()
    while len(chosen) < count:
        batch = {identity.random_abha_number() for _ in range((count - len(chosen)) * 2 + 4)} - chosen
        taken = set(Account.objects.filter(abha_number__in=batch).values_list("abha_number", flat=True))
        chosen |= set(list(batch - taken)[: count - len(chosen)])
    return list(chosen)


def _account_fields_from_resident(resident: Resident) -> dict:
    first, middle, last = identity.split_name(resident.name)
    born = resident.date_of_birth
    return {
        "first_name": first, "middle_name": middle, "last_name": last, "gender": resident.gender,
        "year_of_birth": born.year, "month_of_birth": born.month, "day_of_birth": born.day,
        "address": resident.address, "state_code": resident.state_code, "state_name": resident.state_name,
        "district_code": resident.district_code, "district_name": resident.district_name,
        "subdistrict_name": resident.subdistrict_name, "pincode": resident.pincode, "kyc_photo": resident.photo,
        "kyc_verified": True, "verification_type": "AADHAAR",
    }  # fmt: skip


def account_enrol(*, resident: Resident, mobile: str, client_id: str) -> tuple[Account, bool]:
    """The ABHA of `resident`: the existing one (False), or a new one (True) whose preferred address is its
    default `<number>@sbx`. `mobile` (the communication mobile the integrator sent) becomes the account's mobile when it
    is the Aadhaar-linked one; any other stays off the account until ABDM's OTP verifies it (request/otp with
    mobile-verify, then auth/byAbdm). Raises MobileFull when a new account would be the seventh on that mobile."""
    existing = Account.objects.filter(resident=resident).first()
    if existing is not None:
        return existing, False
    mobile = mobile if mobile == resident.mobile else ""
    if mobile and Account.objects.filter(mobile=mobile).count() >= MAX_ACCOUNTS_PER_MOBILE:
        raise MobileFull()
    number = _unused_numbers(1)[0]
    default = f"{number}@{identity.ADDRESS_SUFFIX}"
    try:
        with transaction.atomic():
            account = Account.objects.create(
                abha_number=number, resident=resident, mobile=mobile, mobile_verified=bool(mobile),
                preferred_address=default, created_by_client=client_id, **_account_fields_from_resident(resident),
            )  # fmt: skip
    except IntegrityError:  # the same Aadhaar enrolled concurrently: that account is the one
        return Account.objects.get(resident=resident), False
    return account, True


@transaction.atomic
def address_claim(*, account: Account, address: str) -> Account:
    """Attach `address` (policy already checked) to `account` and make it the preferred one. Raises
    AddressTaken when another account holds it."""
    full = identity.full_address(address)
    holder = AbhaAddress.objects.filter(address=full).values_list("account_id", flat=True).first()
    if holder is not None and holder != account.pk:
        raise AddressTaken()
    if holder is None:
        try:
            with transaction.atomic():
                AbhaAddress.objects.create(account=account, address=full)
        except IntegrityError:
            raise AddressTaken() from None
    account.preferred_address = full
    account.save(update_fields=["preferred_address", "updated_at"])
    return account


def taken_addresses(candidates: list[str]) -> set[str]:
    fulls = [identity.full_address(c) for c in candidates]
    return set(AbhaAddress.objects.filter(address__in=fulls).values_list("address", flat=True))


@transaction.atomic
def mobile_change(*, account: Account, mobile: str) -> Account:
    account.mobile = mobile
    account.mobile_verified = True
    account.save(update_fields=["mobile", "mobile_verified", "updated_at"])
    return account


@transaction.atomic
def profile_update(*, account: Account, fields: dict) -> Account:
    for name, value in fields.items():
        setattr(account, name, value)
    account.save()
    return account


@transaction.atomic
def accounts_bulk_create(*, rows: list[dict], client_id: str = "") -> list[Account]:
    """Create many accounts at once (the portal's demo): each row has Account's fields (and optionally
    `abha_number`, `abha_address` (a local part or full address), `aadhaar`). Numbers are minted unless given;
    every account has its default address `<number>@sbx` (implicit, see models.AbhaAddress); a chosen address
    that is taken or outside the policy is skipped (the default stays preferred). Two bulk_create calls and a
    few lookups, whatever the count."""
    given = [row.get("abha_number") for row in rows if row.get("abha_number")]
    fresh = iter(_unused_numbers(len(rows) - len(given)))
    residents = {}
    aadhaars = [row["aadhaar"] for row in rows if row.get("aadhaar")]
    if aadhaars:
        for aadhaar in aadhaars:
            residents[aadhaar] = resident_for_aadhaar(aadhaar)
    accounts, addresses, wanted = [], [], set()
    for row in rows:
        data = {key: value for key, value in row.items() if key not in ("abha_number", "abha_address", "aadhaar")}
        number = row.get("abha_number") or next(fresh)
        default = f"{number}@{identity.ADDRESS_SUFFIX}"
        preferred = default
        chosen = row.get("abha_address")
        if chosen and identity.address_policy_ok(chosen):
            full = identity.full_address(chosen)
            if full not in wanted:
                wanted.add(full)
                preferred = full
        accounts.append(
            Account(
                abha_number=number,
                resident=residents.get(row.get("aadhaar")),
                preferred_address=preferred,
                created_by_client=client_id,
                **data,
            )  # fmt: skip
        )
    taken = set(AbhaAddress.objects.filter(address__in=wanted).values_list("address", flat=True))
    for account in accounts:
        if account.preferred_address in taken:
            account.preferred_address = f"{account.abha_number}@{identity.ADDRESS_SUFFIX}"
    created = Account.objects.bulk_create(accounts, batch_size=1000)
    for account in created:
        if account.preferred_address != f"{account.abha_number}@{identity.ADDRESS_SUFFIX}":
            addresses.append(AbhaAddress(account=account, address=account.preferred_address))
    AbhaAddress.objects.bulk_create(addresses, batch_size=2000)
    return created
