"""ABDM's ABHA service (M1), as hiecm-m1.yaml publishes it (server https://abhasbx.abdm.gov.in, paths
/abha/api/v3/...), mounted at /abha/api/. Every operation needs the gateway session and the REQUEST-ID and
TIMESTAMP headers (auth.require_session); identifiers and OTPs arrive RSA-OAEP(SHA-1) encrypted (crypto).

Operation ids are the spec's (m1_<method>_<path>); each view's docstring names its path.
"""

import base64
import binascii
import datetime
import uuid

from ..auth import require_session
from ..http import api_view, json_body
from . import answers, crypto, identity, services, usertokens
from .answers import field, flat, listed, ok, wrapped
from .card import card_png, qr_png
from .models import AbhaAddress, Account, AccountStatus, Resident, TransactionKind
from .services import OtpResult

ENROL = [TransactionKind.ENROL_AADHAAR]
LOGIN = [TransactionKind.LOGIN]


# --- shapes ---------------------------------------------------------------------------------------------------


def _dob(account: Account) -> str:
    if account.day_of_birth and account.month_of_birth:
        return f"{account.day_of_birth:02d}-{account.month_of_birth:02d}-{account.year_of_birth}"
    return str(account.year_of_birth)


def _auth_methods(account: Account) -> list[str]:
    methods = []
    if account.resident_id:
        methods += ["AADHAAR_OTP", "DEMOGRAPHICS"]
    if account.mobile:
        methods.append("MOBILE_OTP")
    return methods


def _addresses(account: Account) -> list[str]:
    """The account's addresses, the preferred one first, its default `<number>@sbx` included."""
    chosen = list(account.addresses.order_by("created_at").values_list("address", flat=True))
    default = f"{account.abha_number}@{identity.ADDRESS_SUFFIX}"
    return list(dict.fromkeys([account.preferred_address, *chosen, default]))


def abha_profile(account: Account) -> dict:
    """`ABHAProfile` of the enrol answer."""
    return {
        "firstName": account.first_name,
        "middleName": account.middle_name,
        "lastName": account.last_name,
        "dob": _dob(account),
        "gender": account.gender,
        "photo": account.kyc_photo,
        "mobile": account.mobile,  # "" until a mobile is verified (the Aadhaar-linked one is at once)
        "email": account.email or None,
        "phrAddress": _addresses(account),
        "address": account.address,
        "districtCode": account.district_code,
        "stateCode": account.state_code,
        "pinCode": account.pincode,
        "abhaType": "STANDARD",
        "stateName": account.state_name,
        "districtName": account.district_name,
        "ABHANumber": account.formatted_number,
        "abhaStatus": account.status,
    }


def profile_account(account: Account, *, typed: bool = False) -> dict:
    """GET /v3/profile/account's body (strings for the birth date and codes); `typed` gives the PATCH answer's
    integers (yearOfBirth, monthOfBirth, dayOfBirth, stateCode, districtCode), as the spec types each."""

    def code(value: str):
        return (int(value) if value else None) if typed else value

    def part(value: int | None):  # day or month of birth: "06" as text, 6 typed; absent: "" / null
        if value is None:
            return None if typed else ""
        return value if typed else f"{value:02d}"

    return {
        "ABHANumber": account.formatted_number,
        "preferredAbhaAddress": account.preferred_address,
        "mobile": account.mobile,
        "firstName": account.first_name,
        "middleName": account.middle_name,
        "lastName": account.last_name,
        "name": account.name,
        "yearOfBirth": account.year_of_birth if typed else str(account.year_of_birth),
        "dayOfBirth": part(account.day_of_birth),
        "monthOfBirth": part(account.month_of_birth),
        "gender": account.gender,
        "email": account.email or None,
        "profilePhoto": account.profile_photo or account.kyc_photo,
        "status": account.status,
        "stateCode": code(account.state_code),
        "districtCode": code(account.district_code),
        "subDistrictCode": None,
        "villageCode": None,
        "townCode": None,
        "wardCode": None,
        "pincode": account.pincode,
        "address": account.address,
        "kycPhoto": account.kyc_photo,
        "stateName": account.state_name,
        "districtName": account.district_name,
        "subdistrictName": account.subdistrict_name,
        "villageName": None,
        "townName": None,
        "wardName": None,
        "authMethods": _auth_methods(account),
        "tags": {},
        "kycVerified": account.kyc_verified,
        "verificationStatus": "VERIFIED",
        "verificationType": account.verification_type,
        "emailVerified": None,
        "createdDate": account.created_at.strftime("%d-%m-%Y"),
    }


def login_account(account: Account) -> dict:
    """One entry of a login verify's `accounts`."""
    return {
        "ABHANumber": account.formatted_number,
        "preferredAbhaAddress": account.preferred_address,
        "name": account.name,
        "gender": account.gender,
        "dob": _dob(account),
        "verifiedStatus": "VERIFIED",
        "verificationType": account.verification_type,
        "status": account.status,
        "profilePhoto": account.profile_photo or account.kyc_photo,
        "kycVerified": account.kyc_verified,
        "mobileVerified": account.mobile_verified,
    }


# --- request helpers ------------------------------------------------------------------------------------------


class Refused(Exception):
    def __init__(self, response):
        self.response = response


def _refusals(view):
    def wrapped_view(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except Refused as refused:
            return refused.response

    wrapped_view.__name__ = view.__name__
    wrapped_view.__doc__ = view.__doc__
    return wrapped_view


def _scope(body: dict, allowed: list[set[str]]) -> set[str]:
    scope = body.get("scope")
    if not isinstance(scope, list) or not all(isinstance(s, str) for s in scope) or set(scope) not in allowed:
        raise Refused(field("scope", "Invalid Scope"))
    return set(scope)


def _txn_id(value, name: str = "txnId") -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        raise Refused(field(name, "Invalid Transaction Id")) from None


def _live(txn_id: uuid.UUID, kinds, *, status: int = 400):
    txn = services.transaction_live(txn_id, kinds)
    if txn is None:
        raise Refused(wrapped(status, *answers.INVALID_TXN))
    return txn


def _decrypt(value, name: str, message: str) -> str:
    try:
        return crypto.decrypt(value)
    except crypto.Undecryptable:
        raise Refused(field(name, message)) from None


def _otp_auth(body: dict) -> tuple[uuid.UUID, str]:
    """authData {authMethods: ["otp"], otp: {txnId, otpValue}} -> (txnId, decrypted OTP)."""
    auth = body.get("authData")
    if not isinstance(auth, dict):
        raise Refused(field("authData", "Invalid Auth Data"))
    if auth.get("authMethods") != ["otp"]:
        raise Refused(field("authMethods", "Invalid Auth Method"))
    otp = auth.get("otp")
    if not isinstance(otp, dict):
        raise Refused(field("otp", "Invalid OTP"))
    txn_id = _txn_id(otp.get("txnId"))
    value = _decrypt(otp.get("otpValue"), "otpValue", "Invalid OTP Value")
    if not value.isdigit() or len(value) != 6:
        raise Refused(field("otpValue", "Invalid OTP Value"))
    return txn_id, value


def _x_account(request) -> Account:
    """The account of the request's X-token (`Bearer <token>`), else the spec's refusal: 400 "Invalid X-token"
    (ABDM-1158), or 401 "X-token expired" (with ABDM-1094, as the spec's child-ABHA example gives it)."""
    try:
        number = usertokens.read(request.headers.get("X-token"), usertokens.X_TOKEN)
    except usertokens.TokenExpired:
        raise Refused(flat(401, *answers.X_TOKEN_EXPIRED)) from None
    except usertokens.TokenInvalid:
        raise Refused(flat(400, *answers.INVALID_X_TOKEN)) from None
    account = Account.objects.filter(abha_number=number).first()
    if account is None:
        raise Refused(flat(400, *answers.INVALID_X_TOKEN))
    return account


def _too_many():
    return wrapped(400, *answers.TOO_MANY)


def _client(request) -> str:
    return getattr(request, "abdm_client", "")


def m1(*methods):
    """An M1 operation: the methods, the gateway session and standard headers, refusals as answers."""

    def decorate(view):
        return api_view(*methods)(require_session(_refusals(view)))

    return decorate


# --- tokens and encryption ------------------------------------------------------------------------------------


@m1("GET")
def public_certificate(request):
    """GET /v3/profile/public/certificate (m1_get_v3_profile_public_certificate)."""
    return ok({"publicKey": crypto.public_key_b64(), "encryptionAlgorithm": crypto.ALGORITHM})


@m1("GET")
def request_token(request):
    """GET /v3/profile/account/request/token (m1_get_v3_profile_account_request_token): R-token -> new tokens."""
    try:
        number = usertokens.read(request.headers.get("R-token"), usertokens.REFRESH_TOKEN)
    except (usertokens.TokenExpired, usertokens.TokenInvalid):
        return flat(400, None, "Invalid R-token")
    if not Account.objects.filter(abha_number=number, status=AccountStatus.ACTIVE).exists():
        return flat(400, None, "Invalid R-token")
    return ok(usertokens.issue(number, client_id=_client(request)))


# --- enrolment ------------------------------------------------------------------------------------------------

_ENROL_SCOPES = [{"abha-enrol"}, {"abha-enrol", "mobile-verify"}]


@m1("POST")
def enrollment_request_otp(request):
    """POST /v3/enrollment/request/otp (m1_post_v3_enrollment_request_otp).

    scope [abha-enrol], loginHint aadhaar, otpSystem aadhaar, loginId = encrypted Aadhaar: a new enrolment
    transaction; the Aadhaar OTP goes to the Aadhaar-linked mobile. scope [abha-enrol, mobile-verify],
    loginHint mobile, otpSystem abdm, txnId of that enrolment, loginId = encrypted mobile: ABDM's OTP to that
    mobile, to verify it as the account's communication mobile (then auth/byAbdm)."""
    body = json_body(request)
    scope = _scope(body, _ENROL_SCOPES)
    hint, system = body.get("loginHint"), body.get("otpSystem")
    if scope == {"abha-enrol"}:
        if hint != "aadhaar":
            return field("loginHint", "Invalid Login Hint")
        if system != "aadhaar":
            return field("otpSystem", "Invalid OTP System")
        aadhaar = _decrypt(body.get("loginId"), "loginId", "Invalid LoginId")
        if not identity.aadhaar_is_valid(aadhaar):
            return field("loginId", "Invalid LoginId")
        resident = services.resident_for_aadhaar(aadhaar)
        txn = services.transaction_start(
            kind=TransactionKind.ENROL_AADHAAR, scope=list(scope), login_hint=hint, otp_system=system,
            client_id=_client(request), resident=resident,
        )  # fmt: skip
        try:
            services.otp_send(txn, mobile=resident.mobile, system="aadhaar")
        except services.TooManyOtps:
            return _too_many()
        message = f"OTP sent to Aadhaar registered mobile number ending with {identity.mask_mobile(resident.mobile)}"
        return ok({"txnId": str(txn.txn_id), "message": message})

    if hint != "mobile":
        return field("loginHint", "Invalid Login Hint")
    if system != "abdm":
        return field("otpSystem", "Invalid OTP System")
    txn = _live(_txn_id(body.get("txnId")), ENROL)
    if txn.account_id is None:  # mobile verification comes after byAadhaar created (or found) the account
        return wrapped(400, *answers.INVALID_TXN)
    mobile = _decrypt(body.get("loginId"), "loginId", "Invalid LoginId")
    if not identity.MOBILE.match(mobile):
        return field("loginId", "Invalid LoginId")
    if Account.objects.filter(mobile=mobile).exclude(pk=txn.account_id).count() >= services.MAX_ACCOUNTS_PER_MOBILE:
        return wrapped(422, *answers.MOBILE_FULL)
    txn.scope = sorted(scope)
    try:
        services.otp_send(txn, mobile=mobile, system="abdm")
    except services.TooManyOtps:
        return _too_many()
    return ok({"txnId": str(txn.txn_id), "message": _new_mobile_message(mobile)})


@m1("POST")
def enrol_by_aadhaar(request):
    """POST /v3/enrollment/enrol/byAadhaar (m1_post_v3_enrollment_enrol_byaadhaar): the Aadhaar OTP creates the
    ABHA (isNew true) or finds the one this Aadhaar already has (isNew false, "This account already exist")."""
    body = json_body(request)
    consent = body.get("consent")
    if not isinstance(consent, dict) or not consent.get("code") or not consent.get("version"):
        return field("consent", "Invalid Consent")
    auth = body.get("authData")
    if not isinstance(auth, dict):
        return field("authData", "Invalid Auth Data")
    if auth.get("authMethods") != ["otp"]:
        return field("authMethods", "Invalid Auth Method")
    otp = auth.get("otp")
    if not isinstance(otp, dict):
        return field("otp", "Invalid OTP")
    txn_id = _txn_id(otp.get("txnId"))
    mobile = otp.get("mobile")
    if not isinstance(mobile, str) or not identity.MOBILE.match(mobile):
        return field("mobile", "Invalid Mobile Number")
    value = _decrypt(otp.get("otpValue"), "otpValue", "Invalid OTP Value")
    txn = _live(txn_id, ENROL)
    if txn.account_id is not None:  # this transaction already enrolled: its OTP is spent
        return wrapped(422, *answers.EXPIRED_OTP_AADHAAR)
    result, txn = services.otp_check(txn_id, ENROL, value)
    if result is OtpResult.WRONG:
        return wrapped(422, *answers.INVALID_OTP_AADHAAR)
    if result is OtpResult.EXPIRED:
        return wrapped(422, *answers.EXPIRED_OTP_AADHAAR)
    if result is OtpResult.LOCKED:
        return _too_many()
    try:
        account, is_new = services.account_enrol(resident=txn.resident, mobile=mobile, client_id=_client(request))
    except services.MobileFull:
        return wrapped(422, *answers.MOBILE_FULL)
    txn.account = account
    txn.save(update_fields=["account", "updated_at"])
    return ok(
        {
            "message": "Account created successfully" if is_new else "This account already exist",
            "txnId": str(txn.txn_id),
            "tokens": usertokens.issue(account.abha_number, client_id=_client(request)),
            "ABHAProfile": abha_profile(account),
            "isNew": is_new,
        }
    )


@m1("POST")
def enrol_auth_by_abdm(request):
    """POST /v3/enrollment/auth/byAbdm (m1_post_v3_enrollment_auth_byabdm): ABDM's OTP verifies the mobile of
    an enrolment, which becomes the account's verified mobile."""
    body = json_body(request)
    _scope(body, [{"abha-enrol", "mobile-verify"}])
    txn_id, value = _otp_auth(body)
    txn = _live(txn_id, ENROL)
    if txn.account_id is None or "mobile-verify" not in txn.scope:
        return wrapped(400, *answers.INVALID_TXN)
    result, txn = services.otp_check(txn_id, ENROL, value)
    if result is OtpResult.WRONG:
        return ok({"txnId": str(txn_id), "description": "Invalid OTP value"}, status=400)
    if result is OtpResult.EXPIRED:
        return ok({"txnId": str(txn_id), "authResult": "failed", "message": "OTP expired, please try again",
                   "accounts": []})  # fmt: skip
    if result is OtpResult.LOCKED:
        return _too_many()
    account = services.mobile_change(account=txn.account, mobile=txn.otp_mobile)
    return ok(
        {
            "txnId": str(txn_id),
            "authResult": "success",
            "message": "Mobile number is now successfully linked to your Account",
            "accounts": [{"ABHANumber": account.formatted_number}],
        }
    )


@m1("GET")
def enrol_suggestion(request):
    """GET /v3/enrollment/enrol/suggestion (m1_get_v3_enrollment_enrol_suggestion), TRANSACTION_ID header: free
    ABHA addresses (local parts) built from the enrolled person's name and birth date, at least three."""
    # TRANSACTION_ID and TRANSACTION-ID both reach WSGI as HTTP_TRANSACTION_ID (when the server keeps
    # underscored header names: gunicorn --header-map dangerous).
    txn_id = _txn_id(request.META.get("HTTP_TRANSACTION_ID"))
    txn = _live(txn_id, ENROL, status=401)
    account = txn.account
    if account is None:
        return wrapped(401, *answers.INVALID_TXN)
    birth = None
    if account.day_of_birth and account.month_of_birth:
        birth = datetime.date(account.year_of_birth, account.month_of_birth, account.day_of_birth)
    candidates = identity.suggestions(account.first_name, account.last_name, birth, account.year_of_birth)
    taken = services.taken_addresses(candidates)
    free = [c for c in candidates if identity.full_address(c) not in taken]
    counter = 1
    base = (candidates[0] if candidates else "abhauser")[:14]
    while len(free) < 3 and counter < 1000:
        candidate = f"{base}{counter:02d}"
        if identity.address_policy_ok(candidate) and not services.taken_addresses([candidate]):
            free.append(candidate)
        counter += 1
    return ok({"txnId": str(txn.txn_id), "abhaAddressList": free})


@m1("POST")
def enrol_abha_address(request):
    """POST /v3/enrollment/enrol/abha-address (m1_post_v3_enrollment_enrol_abha_address): claim an address for
    the enrolled account and make it preferred. A taken address: 400 ABDM-1101."""
    body = json_body(request)
    txn_id = _txn_id(body.get("txnId"))
    if body.get("preferred") != 1:
        return field("preferred", "Invalid Preferred Flag")
    address = body.get("abhaAddress")
    if not isinstance(address, str) or not identity.address_policy_ok(address):
        return field("abhaAddress", "Invalid Abha Address")
    txn = _live(txn_id, ENROL)
    if txn.account is None:
        return wrapped(400, *answers.INVALID_TXN)
    try:
        account = services.address_claim(account=txn.account, address=address)
    except services.AddressTaken:
        return wrapped(400, *answers.ADDRESS_TAKEN)
    return ok(
        {
            "txnId": str(txn.txn_id),
            "healthIdNumber": account.formatted_number,
            "preferredAbhaAddress": account.preferred_address,
            "abhaAddress": account.preferred_address,
            "preferred": 1,
        }
    )


# --- login ----------------------------------------------------------------------------------------------------

_LOGIN_SCOPES = [
    {"abha-login", "mobile-verify"},
    {"abha-login", "aadhaar-verify"},
    {"abha-login", "search-abha", "mobile-verify"},
    {"abha-login", "search-abha", "aadhaar-verify"},
]
_BIOMETRIC = {"aadhaar-face-verify", "aadhaar-bio-verify", "aadhaar-iris-verify"}


def _otp_target(account: Account, system: str) -> str:
    """Where a login OTP for `account` goes: its mobile (abdm) or its resident's Aadhaar-linked one (aadhaar)."""
    if system == "aadhaar":
        if account.resident is None:
            raise Refused(wrapped(422, *answers.AADHAAR_OTP_NOT_ALLOWED))
        return account.resident.mobile
    if not account.mobile:
        raise Refused(wrapped(422, *answers.ABHA_NUMBER_OTP_NOT_ALLOWED))
    return account.mobile


def _new_mobile_message(mobile: str) -> str:
    return f"OTP sent to mobile number ending with {identity.mask_mobile(mobile)}"


def _sent_message(system: str, mobile: str) -> str:
    if system == "aadhaar":
        return f"OTP sent to Aadhaar registered mobile number ending with {identity.mask_mobile(mobile)}"
    return f"OTP is sent to Mobile number ending with {identity.mask_mobile(mobile)}"


@m1("POST")
def login_request_otp(request):
    """POST /v3/profile/login/request/otp (m1_post_v3_profile_login_request_otp): loginHint mobile (abdm),
    abha-number (abdm or aadhaar), aadhaar (aadhaar), or index after an ABHA search (search-abha)."""
    body = json_body(request)
    raw = body.get("scope")
    if isinstance(raw, list) and _BIOMETRIC & set(map(str, raw)):
        return flat(401, *answers.BIOMETRIC_NOT_ALLOWED)
    scope = _scope(body, _LOGIN_SCOPES)
    hint, system = body.get("loginHint"), body.get("otpSystem")
    wanted_system = "aadhaar" if "aadhaar-verify" in scope else "abdm"
    searching = "search-abha" in scope
    if (searching and hint != "index") or (not searching and hint not in ("mobile", "abha-number", "aadhaar")):
        return field("loginHint", "Invalid Login Hint")
    if (hint == "mobile" and wanted_system != "abdm") or (hint == "aadhaar" and wanted_system != "aadhaar"):
        return field("loginHint", "Invalid Login Hint")
    if system != wanted_system:
        return field("otpSystem", "Invalid OTP System")
    login_id = _decrypt(body.get("loginId"), "loginId", "Invalid LoginId")

    account, candidates, txn = None, [], None
    if hint == "mobile":
        if not identity.MOBILE.match(login_id):
            return field("loginId", "Invalid LoginId")
        accounts = list(Account.objects.filter(mobile=login_id, status=AccountStatus.ACTIVE).order_by("created_at"))
        if not accounts:
            return wrapped(404, *answers.USER_NOT_FOUND)
        candidates = [a.abha_number for a in accounts]
        mobile = login_id
        if len(accounts) == 1:
            account = accounts[0]
    elif hint == "abha-number":
        number = identity.parse_abha_number(login_id)
        if number is None:
            return field("loginId", "Invalid LoginId")
        account = Account.objects.select_related("resident").filter(abha_number=number).first()
        if account is None:
            return wrapped(404, *answers.USER_NOT_FOUND)
        mobile = _otp_target(account, system)
    elif hint == "aadhaar":
        if not identity.aadhaar_is_valid(login_id):
            return field("loginId", "Invalid LoginId")
        resident = Resident.objects.filter(aadhaar_hash=identity.aadhaar_hash(login_id)).first()
        account = resident and Account.objects.select_related("resident").filter(resident=resident).first()
        if account is None:
            return wrapped(404, *answers.NO_ABHA_FOR_AADHAAR)
        mobile = resident.mobile
    else:  # index, within the search transaction
        txn = _live(_txn_id(body.get("txnId")), [TransactionKind.SEARCH])
        try:
            index = int(login_id)
            number = txn.candidates[index - 1] if index >= 1 else None
        except (ValueError, IndexError):
            number = None
        if number is None:
            return field("loginId", "Invalid LoginId")
        account = Account.objects.select_related("resident").get(abha_number=number)
        mobile = _otp_target(account, system)

    if txn is None:
        txn = services.transaction_start(
            kind=TransactionKind.LOGIN, scope=list(scope), login_hint=hint, otp_system=system,
            client_id=_client(request), account=account, candidates=candidates,
        )  # fmt: skip
    else:  # Find ABHA: the search transaction carries on as the login (same txnId, as NHA's examples show)
        txn.kind, txn.scope, txn.login_hint, txn.otp_system = TransactionKind.LOGIN, sorted(scope), hint, system
        txn.account, txn.candidates = account, [account.abha_number]
    try:
        services.otp_send(txn, mobile=mobile, system=system)
    except services.TooManyOtps:
        return _too_many()
    return ok({"txnId": str(txn.txn_id), "message": _sent_message(system, mobile)})


@m1("POST")
def login_verify(request):
    """POST /v3/profile/login/verify (m1_post_v3_profile_login_verify): the OTP of a login. One account: the
    user token and refresh token. A mobile with several ABHAs: a T-token (300 s) and the accounts to pick from
    with /v3/profile/login/verify/user."""
    body = json_body(request)
    scope = _scope(body, _LOGIN_SCOPES)
    txn_id, value = _otp_auth(body)
    txn = _live(txn_id, LOGIN)
    if set(txn.scope) != scope:
        return field("scope", "Invalid Scope")
    result, txn = services.otp_check(txn_id, LOGIN, value)
    if result is OtpResult.WRONG:
        return field("otpValue", "Invalid OTP Value")
    if result is OtpResult.EXPIRED:
        return ok({"txnId": str(txn_id), "authResult": "failed", "message": "OTP expired, please try again",
                   "accounts": []})  # fmt: skip
    if result is OtpResult.LOCKED:
        return _too_many()
    answer = {"txnId": str(txn_id), "authResult": "success", "message": "OTP verified successfully"}
    if txn.account_id is not None:
        account = txn.account
        return ok({**answer, **usertokens.issue(account.abha_number, client_id=_client(request)),
                   "accounts": [login_account(account)]})  # fmt: skip
    accounts = list(Account.objects.filter(abha_number__in=txn.candidates).order_by("created_at"))
    return ok(
        {**answer, "token": usertokens.transaction_token(str(txn_id)), "expiresIn": usertokens.T_SECONDS,
         "accounts": [login_account(a) for a in accounts]}
    )  # fmt: skip


@m1("POST")
def login_verify_user(request):
    """POST /v3/profile/login/verify/user (m1_post_v3_profile_login_verify_user), T-token header: the ABHA the
    person picked among a mobile's accounts -> its user token and refresh token."""
    body = json_body(request)
    try:
        subject = usertokens.read(request.headers.get("T-token"), usertokens.T_TOKEN)
    except (usertokens.TokenExpired, usertokens.TokenInvalid):
        return flat(400, None, "Invalid T-token")
    txn_id = _txn_id(body.get("txnId"))
    if subject != str(txn_id):
        return flat(400, None, "Invalid T-token")
    txn = _live(txn_id, LOGIN)
    if not txn.otp_verified:
        return flat(400, None, "Invalid T-token")
    number = identity.parse_abha_number(str(body.get("ABHANumber") or ""))
    if number is None or number not in txn.candidates:
        return field("ABHANumber", "Invalid ABHA Number")
    return ok(usertokens.issue(number, client_id=_client(request)))


@m1("POST")
def login_search(request):
    """POST /v3/profile/login/search (m1_post_v3_profile_login_search): does this ABHA number exist, and how can
    its holder sign in."""
    body = json_body(request)
    number = identity.parse_abha_number(str(body.get("ABHANumber") or ""))
    if number is None:
        return field("ABHANumber", "Invalid ABHA number")
    account = Account.objects.filter(abha_number=number).first()
    if account is None:
        return wrapped(404, *answers.USER_NOT_FOUND)
    return ok(
        [
            {
                "preferredAbhaAddress": account.preferred_address,
                "ABHANumber": account.formatted_number,
                "authMethods": _auth_methods(account),
                "tags": {},
                "blockedAuthMethods": [],
                "status": account.status,
                "verificationStatus": "VERIFIED",
                "mobile": identity.mask_mobile(account.mobile),
                "verificationType": account.verification_type,
                "isDocumentAccount": "false",
            }
        ]
    )


@m1("POST")
def account_abha_search(request):
    """POST /v3/profile/account/abha/search (m1_post_v3_profile_account_abha_search): the ABHAs on a mobile
    (encrypted), masked, each with an `index` to log in with (loginHint index, same txnId)."""
    body = json_body(request)
    scope = body.get("scope")
    if scope != ["search-abha"]:
        return field("scope", "Invalid Scope")
    mobile = _decrypt(body.get("mobile"), "mobile", "Invalid mobile number")
    if not identity.MOBILE.match(mobile):
        return field("mobile", "Invalid mobile number")
    accounts = list(Account.objects.filter(mobile=mobile, status=AccountStatus.ACTIVE).order_by("created_at"))
    if not accounts:
        return wrapped(404, *answers.USER_NOT_FOUND)
    txn = services.transaction_start(
        kind=TransactionKind.SEARCH, scope=["search-abha"], login_hint="mobile", client_id=_client(request),
        candidates=[a.abha_number for a in accounts],
    )  # fmt: skip
    return ok(
        [
            {
                "txnId": str(txn.txn_id),
                "ABHA": [
                    {
                        "index": position,
                        "ABHANumber": "xx-xxxx-xxxx-" + account.abha_number[-4:],
                        "name": account.name,
                        "gender": account.gender,
                        "kycVerified": "true" if account.kyc_verified else "false",
                        "authMethods": _auth_methods(account),
                    }
                    for position, account in enumerate(accounts, start=1)
                ],
            }
        ]
    )


# --- profile --------------------------------------------------------------------------------------------------


@m1("GET", "PATCH")
def profile_account_view(request):
    """GET /v3/profile/account (m1_get_v3_profile_account) and PATCH /v3/profile/account
    (m1_patch_v3_profile_account): read the signed-in person's profile; change the profile photo (any account)
    or name, dob and gender (accounts without KYC only)."""
    account = _x_account(request)
    if request.method == "GET":
        return ok(profile_account(account))
    body = json_body(request)
    number = body.get("abhaNumber")
    if number is not None and identity.parse_abha_number(str(number)) != account.abha_number:
        return _invalid_update()
    changes = {}
    if "profilePhoto" in body:
        photo = body["profilePhoto"]
        if not isinstance(photo, str) or not _is_image(photo):
            return field("profilePhoto", "Invalid Profile Photo")
        changes["profile_photo"] = photo
    demographic = {key for key in ("name", "dob", "gender") if key in body}
    if demographic:
        if account.kyc_verified:
            return _invalid_update()
        changes.update(_demographics(body))
    if not changes:
        return _invalid_update()
    account = services.profile_update(account=account, fields=changes)
    return ok(profile_account(account, typed=True))


def _invalid_update():
    return ok({"error": {"message": "Please provide a valid field to update", "timestamp": answers.timestamp()}},
              status=400)  # fmt: skip


def _is_image(data: str) -> bool:
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return False
    return raw[:3] == b"\xff\xd8\xff" or raw[:8] == b"\x89PNG\r\n\x1a\n"


def _demographics(body: dict) -> dict:
    changes = {}
    if "name" in body:
        first, middle, last = identity.split_name(str(body["name"]))
        if not first:
            raise Refused(_invalid_update())
        changes.update(first_name=first, middle_name=middle, last_name=last)
    if "gender" in body:
        if body["gender"] not in ("M", "F", "O"):
            raise Refused(_invalid_update())
        changes["gender"] = body["gender"]
    if "dob" in body:  # D-M-YYYY
        try:
            day, month, year = (int(part) for part in str(body["dob"]).split("-"))
            datetime.date(year, month, day)
        except ValueError:
            raise Refused(_invalid_update()) from None
        changes.update(day_of_birth=day, month_of_birth=month, year_of_birth=year)
    return changes


@m1("GET")
def abha_card(request):
    """GET /v3/profile/account/abha-card (m1_get_v3_profile_account_abha_card): the ABHA card, image/png."""
    account = _x_account(request)
    return answers.png(card_png(account))


@m1("GET")
def qr_code(request):
    """GET /v3/profile/account/qrCode (m1_get_v3_profile_account_qrcode): the card's QR, image/png."""
    account = _x_account(request)
    return answers.png(qr_png(account))


@m1("POST")
def profile_request_otp(request):
    """POST /v3/profile/account/request/otp (m1_post_v3_profile_account_request_otp): scope [abha-profile,
    mobile-verify], loginHint mobile, otpSystem abdm: ABDM's OTP to the new mobile."""
    account = _x_account(request)
    body = json_body(request)
    _scope(body, [{"abha-profile", "mobile-verify"}])
    if body.get("loginHint") != "mobile":
        return field("loginHint", "Invalid Login Hint")
    if body.get("otpSystem") != "abdm":
        return field("otpSystem", "Invalid OTP System")
    mobile = _decrypt(body.get("loginId"), "loginId", "Invalid LoginId")
    if not identity.MOBILE.match(mobile):
        return field("loginId", "Invalid LoginId")
    if mobile == account.mobile and account.mobile_verified:
        return flat(400, None, "This mobile number is already verified. Please enter a different mobile number.")
    if Account.objects.filter(mobile=mobile).count() >= services.MAX_ACCOUNTS_PER_MOBILE:
        return wrapped(422, *answers.MOBILE_FULL)
    txn = services.transaction_start(
        kind=TransactionKind.PROFILE, scope=["abha-profile", "mobile-verify"], login_hint="mobile",
        otp_system="abdm", client_id=_client(request), account=account,
    )  # fmt: skip
    try:
        services.otp_send(txn, mobile=mobile, system="abdm")
    except services.TooManyOtps:
        return _too_many()
    return ok({"txnId": str(txn.txn_id), "message": _new_mobile_message(mobile)})


@m1("POST")
def profile_verify(request):
    """POST /v3/profile/account/verify (m1_post_v3_profile_account_verify): the OTP of a mobile change; the new
    mobile becomes the account's verified mobile."""
    account = _x_account(request)
    body = json_body(request)
    _scope(body, [{"abha-profile", "mobile-verify"}])
    txn_id, value = _otp_auth(body)
    txn = _live(txn_id, [TransactionKind.PROFILE])
    if txn.account_id != account.pk:
        return wrapped(400, *answers.INVALID_TXN)
    result, txn = services.otp_check(txn_id, [TransactionKind.PROFILE], value)
    if result is OtpResult.WRONG:
        return field("otpValue", "Invalid OTP Value")
    if result is OtpResult.EXPIRED:
        return ok({"txnId": str(txn_id), "authResult": "failed", "message": "OTP expired, please try again",
                   "accounts": []})  # fmt: skip
    if result is OtpResult.LOCKED:
        return _too_many()
    account = services.mobile_change(account=account, mobile=txn.otp_mobile)
    return ok({"txnId": str(txn_id), "authResult": "success", "message": "Mobile Number linked successfully",
               "accounts": [{"ABHANumber": account.formatted_number}]})  # fmt: skip


# --- PHR web login by ABHA address ----------------------------------------------------------------------------


def _address_account(value) -> tuple[Account | None, str]:
    if not isinstance(value, str) or not value.strip():
        return None, ""
    full = identity.full_address(value)
    local, _, suffix = full.partition("@")
    if suffix == identity.ADDRESS_SUFFIX and identity.ABHA_NUMBER.match(local):  # the default address
        return Account.objects.select_related("resident").filter(abha_number=local).first(), full
    row = AbhaAddress.objects.select_related("account", "account__resident").filter(address=full).first()
    return (row.account if row else None), full


@m1("POST")
def phr_search(request):
    """POST /v3/phr/web/login/abha/search (m1_post_v3_phr_web_login_abha_search): the account behind an ABHA
    address and how it can sign in."""
    body = json_body(request)
    account, full = _address_account(body.get("abhaAddress"))
    if account is None:
        return ok({"code": answers.PHR_USER_NOT_FOUND[0], "message": answers.PHR_USER_NOT_FOUND[1]}, status=400)
    return ok(
        {
            "healthIdNumber": account.formatted_number,
            "abhaAddress": full,
            "authMethods": [m for m in ("MOBILE_OTP", "AADHAAR_OTP") if m in _auth_methods(account)],
            "blockedAuthMethods": [],
            "status": account.status,
            "message": None,
            "fullName": account.name,
            "mobile": (account.mobile[:4] + "******") if account.mobile else "",
        }
    )


_PHR_SCOPES = [{"abha-address-login", "mobile-verify"}, {"abha-address-login", "aadhaar-verify"}]


@m1("POST")
def phr_request_otp(request):
    """POST /v3/phr/web/login/abha/request/otp (m1_post_v3_phr_web_login_abha_request_otp): loginHint
    abha-address, loginId = the encrypted address; OTP to the account's mobile (abdm) or Aadhaar's (aadhaar)."""
    body = json_body(request)
    raw = body.get("scope")
    if isinstance(raw, list) and _BIOMETRIC & set(map(str, raw)):
        return listed(400, *answers.BIOMETRIC_NOT_ALLOWED)
    scope = body.get("scope")
    if not isinstance(scope, list) or set(map(str, scope)) not in _PHR_SCOPES:
        return listed(400, "ABDM-9999", "Invalid Scope")
    if body.get("loginHint") != "abha-address":
        return listed(400, "ABDM-1006", "Invalid Login Hint")
    system = "aadhaar" if "aadhaar-verify" in scope else "abdm"
    if body.get("otpSystem") != system:
        return listed(400, "ABDM-1006", "Invalid Otp System")
    try:
        address = crypto.decrypt(body.get("loginId"))
    except crypto.Undecryptable:
        return listed(400, "ABDM-1006", "Invalid Abha Address")
    account, full = _address_account(address)
    if account is None:
        return listed(400, *answers.PHR_USER_NOT_FOUND)
    try:
        mobile = _otp_target(account, system)
    except Refused:
        return listed(400, *(answers.AADHAAR_OTP_NOT_ALLOWED if system == "aadhaar" else
                             answers.ABHA_NUMBER_OTP_NOT_ALLOWED))  # fmt: skip
    txn = services.transaction_start(
        kind=TransactionKind.PHR_LOGIN, scope=list(scope), login_hint=full, otp_system=system,
        client_id=_client(request), account=account,
    )  # fmt: skip
    try:
        services.otp_send(txn, mobile=mobile, system=system)
    except services.TooManyOtps:
        return listed(400, *answers.TOO_MANY)
    return ok({"txnId": str(txn.txn_id), "message": _sent_message(system, mobile)})


@m1("POST")
def phr_verify(request):
    """POST /v3/phr/web/login/abha/verify (m1_post_v3_phr_web_login_abha_verify): the OTP of an ABHA address
    login -> the address's user and tokens."""
    body = json_body(request)
    scope = body.get("scope")
    if not isinstance(scope, list) or set(map(str, scope)) not in _PHR_SCOPES:
        return listed(400, "ABDM-9999", "Invalid Scope")
    auth = body.get("authData")
    otp = auth.get("otp") if isinstance(auth, dict) else None
    if not isinstance(auth, dict) or auth.get("authMethods") != ["otp"] or not isinstance(otp, dict):
        return listed(400, "ABDM-9999", "Invalid Auth Methods")
    try:
        txn_id = uuid.UUID(str(otp.get("txnId")))
    except ValueError:
        return listed(400, "ABDM-9999", "Invalid Transaction Id")
    try:
        value = crypto.decrypt(otp.get("otpValue"))
    except crypto.Undecryptable:
        return listed(400, "ABDM-1006", "Invalid OTP Request")
    txn = services.transaction_live(txn_id, [TransactionKind.PHR_LOGIN])
    if txn is None or set(txn.scope) != set(scope):
        return listed(400, "ABDM-9999", "Invalid Transaction Id")
    result, txn = services.otp_check(txn_id, [TransactionKind.PHR_LOGIN], value)
    if result is OtpResult.WRONG:
        return listed(400, "ABDM-1006", "Invalid OTP Request")
    if result is OtpResult.EXPIRED:
        return ok({"txnId": str(txn_id), "message": "OTP expired, please try again", "authResult": "failed",
                   "users": []})  # fmt: skip
    if result is OtpResult.LOCKED:
        return listed(400, *answers.TOO_MANY)
    account = txn.account
    return ok(
        {
            "txnId": str(txn_id),
            "message": "OTP verified successfully",
            "authResult": "success",
            "users": [
                {
                    "abhaAddress": txn.login_hint,
                    "fullName": account.name,
                    "profilePhoto": account.profile_photo or account.kyc_photo,
                    "abhaNumber": account.formatted_number,
                    "status": account.status,
                    "kycStatus": "VERIFIED" if account.kyc_verified else "PROVISIONAL",
                }
            ],
            "tokens": usertokens.issue(account.abha_number, client_id=_client(request), abha_address=txn.login_hint),
        }
    )


def _phr_account(request) -> tuple[Account, str]:
    try:
        number = usertokens.read(request.headers.get("X-token"), usertokens.X_TOKEN)
    except (usertokens.TokenExpired, usertokens.TokenInvalid):
        raise Refused(listed(400, "ABDM-1006", "Invalid X-token")) from None
    account = Account.objects.filter(abha_number=number).first()
    if account is None:
        raise Refused(listed(400, "ABDM-1006", "Invalid X-token"))
    address = usertokens.claim(request.headers.get("X-token"), "abhaAddress") or account.preferred_address
    return account, address


@m1("GET")
def phr_profile(request):
    """GET /v3/phr/web/login/profile/abha-profile (m1_get_v3_phr_web_login_profile_abha_profile)."""
    account, address = _phr_account(request)
    day = f"{account.day_of_birth:02d}" if account.day_of_birth else ""
    month = f"{account.month_of_birth:02d}" if account.month_of_birth else ""
    return ok(
        {
            "abhaAddress": address,
            "fullName": account.name,
            "profilePhoto": account.profile_photo or account.kyc_photo,
            "firstName": account.first_name,
            "middleName": account.middle_name,
            "lastName": account.last_name,
            "dayOfBirth": day,
            "monthOfBirth": month,
            "yearOfBirth": str(account.year_of_birth),
            "dateOfBirth": _dob(account),
            "gender": account.gender,
            "email": account.email or "",
            "mobile": account.mobile,
            "abhaNumber": account.formatted_number,
            "address": account.address,
            "stateName": account.state_name,
            "pinCode": account.pincode,
            "stateCode": account.state_code,
            "districtCode": account.district_code,
            "authMethods": [m for m in ("AADHAAR_OTP", "MOBILE_OTP") if m in _auth_methods(account)],
            "status": account.status,
            "subDistrictCode": "",
            "subDistrictName": account.subdistrict_name,
            "emailVerified": "false",
            "mobileVerified": "true" if account.mobile_verified else "false",
            "kycStatus": "VERIFIED" if account.kyc_verified else "PROVISIONAL",
        }
    )


@m1("GET")
def phr_card(request):
    """GET /v3/phr/web/login/profile/abha/phr-card (m1_get_v3_phr_web_login_profile_abha_phr_card): the card,
    image/png, answered 202 as the spec documents this operation."""
    account, address = _phr_account(request)
    account.preferred_address = address  # the card of the address signed in with (not saved)
    return answers.png(card_png(account), status=202)


@m1("GET")
def phr_qr_code(request):
    """GET /v3/phr/web/login/profile/abha/qr-code (m1_get_v3_phr_web_login_profile_abha_qr_code)."""
    account, address = _phr_account(request)
    account.preferred_address = address
    return answers.png(qr_png(account))
