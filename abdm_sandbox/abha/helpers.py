"""Sandbox-only helpers of the ABHA service under /sandbox/v1/abha/ (not ABDM's contract): define UIDAI
residents, create demo accounts in bulk, expire an OTP. No session token: they are for whoever runs the sandbox.

POST /sandbox/v1/abha/residents       {aadhaar, name, gender, dob (YYYY-MM-DD), mobile, address?, stateCode?,
                                       stateName?, districtCode?, districtName?, subdistrictName?, pincode?,
                                       photo? (base64 JPEG)}
                                       -> 201 (new) / 200 (replaced) {"aadhaarLast4", "mobile", "created"}
POST /sandbox/v1/abha/residents/lookup {aadhaar} -> 200 the resident UIDAI has (made up now when nobody defined
                                       one): {"aadhaarLast4", "name", "gender", "dob", "mobile", "address",
                                       "stateCode", "districtCode", "districtName", "pincode", "generated"}
POST /sandbox/v1/abha/accounts/bulk   {"accounts": [{name, gender, dob | yearOfBirth[, monthOfBirth, dayOfBirth],
                                       mobile?, address?, stateCode?, stateName?, districtCode?, districtName?,
                                       pincode?, abhaNumber?, abhaAddress?, aadhaar?, kycVerified?}, ...]}
                                       (up to 10,000) -> 201 {"accounts": [{"ABHANumber", "abhaNumber",
                                       "preferredAbhaAddress"}, ...]} in the order given
POST /sandbox/v1/abha/otp/expire      {"txnId"} -> 200 {"expired": true}: the transaction's OTP expires now
"""

import datetime
import uuid

from django.db import IntegrityError

from ..errors import abdm_error
from ..http import api_view, json_body, ok
from . import identity, services
from .models import Account

MAX_BULK = 10_000
_GENDERS = {"M": "M", "F": "F", "O": "O", "T": "O", "U": "O", "D": "O"}


class Invalid(Exception):
    """A helper request the sandbox cannot take (answered 400 with the message)."""


def _bad(message: str):
    return abdm_error(400, "ABDM-1006", message)


def _text(row: dict, key: str, limit: int, *, required: bool = False) -> str:
    value = row.get(key)
    if value is None or value == "":
        if required:
            raise Invalid(f"{key} is required")
        return ""
    if not isinstance(value, str | int) or len(str(value)) > limit:
        raise Invalid(f"{key} must be text of at most {limit} characters")
    return str(value).strip()


def _gender(row: dict) -> str:
    gender = _GENDERS.get(str(row.get("gender") or "").upper())
    if gender is None:
        raise Invalid("gender must be M, F or O")
    return gender


def _mobile(row: dict, *, required: bool) -> str:
    mobile = _text(row, "mobile", 10, required=required)
    if mobile and not identity.MOBILE.match(mobile):
        raise Invalid("mobile must be 10 digits starting 6-9")
    return mobile


def _aadhaar(row: dict, *, required: bool) -> str:
    aadhaar = _text(row, "aadhaar", 12, required=required)
    if aadhaar and not identity.aadhaar_is_valid(aadhaar):
        raise Invalid("aadhaar is not a valid Aadhaar number (12 digits, first 2-9, Verhoeff check digit)")
    return aadhaar


def _place(row: dict) -> dict:
    pincode = _text(row, "pincode", 6)
    if pincode and not (pincode.isdigit() and len(pincode) == 6):
        raise Invalid("pincode must be 6 digits")
    state_code = _text(row, "stateCode", 4) or "24"
    return {
        "address": _text(row, "address", 500),
        "state_code": state_code,
        "state_name": (_text(row, "stateName", 100) or ("GUJARAT" if state_code == "24" else "")).upper(),
        "district_code": _text(row, "districtCode", 6),
        "district_name": _text(row, "districtName", 100).upper(),
        "subdistrict_name": _text(row, "subdistrictName", 100).upper(),
        "pincode": pincode,
    }


def _date(value) -> datetime.date:
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        raise Invalid("dob must be a date, YYYY-MM-DD") from None


@api_view("POST")
def residents(request):
    """Define (or replace) the resident UIDAI knows for an Aadhaar number."""
    body = json_body(request)
    try:
        aadhaar = _aadhaar(body, required=True)
        fields = {
            "name": _text(body, "name", 200, required=True),
            "gender": _gender(body),
            "date_of_birth": _date(body.get("dob")),
            "mobile": _mobile(body, required=True),
            "photo": _text(body, "photo", 2_000_000),
            **_place(body),
        }
    except Invalid as invalid:
        return _bad(str(invalid))
    resident, created = services.resident_define(aadhaar=aadhaar, fields=fields)
    return ok({"aadhaarLast4": resident.aadhaar_last4, "mobile": resident.mobile, "created": created},
              status=201 if created else 200)  # fmt: skip


@api_view("POST")
def resident_lookup(request):
    """The resident of an Aadhaar number, as the sandbox's UIDAI has it (for tests and the demo: which mobile
    the Aadhaar OTP goes to)."""
    body = json_body(request)
    try:
        aadhaar = _aadhaar(body, required=True)
    except Invalid as invalid:
        return _bad(str(invalid))
    resident = services.resident_for_aadhaar(aadhaar)
    return ok(
        {
            "aadhaarLast4": resident.aadhaar_last4,
            "name": resident.name,
            "gender": resident.gender,
            "dob": resident.date_of_birth.isoformat(),
            "mobile": resident.mobile,
            "address": resident.address,
            "stateCode": resident.state_code,
            "districtCode": resident.district_code,
            "districtName": resident.district_name,
            "pincode": resident.pincode,
            "generated": resident.generated,
        }
    )


def _bulk_row(row) -> dict:
    if not isinstance(row, dict):
        raise Invalid("each account must be an object")
    first, middle, last = (
        identity.split_name(_text(row, "name", 200))
        if row.get("name")
        else (_text(row, "firstName", 100), _text(row, "middleName", 100), _text(row, "lastName", 100))
    )
    if not first:
        raise Invalid("name (or firstName) is required")
    if row.get("dob"):
        born = _date(row["dob"])
        year, month, day = born.year, born.month, born.day
    else:
        try:
            year = int(row.get("yearOfBirth"))
            month = int(row["monthOfBirth"]) if row.get("monthOfBirth") else None
            day = int(row["dayOfBirth"]) if row.get("dayOfBirth") else None
            datetime.date(year, month or 1, day or 1)
        except (TypeError, ValueError):
            raise Invalid("dob (YYYY-MM-DD) or yearOfBirth is required") from None
    number = None
    if row.get("abhaNumber"):
        number = identity.parse_abha_number(str(row["abhaNumber"]))
        if number is None:
            raise Invalid("abhaNumber must be 14 digits")
    mobile = _mobile(row, required=False)
    return {
        "first_name": first, "middle_name": middle, "last_name": last, "gender": _gender(row),
        "year_of_birth": year, "month_of_birth": month, "day_of_birth": day,
        "mobile": mobile, "mobile_verified": bool(mobile), "kyc_verified": bool(row.get("kycVerified", True)),
        "verification_type": "AADHAAR" if row.get("kycVerified", True) else "MOBILE",
        "abha_number": number, "abha_address": _text(row, "abhaAddress", 64) or None,
        "aadhaar": _aadhaar(row, required=False) or None, **_place(row),
    }  # fmt: skip


@api_view("POST")
def accounts_bulk(request):
    """Create accounts for the portal's demo in one call (thousands at once)."""
    body = json_body(request)
    rows = body.get("accounts")
    if not isinstance(rows, list) or not rows or len(rows) > MAX_BULK:
        return _bad(f"accounts must be a list of 1 to {MAX_BULK} objects")
    parsed = []
    for position, row in enumerate(rows):
        try:
            parsed.append(_bulk_row(row))
        except Invalid as invalid:
            return _bad(f"accounts[{position}]: {invalid}")
    given = [row["abha_number"] for row in parsed if row["abha_number"]]
    if len(given) != len(set(given)) or Account.objects.filter(abha_number__in=given).exists():
        return _bad("an abhaNumber given is repeated or already issued")
    aadhaars = [row["aadhaar"] for row in parsed if row["aadhaar"]]
    if len(aadhaars) != len(set(aadhaars)):
        return _bad("an aadhaar given is repeated")
    try:
        created = services.accounts_bulk_create(rows=parsed, client_id="sandbox-helper")
    except IntegrityError:
        return _bad("an account for one of these Aadhaar numbers or ABHA numbers already exists")
    return ok(
        {
            "accounts": [
                {
                    "ABHANumber": account.formatted_number,
                    "abhaNumber": account.abha_number,
                    "preferredAbhaAddress": account.preferred_address,
                }
                for account in created
            ]
        },
        status=201,
    )


@api_view("POST")
def otp_expire(request):
    """Expire the current OTP of a transaction now (tests of the expired-OTP answers)."""
    body = json_body(request)
    try:
        txn_id = uuid.UUID(str(body.get("txnId")))
    except ValueError:
        return _bad("txnId must be a transaction id")
    if not services.otp_expire(txn_id):
        return abdm_error(404, "ABDM-1017", "Invalid Transaction Id")
    return ok({"expired": True})
