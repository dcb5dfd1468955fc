"""ABDM's ABHA service (M1, NHA's `hiecm-m1.yaml`): one plain function per operation the portal uses.

Each function builds the request body the published spec gives for that operation (paths, header names, field names
and enums exactly as written there), sends it with `abdm.client.abha_request` and returns plain dataclasses the abha
app reads. Identifiers the citizen types (Aadhaar number, mobile, ABHA number) and every OTP are encrypted with the
ABHA service's public key before they leave: RSA/ECB/OAEPWithSHA-1AndMGF1Padding, base64 (the padding NHA's
documentation and the peers' working clients use; the spec only says "encrypted with the public certificate"). The
key is fetched from the certificate operation and cached.

ABDM's error codes become portal errors (core.exceptions) in plain words, with the field they concern, so a page
keeps what the citizen typed and marks the field: a wrong OTP, a taken ABHA address, an invalid Aadhaar number, a
mobile with 6 ABHAs, too many OTPs, an expired transaction. `AbdmUnavailable` (ABDM not answering) passes through
untouched; other ABDM errors keep abdm-core's translated `user_message`. Nothing here logs, stores or returns an
Aadhaar number or an OTP.

Operations used (path below ABDM_ABHA_URL, operationId in hiecm-m1.yaml):
    GET   /v3/profile/public/certificate         m1_get_public_certificate (spec path /profile/public/certificate)
    POST  /v3/enrollment/request/otp             m1_enrolment_request_otp (Aadhaar OTP; mobile-verify in the enrolment)
    POST  /v3/enrollment/enrol/byAadhaar         m1_enrolment_by_aadhaar
    POST  /v3/enrollment/auth/byAbdm             m1_enrolment_verify_abdm_otp
    GET   /v3/enrollment/enrol/suggestion        m1_enrolment_address_suggestions (TRANSACTION_ID header)
    POST  /v3/enrollment/enrol/abha-address      m1_enrolment_claim_abha_address
    POST  /v3/profile/login/request/otp          m1_login_request_otp (mobile / ABHA number, mobile OTP)
    POST  /v3/profile/login/verify               m1_login_verify
    POST  /v3/profile/login/verify/user          m1_login_select_account (T-token)
    GET   /v3/profile/account                    m1_profile_get_account (X-token)
    PATCH /v3/profile/account                    m1_profile_update_account (X-token)
    GET   /v3/profile/account/abha-card          m1_profile_get_abha_card (X-token)
    GET   /v3/profile/account/request/token      m1_token_refresh (R-token)
    POST  /v3/profile/account/request/otp        m1_profile_request_otp (mobile update, X-token)
    POST  /v3/profile/account/verify             m1_profile_verify_otp (mobile update, X-token)
"""

import base64
import datetime
import re
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from core.exceptions import Conflict, DomainError, NotFound, Throttled

from . import client
from .client import AbdmError, AbdmUnavailable

CERTIFICATE_PATH = "/v3/profile/public/certificate"
CERTIFICATE_CACHE_SECONDS = 6 * 60 * 60
# The consent block of byAadhaar, as every recorded request sends it.
ENROLMENT_CONSENT = {"code": "abha-enrollment", "version": "1.4"}

__all__ = [
    "AbdmDown",
    "AbdmRefused",
    "AbhaCard",
    "Enrolment",
    "LoginAccount",
    "LoginResult",
    "OtpSent",
    "Profile",
    "Tokens",
    "TokenExpired",
]


# --- Results -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OtpSent:
    txn_id: str
    message: str = ""

    @property
    def masked_mobile(self) -> str:
        """The masked mobile ABDM names in its message ("...ending with ******0161"), or ""."""
        found = re.search(r"[*xX]{2,}\d{2,4}", self.message or "")
        return found.group(0) if found else ""


@dataclass(frozen=True)
class Tokens:
    token: str
    expires_in: int
    refresh_token: str = ""
    refresh_expires_in: int = 0

    def expires_at(self, now: datetime.datetime) -> datetime.datetime:
        return now + datetime.timedelta(seconds=self.expires_in)

    def refresh_expires_at(self, now: datetime.datetime) -> datetime.datetime | None:
        return now + datetime.timedelta(seconds=self.refresh_expires_in) if self.refresh_token else None


@dataclass(frozen=True)
class Profile:
    """An ABHA as ABDM holds it. `abha_number` is 14 digits; addresses are local parts (suffix removed)."""

    abha_number: str
    first_name: str = ""
    middle_name: str = ""
    last_name: str = ""
    gender: str = ""
    year_of_birth: int | None = None
    month_of_birth: int | None = None
    day_of_birth: int | None = None
    mobile: str = ""
    email: str = ""
    address: str = ""
    pincode: str = ""
    state_lgd: int | None = None
    district_lgd: int | None = None
    state_name: str = ""
    district_name: str = ""
    status: str = ""
    preferred_address: str = ""
    addresses: tuple[str, ...] = ()


@dataclass(frozen=True)
class Enrolment:
    """byAadhaar's answer: the account (new, or the one this Aadhaar already has when `is_new` is false)."""

    txn_id: str
    is_new: bool
    profile: Profile
    tokens: Tokens | None
    message: str = ""

    @property
    def mobile_verified(self) -> bool:
        """ABDM puts the mobile on the profile only when it is the Aadhaar-linked one (else it must be verified)."""
        return bool(self.profile.mobile)


@dataclass(frozen=True)
class LoginAccount:
    abha_number: str
    name: str = ""
    preferred_address: str = ""
    status: str = ""


@dataclass(frozen=True)
class LoginResult:
    txn_id: str
    tokens: Tokens | None
    accounts: tuple[LoginAccount, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class AbhaCard:
    content: bytes
    content_type: str


class TokenExpired(DomainError):
    """ABDM refused the citizen's user token (expired or revoked): refresh it, or sign in again."""

    status = 401
    code = "abdm_sign_in_again"


# --- Encryption ------------------------------------------------------------------------------------------------


def _pem(key: str) -> bytes:
    key = key.strip()
    if "-----BEGIN" not in key:  # ABDM's sandbox answers the bare base64 of the DER key
        body = "\n".join(key[i : i + 64] for i in range(0, len(key), 64))
        key = f"-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----"
    return key.encode()


def _cache_key() -> str:
    return f"abdm:m1:public-key:{settings.ABDM_ABHA_URL}"


def public_key(*, refresh: bool = False):
    """The ABHA service's RSA public key (m1_get_public_certificate), cached for six hours per ABHA URL."""
    pem = None if refresh else cache.get(_cache_key())
    if pem is None:
        body = _call("GET", CERTIFICATE_PATH) or {}
        pem = _pem(str(body.get("publicKey") or body.get("certificate") or "")).decode()
        cache.set(_cache_key(), pem, CERTIFICATE_CACHE_SECONDS)
    try:
        return serialization.load_pem_public_key(pem.encode())
    except ValueError:
        cache.delete(_cache_key())
        raise AbdmRefused(AbdmError("ABDM's public certificate could not be read.", status=502)) from None


def encrypt(value: str) -> str:
    """`value` encrypted for the ABHA service: RSA/ECB/OAEPWithSHA-1AndMGF1Padding, base64."""
    sealed = public_key().encrypt(
        str(value).encode(),
        padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None),  # noqa: S303 - the padding ABDM requires
    )
    return base64.b64encode(sealed).decode()


# --- Errors ----------------------------------------------------------------------------------------------------

WRONG_OTP = _("The OTP is not correct. Check the SMS and type it again.")
OTP_SPENT = _("This OTP has expired or was tried too often. Please start again to get a new one.")
ADDRESS_TAKEN = _("This ABHA address is taken. Choose another one.")
AADHAAR_INVALID = _("This Aadhaar number is not valid. Please check the 12 digits.")
MOBILE_INVALID = _("Enter a 10-digit mobile number starting with 6, 7, 8 or 9.")
MOBILE_LIMIT = _("This mobile number already has 6 ABHAs. Please use another mobile number.")
TOO_MANY_OTPS = _("Too many OTPs or wrong tries. Please try again in 30 minutes.")
TXN_EXPIRED = _("This request has expired. Please start again.")
DEACTIVATED = _("This ABHA is deactivated.")
ADDRESS_INVALID = _("ABDM does not accept this ABHA address. Try another one.")
NOT_FOUND = _("ABDM found no ABHA for what you entered.")
LOGIN_ID_INVALID = _("Enter your ABHA number, ABHA address or mobile number.")

_UIDAI_CODE = re.compile(r"UIDAI Error code\s*:\s*(\d+)", re.I)
# UIDAI codes passed through in ABDM-1204's message: the OTP was wrong or expired / the Aadhaar number is not one.
_UIDAI_OTP = {"400"}
_UIDAI_OTP_SPENT = {"403"}  # tried too often, or no OTP was generated: a fresh one is needed
_UIDAI_AADHAAR = {"997", "998", "999", "996"}


def _field_error(message, field_name: str, *, error_class=DomainError, code: str) -> DomainError:
    return error_class(message, code=code, fields={field_name: [message]})


class AbdmDown(DomainError):
    """ABDM is not answering (AbdmUnavailable): pages show abdm-core's words, the API answers 503 + Retry-After."""

    status = 503
    code = "abdm_unavailable"


class AbdmRefused(DomainError):
    """ABDM refused the request for a reason the portal has no words of its own for: abdm-core's translation."""

    code = "abdm_refused"

    def __init__(self, error: AbdmError):
        super().__init__(error.user_message)
        self.abdm_code = error.code
        self.status = 400 if error.status and 400 <= error.status < 500 else 502


def _translate(error: AbdmError, *, otp_field: str = "otp", user_token: bool = False) -> DomainError:
    """The portal error for an ABDM error."""
    if isinstance(error, AbdmUnavailable):
        return AbdmDown(error.user_message, retry_after=60)
    code, text = error.code or "", str(error.message or "")
    fields = {k.lower(): v for k, v in (error.fields or {}).items()}
    uidai = _UIDAI_CODE.search(text)
    if code == "ABDM-1101":
        return _field_error(ADDRESS_TAKEN, "abha_address", error_class=Conflict, code="abha_address_taken")
    if code == "ABDM-1124":
        return _field_error(MOBILE_LIMIT, "mobile", error_class=Conflict, code="mobile_limit")
    if code in ("ABDM-1100", "ABDM-1022"):
        return Throttled(TOO_MANY_OTPS, code="otp_locked", retry_after=30 * 60)
    if not code.startswith("ABDM-") and re.search(r"\bOTP\b", text, re.I):  # a verify's refusal: {"description"}
        if re.search(r"expired", text, re.I):
            return _field_error(OTP_SPENT, otp_field, code="otp_expired")
        return _field_error(WRONG_OTP, otp_field, code="otp_invalid")
    if code == "ABDM-1017" or "txnid" in fields:
        return NotFound(TXN_EXPIRED, code="txn_expired")
    if user_token and (code == "ABDM-1158" or error.status == 401):
        return TokenExpired(_("Please sign in again."))
    if code == "ABDM-1134":
        return Conflict(DEACTIVATED, code="abha_deactivated")
    if code == "ABDM-1204" and uidai and uidai.group(1) in _UIDAI_OTP:
        return _field_error(WRONG_OTP, otp_field, code="otp_invalid")
    if code == "ABDM-1204" and uidai and uidai.group(1) in _UIDAI_OTP_SPENT:
        return _field_error(OTP_SPENT, otp_field, code="otp_expired")
    if code == "ABDM-1204" and uidai and uidai.group(1) in _UIDAI_AADHAAR:
        return _field_error(AADHAAR_INVALID, "aadhaar", code="aadhaar_invalid")
    if "otpvalue" in fields or "otp" in fields:
        return _field_error(WRONG_OTP, otp_field, code="otp_invalid")
    if "abhaaddress" in fields:
        return _field_error(ADDRESS_INVALID, "abha_address", code="abha_address_invalid")
    if code == "ABDM-1013":
        return NotFound(NOT_FOUND, code="abha_not_found")
    return AbdmRefused(error)


def _call(method: str, path: str, *, otp_field: str = "otp", login_id_field: str | None = None, **kwargs):
    try:
        return client.abha_request(method, path, **kwargs)
    except AbdmError as error:
        fields = {k.lower() for k in (error.fields or {})}
        if login_id_field and "loginid" in fields:
            message = {"aadhaar": AADHAAR_INVALID, "mobile": MOBILE_INVALID}.get(login_id_field, LOGIN_ID_INVALID)
            raise _field_error(message, login_id_field, code=f"{login_id_field}_invalid") from None
        user_token = bool(kwargs.get("x_token") or kwargs.get("t_token") or "R-token" in (kwargs.get("headers") or {}))
        raise _translate(error, otp_field=otp_field, user_token=user_token) from None


def _verified(body: dict, *, otp_field: str = "otp") -> dict:
    """A verify answer (VerifyOtpResult / login verify) whose `authResult` is not success means a wrong OTP."""
    result = str((body or {}).get("authResult") or "success").lower()
    if result not in ("success", "true"):
        raise _field_error(WRONG_OTP, otp_field, code="otp_invalid")
    return body or {}


# --- Parsing ---------------------------------------------------------------------------------------------------


def digits(value) -> str:
    return re.sub(r"\D", "", str(value or ""))


def dashed(abha_number: str) -> str:
    """14 digits -> `91-6285-4575-5116`, the form NHA writes ABHA numbers in its requests."""
    n = digits(abha_number)
    return f"{n[:2]}-{n[2:6]}-{n[6:10]}-{n[10:14]}" if len(n) == 14 else str(abha_number)


def local_part(address: str) -> str:
    return str(address or "").strip().lower().split("@", 1)[0]


def _int(value) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number or None


def _dob(data: dict) -> tuple[int | None, int | None, int | None]:
    """(year, month, day) from yearOfBirth/monthOfBirth/dayOfBirth, or from `dob` (DD-MM-YYYY or YYYY-MM-DD)."""
    year, month, day = _int(data.get("yearOfBirth")), _int(data.get("monthOfBirth")), _int(data.get("dayOfBirth"))
    if year is None and data.get("dob"):
        parts = [p for p in re.split(r"[-/]", str(data["dob"])) if p]
        if len(parts) == 3 and len(parts[0]) == 4:
            year, month, day = (_int(p) for p in parts)
        elif len(parts) == 3:
            day, month, year = (_int(p) for p in parts)
        elif parts:
            year = _int(parts[-1])
    return year, month, day


def profile_from(data: dict) -> Profile:
    """A Profile from byAadhaar's `ABHAProfile` or from m1_profile_get_account's body (their field names differ)."""
    data = data or {}
    addresses = [local_part(a) for a in (data.get("phrAddress") or []) if a]
    preferred = local_part(data.get("preferredAbhaAddress") or data.get("abhaAddress") or "")
    if preferred and preferred not in addresses:
        addresses.insert(0, preferred)
    year, month, day = _dob(data)
    name_parts = str(data.get("name") or "").split()
    first = str(data.get("firstName") or (name_parts[0] if name_parts else ""))
    last = str(data.get("lastName") or (" ".join(name_parts[1:]) if len(name_parts) > 1 else ""))
    mobile = digits(data.get("mobile"))
    return Profile(
        abha_number=digits(data.get("ABHANumber") or data.get("healthIdNumber")),
        first_name=first.strip(),
        middle_name=str(data.get("middleName") or "").strip(),
        last_name=last.strip(),
        gender=str(data.get("gender") or "").strip().upper()[:1],
        year_of_birth=year,
        month_of_birth=month,
        day_of_birth=day,
        mobile=mobile if len(mobile) == 10 else "",  # a masked mobile (******0903) is no number
        email=str(data.get("email") or "").strip() if "@" in str(data.get("email") or "") else "",
        address=" ".join(str(data.get("address") or "").split())[:300],
        pincode=digits(data.get("pincode") or data.get("pinCode"))[:6],
        state_lgd=_int(data.get("stateCode")),
        district_lgd=_int(data.get("districtCode")),
        state_name=str(data.get("stateName") or ""),
        district_name=str(data.get("districtName") or ""),
        status=str(data.get("abhaStatus") or data.get("status") or "").upper(),
        preferred_address=preferred or (addresses[0] if addresses else ""),
        addresses=tuple(dict.fromkeys(addresses)),
    )


def _tokens(data: dict | None) -> Tokens | None:
    data = data or {}
    if not data.get("token"):
        return None
    return Tokens(
        token=str(data["token"]),
        expires_in=_int(data.get("expiresIn")) or 1800,
        refresh_token=str(data.get("refreshToken") or ""),
        refresh_expires_in=_int(data.get("refreshExpiresIn")) or 0,
    )


def _txn(body) -> OtpSent:
    body = body or {}
    if isinstance(body, list):  # one documented shape of the search answer
        body = body[0] if body else {}
    return OtpSent(txn_id=str(body.get("txnId") or ""), message=str(body.get("message") or ""))


# --- Enrolment (m1-create-aadhaar-otp) -------------------------------------------------------------------------


def enrol_request_aadhaar_otp(*, aadhaar: str) -> OtpSent:
    """m1_enrolment_request_otp: UIDAI sends an OTP to the mobile linked with `aadhaar` (12 digits)."""
    body = {"scope": ["abha-enrol"], "loginHint": "aadhaar", "loginId": encrypt(aadhaar), "otpSystem": "aadhaar"}
    return _txn(_call("POST", "/v3/enrollment/request/otp", json=body, login_id_field="aadhaar"))


def enrol_by_aadhaar(*, txn_id: str, otp: str, mobile: str) -> Enrolment:
    """m1_enrolment_by_aadhaar: creates the ABHA from the Aadhaar OTP, or returns the one the Aadhaar has.

    `mobile` is the number the citizen wants on the ABHA (sent as the spec's example sends it); when it is not the
    Aadhaar-linked one the answer's profile carries no mobile and the enrolment continues with mobile-verify.
    """
    body = {
        "authData": {"authMethods": ["otp"], "otp": {"txnId": txn_id, "otpValue": encrypt(otp), "mobile": mobile}},
        "consent": dict(ENROLMENT_CONSENT),
    }
    answer = _call("POST", "/v3/enrollment/enrol/byAadhaar", json=body) or {}
    profile = profile_from(answer.get("ABHAProfile") or answer.get("profile") or answer)
    if len(profile.abha_number) != 14:
        raise AbdmRefused(AbdmError("ABDM's answer carried no ABHA number.", status=502))
    return Enrolment(
        txn_id=str(answer.get("txnId") or txn_id),
        is_new=answer.get("isNew") is not False,
        profile=profile,
        tokens=_tokens(answer.get("tokens") or answer),
        message=str(answer.get("message") or ""),
    )


def enrol_request_mobile_otp(*, txn_id: str, mobile: str) -> OtpSent:
    """m1_enrolment_request_otp with mobile-verify: ABDM sends an OTP to the mobile given at byAadhaar."""
    body = {
        "txnId": txn_id,
        "scope": ["abha-enrol", "mobile-verify"],
        "loginHint": "mobile",
        "loginId": encrypt(mobile),
        "otpSystem": "abdm",
    }
    return _txn(_call("POST", "/v3/enrollment/request/otp", json=body, login_id_field="mobile"))


def enrol_verify_mobile_otp(*, txn_id: str, otp: str) -> str:
    """m1_enrolment_verify_abdm_otp: confirms the mobile; returns the transaction id to carry on with."""
    body = {
        "scope": ["abha-enrol", "mobile-verify"],
        "authData": {"authMethods": ["otp"], "otp": {"txnId": txn_id, "otpValue": encrypt(otp)}},
    }
    answer = _verified(_call("POST", "/v3/enrollment/auth/byAbdm", json=body))
    return str(answer.get("txnId") or txn_id)


def address_suggestions(*, txn_id: str) -> list[str]:
    """m1_enrolment_address_suggestions: free ABHA addresses for the enrolment (local parts, best first)."""
    answer = _call("GET", "/v3/enrollment/enrol/suggestion", headers={"TRANSACTION_ID": txn_id}) or {}
    return [local_part(a) for a in answer.get("abhaAddressList") or [] if a]


def enrol_abha_address(*, txn_id: str, local: str) -> str:
    """m1_enrolment_claim_abha_address: claims `local`@suffix as the preferred address; returns the address."""
    full = f"{local_part(local)}@{settings.ABHA_ADDRESS_SUFFIX}"
    answer = _call(
        "POST", "/v3/enrollment/enrol/abha-address", json={"txnId": txn_id, "abhaAddress": full, "preferred": 1}
    )
    return local_part((answer or {}).get("preferredAbhaAddress") or full)


# --- Login (m1-login-mobile, m1-login-abha-number-mobile-otp) ----------------------------------------------------


def login_request_otp(*, mobile: str = "", abha_number: str = "") -> OtpSent:
    """m1_login_request_otp: an OTP to the ABHA's mobile, named by `mobile` or by `abha_number`."""
    hint, value = ("mobile", mobile) if mobile else ("abha-number", dashed(abha_number))
    body = {"scope": ["abha-login", "mobile-verify"], "loginHint": hint, "loginId": encrypt(value), "otpSystem": "abdm"}
    return _txn(_call("POST", "/v3/profile/login/request/otp", json=body, login_id_field="login_id"))


def login_verify(*, txn_id: str, otp: str) -> LoginResult:
    """m1_login_verify: the user token, and the ABHAs on the mobile (more than one: choose with verify/user)."""
    body = {
        "scope": ["abha-login", "mobile-verify"],
        "authData": {"authMethods": ["otp"], "otp": {"txnId": txn_id, "otpValue": encrypt(otp)}},
    }
    answer = _verified(_call("POST", "/v3/profile/login/verify", json=body))
    accounts = tuple(
        LoginAccount(
            abha_number=digits(a.get("ABHANumber")),
            name=str(a.get("name") or ""),
            preferred_address=local_part(a.get("preferredAbhaAddress") or ""),
            status=str(a.get("status") or "").upper(),
        )
        for a in answer.get("accounts") or []
        if len(digits(a.get("ABHANumber"))) == 14
    )
    return LoginResult(txn_id=str(answer.get("txnId") or txn_id), tokens=_tokens(answer), accounts=accounts)


def login_verify_user(*, txn_id: str, abha_number: str, t_token: str) -> Tokens:
    """m1_login_select_account: the user token of the ABHA chosen among the mobile's accounts."""
    body = {"ABHANumber": dashed(abha_number), "txnId": txn_id}
    tokens = _tokens(_call("POST", "/v3/profile/login/verify/user", json=body, t_token=t_token))
    if tokens is None:
        raise AbdmRefused(AbdmError("ABDM's answer carried no token.", status=502))
    return tokens


# --- Profile and card (m1-profile-and-card, m1-update-mobile) ---------------------------------------------------


def profile_get(*, x_token: str) -> Profile:
    """m1_profile_get_account: the signed-in citizen's ABHA profile."""
    return profile_from(_call("GET", "/v3/profile/account", x_token=x_token))


def profile_update(*, x_token: str, changes: dict) -> Profile | None:
    """m1_profile_update_account: changes self-declared fields (`name`, `dob`, `gender`, `profilePhoto`)."""
    answer = _call("PATCH", "/v3/profile/account", json=changes, x_token=x_token)
    return profile_from(answer) if isinstance(answer, dict) and answer.get("ABHANumber") else None


def abha_card(*, x_token: str) -> AbhaCard:
    """m1_profile_get_abha_card: ABDM's ABHA card (the bytes and their content type, as ABDM sends them)."""
    content, content_type = _call("GET", "/v3/profile/account/abha-card", x_token=x_token, raw=True)
    return AbhaCard(content=content, content_type=(content_type or "image/png").split(";")[0].strip())


def token_refresh(*, refresh_token: str) -> Tokens:
    """m1_token_refresh: a new user token from the refresh token (R-token, with its `Bearer ` prefix)."""
    tokens = _tokens(_call("GET", "/v3/profile/account/request/token", headers={"R-token": f"Bearer {refresh_token}"}))
    if tokens is None:
        raise TokenExpired(_("Please sign in again."))
    return tokens


def mobile_update_request_otp(*, x_token: str, mobile: str) -> OtpSent:
    """m1_profile_request_otp (abha-profile, mobile-verify): an OTP to the new mobile."""
    body = {
        "scope": ["abha-profile", "mobile-verify"],
        "loginHint": "mobile",
        "loginId": encrypt(mobile),
        "otpSystem": "abdm",
    }
    return _txn(_call("POST", "/v3/profile/account/request/otp", json=body, x_token=x_token, login_id_field="mobile"))


def mobile_update_verify(*, x_token: str, txn_id: str, otp: str) -> None:
    """m1_profile_verify_otp (abha-profile, mobile-verify): ABDM links the new mobile when the OTP is right."""
    body = {
        "scope": ["abha-profile", "mobile-verify"],
        "authData": {"authMethods": ["otp"], "otp": {"txnId": txn_id, "otpValue": encrypt(otp)}},
    }
    _verified(_call("POST", "/v3/profile/account/verify", json=body, x_token=x_token))
