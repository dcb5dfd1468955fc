"""The sandbox's ABHA enrolment (M1) over HTTP, as an integrator drives it: journeys/m1.yaml m1-create-aadhaar-otp
(certificate, Aadhaar OTP, byAadhaar, mobile verify, suggestions, ABHA address), each reply checked against the
facts of NHA's hiecm-m1.yaml written below (required fields, types, enums, error codes)."""

import re

import jsonschema
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from abdm_sandbox.abha.testing import AbhaClient, fresh_mobile, invalid_aadhaar, valid_aadhaar

# --- schema facts (hiecm-m1.yaml, 2026-09-16 swagger; required lists from the 2026-09-01 merge) ---------------
TIMESTAMP = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"}
ABHA_NUMBER = {"type": "string", "pattern": r"^\d{2}-\d{4}-\d{4}-\d{4}$"}
CERTIFICATE = {
    "type": "object",
    "required": ["publicKey", "encryptionAlgorithm"],
    "properties": {
        "publicKey": {"type": "string"},
        "encryptionAlgorithm": {"const": "RSA/ECB/OAEPWithSHA-1AndMGF1Padding"},
    },
}
TXN = {
    "type": "object",
    "required": ["txnId", "message"],
    "properties": {"txnId": {"type": "string", "format": "uuid"}, "message": {"type": "string"}},
}
TOKENS = {
    "type": "object",
    "required": ["token", "expiresIn", "refreshToken", "refreshExpiresIn"],
    "properties": {
        "token": {"type": "string"},
        "expiresIn": {"type": "integer"},
        "refreshToken": {"type": "string"},
        "refreshExpiresIn": {"type": "integer"},
    },
}
ENROL = {
    "type": "object",
    "required": ["message", "txnId", "tokens", "ABHAProfile", "isNew"],
    "properties": {
        "message": {"type": "string"},
        "txnId": {"type": "string"},
        "tokens": TOKENS,
        "isNew": {"type": "boolean"},
        "ABHAProfile": {
            "type": "object",
            "required": [
                "firstName",
                "middleName",
                "lastName",
                "dob",
                "gender",
                "mobile",
                "phrAddress",
                "districtCode",
                "stateCode",
                "abhaType",
                "stateName",
                "districtName",
                "ABHANumber",
                "abhaStatus",
            ],
            "properties": {
                "dob": {"type": "string", "pattern": r"^\d{1,2}-\d{1,2}-\d{4}$"},
                "mobile": {"type": "string"},
                "gender": {"enum": ["M", "F", "O"]},
                "phrAddress": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                "districtCode": {"type": "string"},
                "stateCode": {"type": "string"},
                "ABHANumber": ABHA_NUMBER,
                "abhaStatus": {"enum": ["ACTIVE", "DEACTIVATED"]},
            },
        },
    },
}
VERIFY_OTP_RESULT = {
    "type": "object",
    "required": ["txnId", "authResult", "message", "accounts"],
    "properties": {
        "authResult": {"enum": ["success", "failed"]},
        "accounts": {"type": "array", "items": {"type": "object", "required": ["ABHANumber"]}},
    },
}
SUGGESTIONS = {
    "type": "object",
    "required": ["txnId", "abhaAddressList"],
    "properties": {"abhaAddressList": {"type": "array", "items": {"type": "string"}, "minItems": 3}},
}
ADDRESS = {
    "type": "object",
    "required": ["txnId", "healthIdNumber", "preferredAbhaAddress"],
    "properties": {"healthIdNumber": ABHA_NUMBER},
}
WRAPPED = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string", "pattern": r"^ABDM-\d{4}$"}},
        }
    },
}


def field_error(name: str):
    return {
        "type": "object",
        "required": [name, "timestamp"],
        "properties": {name: {"type": "string"}, "timestamp": TIMESTAMP},
    }


def check(answer: requests.Response, status: int, schema: dict) -> dict:
    assert answer.status_code == status, answer.text
    body = answer.json()
    jsonschema.validate(body, schema, format_checker=jsonschema.FormatChecker())
    return body


def code_of(answer: requests.Response, status: int) -> str:
    return check(answer, status, WRAPPED)["error"]["code"]


@pytest.fixture(scope="module")
def abha(abdm_sandbox):
    return AbhaClient(abdm_sandbox)


# --- certificate, session and headers -------------------------------------------------------------------------


def test_public_certificate_is_an_rsa_key_with_the_published_algorithm(abha):
    body = check(abha.call("GET", "/v3/profile/public/certificate"), 200, CERTIFICATE)
    assert "BEGIN" not in body["publicKey"]  # base64 DER, no PEM armour, as the spec's example
    assert isinstance(abha.public_key, rsa.RSAPublicKey)
    assert abha.public_key.key_size >= 2048


def test_every_operation_needs_the_gateway_session(abha):
    answer = requests.get(
        abha.url + "/v3/profile/public/certificate",
        headers={**abha.headers(), "Authorization": "Bearer not-a-token"},
        timeout=10,
    )
    assert answer.status_code == 401
    assert answer.json()["code"] == "900901"


def test_a_request_without_request_id_is_refused(abha):
    headers = abha.headers()
    del headers["REQUEST-ID"]
    answer = requests.get(abha.url + "/v3/profile/public/certificate", headers=headers, timeout=10)
    assert answer.status_code == 400


# --- enrolment by Aadhaar OTP -----------------------------------------------------------------------------------


def test_enrolment_creates_an_abha_and_enrolling_again_returns_the_same_one(abha, abdm_sandbox):
    person = abha.define_resident()
    sent = check(abha.aadhaar_otp(person["aadhaar"]), 200, TXN)
    assert sent["message"].endswith("******" + person["mobile"][-4:])
    otp = abdm_sandbox.last_otp(person["mobile"])
    assert otp and len(otp) == 6

    first = check(abha.enrol(sent["txnId"], otp, person["mobile"]), 200, ENROL)
    assert first["isNew"] is True
    profile = first["ABHAProfile"]
    number = profile["ABHANumber"]
    assert number.startswith("91-")
    assert (profile["firstName"], profile["lastName"], profile["gender"]) == ("Hetal", "Patel", "F")
    assert profile["dob"] == "23-05-1990"
    assert profile["phrAddress"] == [number.replace("-", "") + "@sbx"]  # the default address is the number
    assert profile["mobile"] == person["mobile"]

    again = check(abha.aadhaar_otp(person["aadhaar"]), 200, TXN)
    second = check(abha.enrol(again["txnId"], abdm_sandbox.last_otp(person["mobile"]), person["mobile"]), 200, ENROL)
    assert second["isNew"] is False
    assert second["message"] == "This account already exist"
    assert second["ABHAProfile"]["ABHANumber"] == number


def test_abha_numbers_are_random_not_sequential(abha):
    numbers = [abha.enrol_person(abha.define_resident())["ABHAProfile"]["ABHANumber"] for _ in range(3)]
    digits = sorted(int(n.replace("-", "")) for n in numbers)
    assert len(set(digits)) == 3
    assert all(b - a > 1 for a, b in zip(digits, digits[1:], strict=False))


def test_a_wrong_aadhaar_otp_is_uidai_400_and_the_right_one_still_works(abha, abdm_sandbox):
    person = abha.define_resident()
    txn_id = abha.aadhaar_otp(person["aadhaar"]).json()["txnId"]
    otp = abdm_sandbox.last_otp(person["mobile"])
    wrong = f"{(int(otp) + 1) % 1_000_000:06d}"
    answer = abha.enrol(txn_id, wrong, person["mobile"])
    assert code_of(answer, 422) == "ABDM-1204"
    assert answer.json()["error"]["message"] == "UIDAI Error code : 400 : Invalid Aadhaar OTP value."
    check(abha.enrol(txn_id, otp, person["mobile"]), 200, ENROL)


def test_an_expired_otp_is_refused(abha, abdm_sandbox):
    person = abha.define_resident()
    txn_id = abha.aadhaar_otp(person["aadhaar"]).json()["txnId"]
    assert abdm_sandbox.post("abha/otp/expire", json={"txnId": txn_id}).status_code == 200
    answer = abha.enrol(txn_id, abdm_sandbox.last_otp(person["mobile"]), person["mobile"])
    assert code_of(answer, 422) == "ABDM-1204"
    assert "UIDAI Error code : 403" in answer.json()["error"]["message"]


def test_five_wrong_otps_lock_the_transaction(abha, abdm_sandbox):
    person = abha.define_resident()
    txn_id = abha.aadhaar_otp(person["aadhaar"]).json()["txnId"]
    otp = abdm_sandbox.last_otp(person["mobile"])
    wrong = f"{(int(otp) + 7) % 1_000_000:06d}"
    codes = [abha.enrol(txn_id, wrong, person["mobile"]).json()["error"]["code"] for _ in range(5)]
    assert codes == ["ABDM-1204"] * 4 + ["ABDM-1100"]
    answer = abha.enrol(txn_id, otp, person["mobile"])  # even the right one, now
    assert code_of(answer, 400) == "ABDM-1100"
    assert "Please try again in 30 minutes" in answer.json()["error"]["message"]


@pytest.mark.parametrize("scheme", ["pkcs1v15", "oaep-sha256", "another-key"])
def test_an_aadhaar_encrypted_otherwise_is_refused_as_an_invalid_login_id(abha, scheme):
    person = abha.define_resident()
    if scheme == "another-key":
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
        login_id = abha.encrypt(person["aadhaar"], key=other)
    else:
        login_id = abha.encrypt(person["aadhaar"], scheme=scheme)
    answer = abha.call(
        "POST",
        "/v3/enrollment/request/otp",
        json={"scope": ["abha-enrol"], "loginHint": "aadhaar", "loginId": login_id, "otpSystem": "aadhaar"},
    )
    assert check(answer, 400, field_error("loginId"))["loginId"] == "Invalid LoginId"


def test_an_invalid_aadhaar_is_refused_as_an_invalid_login_id(abha):
    for number in (invalid_aadhaar(), "123456789012", "99999999999"):
        check(abha.aadhaar_otp(number), 400, field_error("loginId"))


def test_an_aadhaar_nobody_defined_is_a_made_up_resident_the_same_each_time(abha, abdm_sandbox):
    aadhaar = valid_aadhaar()
    first = check(abha.aadhaar_otp(aadhaar), 200, TXN)["message"]
    second = check(abha.aadhaar_otp(aadhaar), 200, TXN)["message"]
    assert first == second
    resident = abdm_sandbox.post("abha/residents/lookup", json={"aadhaar": aadhaar}).json()
    assert resident["generated"] is True
    assert first.endswith("******" + resident["mobile"][-4:])
    txn_id = abha.aadhaar_otp(aadhaar).json()["txnId"]
    enrolled = check(abha.enrol(txn_id, abdm_sandbox.last_otp(resident["mobile"]), resident["mobile"]), 200, ENROL)
    profile = enrolled["ABHAProfile"]
    assert profile["stateCode"] == "24" and profile["stateName"] == "GUJARAT"
    assert (
        " ".join(filter(None, [profile["firstName"], profile["middleName"], profile["lastName"]])) == resident["name"]
    )


def test_scope_and_login_hint_are_checked(abha):
    person = abha.define_resident()
    bad_scope = abha.call(
        "POST",
        "/v3/enrollment/request/otp",
        json={
            "scope": ["abha-login"],
            "loginHint": "aadhaar",
            "loginId": abha.encrypt(person["aadhaar"]),
            "otpSystem": "aadhaar",
        },
    )
    assert check(bad_scope, 400, field_error("scope"))["scope"] == "Invalid Scope"
    bad_hint = abha.call(
        "POST",
        "/v3/enrollment/request/otp",
        json={
            "scope": ["abha-enrol"],
            "loginHint": "mobile",
            "loginId": abha.encrypt(person["aadhaar"]),
            "otpSystem": "aadhaar",
        },
    )
    check(bad_hint, 400, field_error("loginHint"))


def test_an_unknown_transaction_is_abdm_1017(abha):
    answer = abha.enrol("3fa85f64-5717-4562-b3fc-2c963f66afa6", "123456", fresh_mobile())
    assert code_of(answer, 400) == "ABDM-1017"
    check(abha.enrol("not-a-txn", "123456", fresh_mobile()), 400, field_error("txnId"))


# --- communication mobile, suggestions, address -----------------------------------------------------------------


def test_a_different_mobile_is_verified_by_abdm_otp(abha, abdm_sandbox):
    person = abha.define_resident()
    other = fresh_mobile()
    sent = check(abha.aadhaar_otp(person["aadhaar"]), 200, TXN)
    enrolled = check(abha.enrol(sent["txnId"], abdm_sandbox.last_otp(person["mobile"]), other), 200, ENROL)
    assert enrolled["ABHAProfile"]["mobile"] == ""  # not the Aadhaar-linked mobile: unverified, not on the ABHA
    asked = abha.call(
        "POST",
        "/v3/enrollment/request/otp",
        json={
            "txnId": sent["txnId"],
            "scope": ["abha-enrol", "mobile-verify"],
            "loginHint": "mobile",
            "loginId": abha.encrypt(other),
            "otpSystem": "abdm",
        },
    )
    check(asked, 200, TXN)
    otp = abdm_sandbox.last_otp(other)

    def verify(value):
        return abha.call(
            "POST",
            "/v3/enrollment/auth/byAbdm",
            json={
                "scope": ["abha-enrol", "mobile-verify"],
                "authData": {"authMethods": ["otp"], "otp": {"txnId": sent["txnId"], "otpValue": abha.encrypt(value)}},
            },
        )

    wrong = verify(f"{(int(otp) + 1) % 1_000_000:06d}")
    assert wrong.status_code == 400 and wrong.json()["description"] == "Invalid OTP value"
    body = check(verify(otp), 200, VERIFY_OTP_RESULT)
    assert body["authResult"] == "success"
    assert body["accounts"] == [{"ABHANumber": enrolled["ABHAProfile"]["ABHANumber"]}]
    profile = abha.call("GET", "/v3/profile/account", x_token=enrolled["tokens"]["token"]).json()
    assert profile["mobile"] == other
    assert body["message"] == "Mobile number is now successfully linked to your Account"


def test_an_expired_abdm_otp_answers_auth_result_failed(abha, abdm_sandbox):
    person = abha.define_resident()
    other = fresh_mobile()
    sent = abha.aadhaar_otp(person["aadhaar"]).json()
    abha.enrol(sent["txnId"], abdm_sandbox.last_otp(person["mobile"]), other)
    abha.call(
        "POST",
        "/v3/enrollment/request/otp",
        json={
            "txnId": sent["txnId"],
            "scope": ["abha-enrol", "mobile-verify"],
            "loginHint": "mobile",
            "loginId": abha.encrypt(other),
            "otpSystem": "abdm",
        },
    )
    abdm_sandbox.post("abha/otp/expire", json={"txnId": sent["txnId"]})
    answer = abha.call(
        "POST",
        "/v3/enrollment/auth/byAbdm",
        json={
            "scope": ["abha-enrol", "mobile-verify"],
            "authData": {
                "authMethods": ["otp"],
                "otp": {"txnId": sent["txnId"], "otpValue": abha.encrypt(abdm_sandbox.last_otp(other))},
            },
        },
    )
    body = check(answer, 200, VERIFY_OTP_RESULT)
    assert (body["authResult"], body["message"], body["accounts"]) == ("failed", "OTP expired, please try again", [])


def test_suggestions_are_free_addresses_and_a_taken_address_is_abdm_1101(abha, abdm_sandbox):
    first = abha.define_resident(name="Kinjal Sureshbhai Mehta", dob="1988-11-02")
    enrolled = abha.enrol_person(first)
    txn_id = enrolled["txnId"]
    answer = abha.call("GET", "/v3/enrollment/enrol/suggestion", headers={"TRANSACTION_ID": txn_id})
    suggestions = check(answer, 200, SUGGESTIONS)["abhaAddressList"]
    assert all(re.fullmatch(r"[a-z][a-z0-9._]{2,16}[a-z0-9]", s) for s in suggestions)
    chosen = suggestions[0]
    claimed = check(
        abha.call(
            "POST", "/v3/enrollment/enrol/abha-address", json={"txnId": txn_id, "abhaAddress": chosen, "preferred": 1}
        ),
        200,
        ADDRESS,
    )
    assert claimed["preferredAbhaAddress"] == chosen + "@sbx"
    assert claimed["healthIdNumber"] == enrolled["ABHAProfile"]["ABHANumber"]

    # the same name and birth date: the taken address is no longer suggested, and claiming it is refused
    second = abha.enrol_person(abha.define_resident(name="Kinjal Sureshbhai Mehta", dob="1988-11-02"))
    again = abha.call("GET", "/v3/enrollment/enrol/suggestion", headers={"TRANSACTION_ID": second["txnId"]})
    assert chosen not in check(again, 200, SUGGESTIONS)["abhaAddressList"]
    taken = abha.call(
        "POST",
        "/v3/enrollment/enrol/abha-address",
        json={"txnId": second["txnId"], "abhaAddress": chosen.upper() + "@sbx", "preferred": 1},
    )
    assert code_of(taken, 400) == "ABDM-1101"
    assert taken.json()["error"]["message"] == (
        "This ABHA Address already exists. Please create with unique ABHA address"
    )


def test_an_address_outside_the_policy_or_without_preferred_1_is_refused(abha):
    txn_id = abha.enrol_person(abha.define_resident())["txnId"]
    for bad in ("1abc.def", ".abcdefgh", "abc..defg", "ab_cd_efgh", "a" * 19):
        answer = abha.call(
            "POST", "/v3/enrollment/enrol/abha-address", json={"txnId": txn_id, "abhaAddress": bad, "preferred": 1}
        )
        check(answer, 400, field_error("abhaAddress"))
    answer = abha.call(
        "POST",
        "/v3/enrollment/enrol/abha-address",
        json={"txnId": txn_id, "abhaAddress": "hetal.new1990", "preferred": 0},
    )
    assert check(answer, 400, field_error("preferred"))["preferred"] == "Invalid Preferred Flag"


def test_suggestions_for_an_unknown_transaction_are_abdm_1017(abha):
    answer = abha.call(
        "GET", "/v3/enrollment/enrol/suggestion", headers={"TRANSACTION_ID": "3fa85f64-5717-4562-b3fc-2c963f66afa6"}
    )
    assert code_of(answer, 401) == "ABDM-1017"


def test_the_header_spelled_transaction_dash_id_reaches_the_suggestion_operation_too(abha):
    txn_id = abha.enrol_person(abha.define_resident())["txnId"]
    answer = abha.call("GET", "/v3/enrollment/enrol/suggestion", headers={"TRANSACTION-ID": txn_id})
    check(answer, 200, SUGGESTIONS)
