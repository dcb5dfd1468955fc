"""Identifiers the sandbox's ABHA service checks and issues, and the UIDAI it plays.

- Aadhaar: 12 digits, first digit 2-9, Verhoeff check digit (python-stdnum). Kept only as a keyed hash
  (HMAC-SHA256 with ABDM_SANDBOX_AADHAAR_KEY) and its last four digits.
- An Aadhaar nobody defined gets a made-up Gujarati resident derived from that hash: the same number always
  gives the same person (name, gender, birth date, district, pincode, Aadhaar-linked mobile).
- ABHA numbers: 14 random digits after a configurable 2-digit prefix (ABDM_SANDBOX_ABHA_PREFIX, default 91);
  never sequential. ABHA addresses: `<local>@<suffix>` (ABDM_SANDBOX_ABHA_SUFFIX, default sbx).
"""

import datetime
import hashlib
import hmac
import os
import re
import secrets

from django.conf import settings
from stdnum.in_ import aadhaar as stdnum_aadhaar

ABHA_PREFIX = os.environ.get("ABDM_SANDBOX_ABHA_PREFIX") or "91"
ADDRESS_SUFFIX = os.environ.get("ABDM_SANDBOX_ABHA_SUFFIX") or "sbx"
if not re.fullmatch(r"\d{2}", ABHA_PREFIX):
    raise ValueError("ABDM_SANDBOX_ABHA_PREFIX must be two digits")

_AADHAAR = re.compile(r"^[2-9]\d{11}$")
MOBILE = re.compile(r"^[6-9]\d{9}$")
ABHA_NUMBER = re.compile(r"^\d{14}$")
# ABDM's address policy: letters and digits, at most one dot and one underscore, neither first nor last, not
# starting with a digit, at most 18 characters. The minimum differs between NHA's files (4 in the M1 suggestion
# text and two P1 test groups, 8 in the NHA app and one P1 group): the sandbox refuses only what every source
# refuses, so 4. The one all-digit local part allowed is the account's own 14-digit number (its default
# address), which never passes through this check.
_LOCAL_PART = re.compile(r"^[a-z][a-z0-9._]{2,16}[a-z0-9]$")


def _hash_key() -> bytes:
    return (os.environ.get("ABDM_SANDBOX_AADHAAR_KEY") or settings.SECRET_KEY).encode()


def aadhaar_is_valid(number: str) -> bool:
    return bool(_AADHAAR.match(number)) and stdnum_aadhaar.is_valid(number)


def aadhaar_hash(number: str) -> str:
    return hmac.new(_hash_key(), b"aadhaar:" + number.encode(), hashlib.sha256).hexdigest()


def secret_hash(purpose: str, value: str) -> str:
    """A keyed hash of an OTP (with its transaction): what the database keeps instead of the OTP."""
    return hmac.new(_hash_key(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def new_otp() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def mask_mobile(mobile: str) -> str:
    """******0903, as ABDM's messages write a mobile."""
    return "******" + mobile[-4:] if mobile else ""


def mask_mobile_qr(mobile: str) -> str:
    """98xxxxxx10, as the ABHA card's QR writes it."""
    return mobile[:2] + "xxxxxx" + mobile[-2:] if len(mobile) == 10 else ""


def format_abha_number(digits: str) -> str:
    return f"{digits[:2]}-{digits[2:6]}-{digits[6:10]}-{digits[10:]}"


def parse_abha_number(value: str) -> str | None:
    """The 14 digits of an ABHA number typed with or without dashes/spaces; None when it is not one."""
    digits = re.sub(r"[\s-]", "", value or "")
    return digits if ABHA_NUMBER.match(digits) else None


def random_abha_number() -> str:
    return ABHA_PREFIX + f"{secrets.randbelow(10**12):012d}"


def full_address(value: str) -> str:
    """`local` or `local@suffix` -> `local@suffix`, lower-case."""
    value = (value or "").strip().lower()
    return value if "@" in value else f"{value}@{ADDRESS_SUFFIX}"


def address_policy_ok(value: str) -> bool:
    """Whether a chosen address (`local` or `local@<suffix>`) follows the policy."""
    value = (value or "").strip().lower()
    local, _, suffix = value.partition("@")
    if suffix and suffix != ADDRESS_SUFFIX:
        return False
    return bool(_LOCAL_PART.match(local)) and local.count(".") <= 1 and local.count("_") <= 1


def suggestions(first_name: str, last_name: str, birth: datetime.date | None, year: int) -> list[str]:
    """Candidate local parts built from the name and birth date, best first, each within the policy."""
    first = re.sub(r"[^a-z]", "", (first_name or "").lower()) or "abha"
    last = re.sub(r"[^a-z]", "", (last_name or "").lower())
    day = f"{birth.day:02d}" if birth else ""
    month = f"{birth.month:02d}" if birth else ""
    y = str(year)
    raw = [
        f"{first}{last}{y}",
        f"{first}.{last}{y}",
        f"{first}_{last}{y}",
        f"{first}{y}",
        f"{first}.{y}",
        f"{first}_{y}",
        f"{first}{last}",
        f"{first}.{last}",
        f"{first}{last}{day}{month}",
        f"{first}{day}{month}{y}",
        f"{last}.{first}{y}" if last else "",
        f"{first}{last[:1]}{y}",
    ]
    seen, out = set(), []
    for candidate in raw:
        candidate = candidate[:18].rstrip("._")
        if candidate and candidate not in seen and address_policy_ok(candidate):
            seen.add(candidate)
            out.append(candidate)
    return out


# --- made-up residents: Gujarat, deterministic from the Aadhaar's hash ----------------------------------------

# fmt: off
_FIRST_MALE = [
    "Hitesh", "Jignesh", "Mahesh", "Rakesh", "Bhavesh", "Kalpesh", "Nilesh", "Paresh", "Dhaval", "Chirag",
    "Harsh", "Kishan", "Mehul", "Nirav", "Pratik", "Sanjay", "Tushar", "Vipul", "Ketan", "Jayesh",
]
_FIRST_FEMALE = [
    "Hetal", "Jigna", "Komal", "Nisha", "Pooja", "Riddhi", "Sejal", "Trupti", "Urvashi", "Bhoomi",
    "Dhara", "Falguni", "Geeta", "Hiral", "Kinjal", "Mansi", "Nidhi", "Payal", "Rinku", "Sonal",
]
_MIDDLE = [
    "Rameshbhai", "Sureshbhai", "Dineshbhai", "Mukeshbhai", "Jayantibhai", "Kantilal", "Natvarlal", "Pravinbhai",
    "Babubhai", "Arvindbhai",
]
_LAST = [
    "Patel", "Shah", "Desai", "Mehta", "Joshi", "Parmar", "Chauhan", "Solanki", "Trivedi", "Vyas", "Pandya",
    "Rathod", "Makwana", "Vaghela", "Thakkar", "Bhatt", "Modi", "Dave", "Gohil", "Jadeja",
]
# fmt: on
# (LGD code, district, a sub-district, pincode prefix)
_DISTRICTS = [
    ("438", "Ahmadabad", "Daskroi", "3820"),
    ("439", "Amreli", "Amreli", "3656"),
    ("440", "Anand", "Anand", "3880"),
    ("442", "Bharuch", "Bharuch", "3920"),
    ("443", "Bhavnagar", "Bhavnagar", "3640"),
    ("445", "Dohad", "Dohad", "3891"),
    ("446", "Gandhinagar", "Gandhinagar", "3820"),
    ("447", "Jamnagar", "Jamnagar", "3610"),
    ("448", "Junagadh", "Junagadh", "3620"),
    ("449", "Kachchh", "Bhuj", "3700"),
    ("450", "Kheda", "Nadiad", "3870"),
    ("451", "Mahesana", "Mahesana", "3840"),
    ("453", "Navsari", "Navsari", "3964"),
    ("457", "Rajkot", "Rajkot", "3600"),
    ("459", "Surat", "Choryasi", "3950"),
    ("461", "Vadodara", "Vadodara", "3900"),
    ("462", "Valsad", "Valsad", "3960"),
]
_STREETS = [
    "Station Road", "Gandhi Chowk", "Sardar Nagar", "Nehru Society", "Mahadev Faliyu", "Bazar Road", "Ram Nagar",
    "Patel Vas", "Shastri Nagar", "Navrangpura",
]  # fmt: skip


def made_up_resident(aadhaar_digest: str) -> dict:
    """A Gujarati resident derived from the Aadhaar's keyed hash (fields as Resident's)."""
    seed = bytes.fromhex(aadhaar_digest)

    def pick(options, index):
        return options[seed[index] % len(options)]

    gender = "F" if seed[0] % 2 else "M"
    first = pick(_FIRST_FEMALE if gender == "F" else _FIRST_MALE, 1)
    name = f"{first} {pick(_MIDDLE, 2)} {pick(_LAST, 3)}"
    born = datetime.date(1950, 1, 1) + datetime.timedelta(days=int.from_bytes(seed[4:7], "big") % (55 * 365))
    code, district, subdistrict, pin = pick(_DISTRICTS, 7)
    mobile = str(6 + seed[8] % 4) + f"{int.from_bytes(seed[9:14], 'big') % 10**9:09d}"
    house = 1 + int.from_bytes(seed[14:16], "big") % 400
    return {
        "name": name,
        "gender": gender,
        "date_of_birth": born,
        "address": f"{house}, {pick(_STREETS, 16)}, {subdistrict}, {district}, Gujarat",
        "state_code": "24",
        "state_name": "GUJARAT",
        "district_code": code,
        "district_name": district.upper(),
        "subdistrict_name": subdistrict.upper(),
        "pincode": pin + f"{seed[17] % 100:02d}",
        "mobile": mobile,
    }


def split_name(name: str) -> tuple[str, str, str]:
    parts = (name or "").split()
    if not parts:
        return "", "", ""
    if len(parts) == 1:
        return parts[0], "", ""
    return parts[0], " ".join(parts[1:-1]), parts[-1]
