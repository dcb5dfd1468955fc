"""Pure rules for the identifiers of ABDM.md section 1: ABHA number, ABHA address, Aadhaar, mobile.

No database access here: services use these to check input before it goes to ABDM. ABDM issues ABHA numbers
and addresses; the portal mints none, and checks an ABHA number's shape only (14 digits): ABDM publishes no
checksum for it.
"""

import re
import secrets
import unicodedata

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.in_ import aadhaar as stdnum_aadhaar

ABHA_NUMBER_LENGTH = 14
_MOBILE = re.compile(r"^[6-9][0-9]{9}$")
_PINCODE = re.compile(r"^[1-9][0-9]{5}$")
_ADDRESS_LOCAL = re.compile(r"^[a-z0-9._]{8,18}$")


class IdentifierError(ValueError):
    """Input that breaks an identifier rule; `message` is translated and shown to people."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


# --- ABHA number --------------------------------------------------------------------------


def abha_number_clean(value: str) -> str:
    """Accepts `91-6285-4575-5116`, `91 6285 4575 5116` or 14 digits; returns the digits.

    Raises IdentifierError when the value is not 14 digits. The shape is all that is checked: ABDM publishes no
    check digit, so a number is never refused for failing one.
    """
    digits = re.sub(r"[\s-]", "", str(value or ""))
    if not digits.isascii() or not digits.isdecimal() or len(digits) != ABHA_NUMBER_LENGTH:
        raise IdentifierError(_("An ABHA number has 14 digits."))
    return digits


def looks_like_abha_number(value: str) -> bool:
    digits = re.sub(r"[\s-]", "", str(value or ""))
    return digits.isascii() and digits.isdecimal() and len(digits) == ABHA_NUMBER_LENGTH


def abha_number_display(digits: str) -> str:
    """`91628545755116` -> `91-6285-4575-5116`."""
    return f"{digits[:2]}-{digits[2:6]}-{digits[6:10]}-{digits[10:14]}" if len(digits) == 14 else digits


# --- ABHA address ---------------------------------------------------------------------------


def address_suffix() -> str:
    return settings.ABHA_ADDRESS_SUFFIX


def address_local_part(value: str) -> str:
    """`Asha.Patel@sbx` or `asha.patel` -> `asha.patel` (lower case; our own suffix removed)."""
    value = str(value or "").strip().lower()
    suffix = "@" + address_suffix().lower()
    if value.endswith(suffix):
        value = value[: -len(suffix)]
    return value


def address_full(local: str) -> str:
    return f"{local}@{address_suffix()}"


def address_validate(local: str, *, own_number: str | None = None) -> str:
    """Checks a chosen local part against the ABDM rules; returns it lower-cased.

    8-18 letters and digits, at most one `.` and one `_`, neither first or last. The only all-digit
    local part allowed is the person's own ABHA number (`own_number`), the default address.
    """
    local = address_local_part(local)
    if "@" in local:
        raise IdentifierError(
            _("Use only the part before the @; the portal adds @%(suffix)s.") % {"suffix": address_suffix()}
        )
    if own_number and local == own_number:
        return local
    if not 8 <= len(local) <= 18:
        raise IdentifierError(_("An ABHA address has 8 to 18 characters."))
    if not _ADDRESS_LOCAL.match(local):
        raise IdentifierError(_("Use only English letters, digits, one dot and one underscore."))
    if local.count(".") > 1 or local.count("_") > 1:
        raise IdentifierError(_("Use at most one dot and at most one underscore."))
    if local[0] in "._" or local[-1] in "._":
        raise IdentifierError(_("A dot or underscore cannot be the first or last character."))
    if local.isdecimal():
        raise IdentifierError(_("An ABHA address cannot be only digits, except your own ABHA number."))
    return local


# A plain romanisation of Devanagari (Gujarati sits 0x180 above it, letter for letter), enough to
# turn a name typed in Gujarati or Hindi into address suggestions: આશા પટેલ -> asha patel.
# fmt: off
_CONSONANTS = dict(zip(range(0x915, 0x93A), [
    "k", "kh", "g", "gh", "ng",
    "ch", "chh", "j", "jh", "ny",
    "t", "th", "d", "dh", "n",
    "t", "th", "d", "dh", "n", "n",
    "p", "ph", "b", "bh", "m",
    "y", "r", "r", "l", "l", "l", "v", "sh", "sh", "s", "h",
], strict=True))
_VOWELS = dict(zip(range(0x905, 0x915), [
    "a", "a", "i", "i", "u", "u", "ri", "l", "e", "e", "e", "ai", "o", "o", "o", "au",
], strict=True))
_VOWEL_SIGNS = dict(zip(range(0x93E, 0x94D), [
    "a", "i", "i", "u", "u", "ri", "ri", "e", "e", "e", "ai", "o", "o", "o", "au",
], strict=True))
# fmt: on
_VIRAMA, _NASAL = 0x94D, {0x901: "n", 0x902: "n", 0x903: "h"}


def romanize(text: str) -> str:
    """Latin letters for Devanagari and Gujarati (inherent `a` dropped at the end of a word)."""
    out, pending = [], False
    for char in text:
        code = ord(char)
        if 0xA80 <= code <= 0xAFF:
            code -= 0x180
        if code in _CONSONANTS:
            out.append(("a" if pending else "") + _CONSONANTS[code])
            pending = True
        elif code in _VOWEL_SIGNS:
            out.append(_VOWEL_SIGNS[code])
            pending = False
        elif code == _VIRAMA:
            pending = False
        elif code in _NASAL or code in _VOWELS:
            out.append(("a" if pending else "") + (_NASAL.get(code) or _VOWELS[code]))
            pending = False
        elif 0x900 <= code <= 0x97F:
            continue  # nukta, accents: no letter of their own
        else:
            out.append(char)
            pending = False
    return "".join(out)


def _ascii_letters(name: str) -> str:
    folded = unicodedata.normalize("NFKD", romanize(name or "")).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]", "", folded.lower())


def address_candidates(
    *, first_name: str, last_name: str = "", year_of_birth: int | None = None, rng=None
) -> list[str]:
    """Valid local parts built from the name and birth year, best first (availability not checked)."""
    rng = rng or secrets.SystemRandom()
    first, last = _ascii_letters(first_name)[:12], _ascii_letters(last_name)[:12]
    year = str(year_of_birth or "")
    short = year[-2:]
    base = first or last or "abha"
    raw = []
    if first and last:
        raw += [f"{first}.{last}", f"{first}_{last}{short}", f"{first}{last}{year}", f"{last}.{first}{short}"]
    raw += [f"{base}{year}", f"{base}.{year}", f"{base}_{short}{rng.randrange(100, 1000)}"]
    raw += [
        f"{base}{year}{rng.randrange(10, 100)}",
        f"{base}.{rng.randrange(1000, 10000)}",
        f"abha{rng.randrange(10**6, 10**7)}",
    ]
    valid = []
    for candidate in raw:
        candidate = candidate[:18].strip("._")
        try:
            candidate = address_validate(candidate)
        except IdentifierError:
            continue
        if candidate not in valid:
            valid.append(candidate)
    return valid


# --- Aadhaar ------------------------------------------------------------------------------


def aadhaar_clean(value: str) -> str:
    """The 12 digits of a valid Aadhaar number (Verhoeff, first digit 2-9, not a palindrome), checked before it is
    encrypted for ABDM so a typo is caught on the page. Raises IdentifierError with one translated message; the
    number itself is never put in it. Held only for the one request that sends it to ABDM.
    """
    try:
        return stdnum_aadhaar.validate(str(value or ""))
    except StdnumError:
        raise IdentifierError(_("This Aadhaar number is not valid. Please check the 12 digits.")) from None


# --- Mobile, pincode -------------------------------------------------------------------------


def mobile_clean(value: str) -> str:
    digits = re.sub(r"[\s-]", "", str(value or ""))
    if digits.startswith("+91") and len(digits) == 13:
        digits = digits[3:]
    if not _MOBILE.match(digits):
        raise IdentifierError(_("Enter a 10-digit mobile number starting with 6, 7, 8 or 9."))
    return digits


def pincode_clean(value: str) -> str:
    value = str(value or "").strip()
    if not _PINCODE.match(value):
        raise IdentifierError(_("Enter a 6-digit pincode that does not start with 0."))
    return value
