"""The sandbox's ABHA login (M1) over HTTP: journeys/m1.yaml m1-login-mobile, -aadhaar, -abha-number-aadhaar-otp,
-abha-number-mobile-otp, m1-find-mobile-otp, m1-login-abha-address-mobile-otp and m1-session (token refresh), each
reply checked against the facts of hiecm-m1.yaml written below."""

import jsonschema
import pytest
import requests

from abdm_sandbox.abha.testing import AbhaClient, fresh_mobile, valid_aadhaar

TIMESTAMP = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"}
TXN = {"type": "object", "required": ["txnId", "message"], "properties": {"txnId": {"type": "string"}}}
ACCOUNT = {
    "type": "object",
    "required": ["ABHANumber", "preferredAbhaAddress", "name", "status", "profilePhoto"],
    "properties": {
        "ABHANumber": {"type": "string", "pattern": r"^\d{2}-\d{4}-\d{4}-\d{4}$"},
        "status": {"enum": ["ACTIVE", "DEACTIVATED"]},
    },
}
LOGIN_VERIFIED = {
    "type": "object",
    "required": [
        "txnId",
        "authResult",
        "message",
        "token",
        "expiresIn",
        "refreshToken",
        "refreshExpiresIn",
        "accounts",
    ],
    "properties": {
        "authResult": {"const": "success"},
        "expiresIn": {"type": "integer"},
        "refreshExpiresIn": {"type": "integer"},
        "accounts": {"type": "array", "items": ACCOUNT, "minItems": 1, "maxItems": 1},
    },
}
LOGIN_CHOOSE = {  # several ABHAs on the mobile: a T-token and the accounts
    "type": "object",
    "required": ["txnId", "authResult", "message", "token", "expiresIn", "accounts"],
    "properties": {"authResult": {"const": "success"}, "accounts": {"type": "array", "items": ACCOUNT, "minItems": 2}},
}
TOKENS = {
    "type": "object",
    "required": ["token", "expiresIn", "refreshToken", "refreshExpiresIn"],
    "properties": {"expiresIn": {"type": "integer"}, "refreshExpiresIn": {"type": "integer"}},
}
SEARCH = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["txnId", "ABHA"],
        "properties": {
            "ABHA": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["index", "ABHANumber", "name", "gender"],
                    "properties": {"index": {"type": "integer"}},
                },
            }
        },
    },
}
PHR_SEARCH = {
    "type": "object",
    "required": ["healthIdNumber", "abhaAddress", "authMethods", "blockedAuthMethods", "status", "fullName", "mobile"],
    "properties": {"authMethods": {"type": "array", "items": {"enum": ["MOBILE_OTP", "AADHAAR_OTP", "PASSWORD"]}}},
}
PHR_VERIFIED = {
    "type": "object",
    "required": ["message", "authResult", "users", "tokens"],
    "properties": {
        "users": {
            "type": "array",
            "items": {"type": "object", "required": ["abhaAddress", "fullName", "abhaNumber", "status"]},
        },
        "tokens": TOKENS,
    },
}


def check(answer: requests.Response, status: int, schema: dict):
    assert answer.status_code == status, answer.text
    body = answer.json()
    jsonschema.validate(body, schema)
    return body


@pytest.fixture(scope="module")
def abha(abdm_sandbox):
    return AbhaClient(abdm_sandbox)


@pytest.fixture
def enrolled(abha):
    """A person with an ABHA: (person, enrol answer)."""
    person = abha.define_resident()
    return person, abha.enrol_person(person)


def test_login_by_mobile_with_one_abha_gives_the_user_token(abha, abdm_sandbox, enrolled):
    person, enrol = enrolled
    sent = check(abha.login_request("mobile", person["mobile"]), 200, TXN)
    body = check(abha.login_verify(sent["txnId"], abdm_sandbox.last_otp(person["mobile"])), 200, LOGIN_VERIFIED)
    assert body["accounts"][0]["ABHANumber"] == enrol["ABHAProfile"]["ABHANumber"]
    profile = abha.call("GET", "/v3/profile/account", x_token=body["token"])
    assert profile.status_code == 200
    assert profile.json()["ABHANumber"] == enrol["ABHAProfile"]["ABHANumber"]


def test_login_by_a_mobile_with_several_abhas_picks_one_with_the_t_token(abha, abdm_sandbox):
    family_mobile = fresh_mobile()
    numbers = []
    for name in ("Mehul Babubhai Shah", "Sonal Mehulbhai Shah"):
        person = abha.define_resident(name=name, mobile=family_mobile)
        numbers.append(abha.enrol_person(person)["ABHAProfile"]["ABHANumber"])
    sent = check(abha.login_request("mobile", family_mobile), 200, TXN)
    body = check(abha.login_verify(sent["txnId"], abdm_sandbox.last_otp(family_mobile)), 200, LOGIN_CHOOSE)
    assert sorted(a["ABHANumber"] for a in body["accounts"]) == sorted(numbers)
    assert "refreshToken" not in body

    def pick(number, t_token=body["token"], txn_id=sent["txnId"]):
        return abha.call(
            "POST",
            "/v3/profile/login/verify/user",
            headers={"T-token": f"Bearer {t_token}"},
            json={"ABHANumber": number, "txnId": txn_id},
        )

    assert pick(numbers[0], t_token="garbage").json()["message"] == "Invalid T-token"
    assert pick("91-0000-0000-0000").json()["ABHANumber"] == "Invalid ABHA Number"
    tokens = check(pick(numbers[1]), 200, TOKENS)
    profile = abha.call("GET", "/v3/profile/account", x_token=tokens["token"]).json()
    assert profile["ABHANumber"] == numbers[1]
    assert profile["name"] == "Sonal Mehulbhai Shah"


@pytest.mark.parametrize("system", ["abdm", "aadhaar"])
def test_login_by_abha_number_with_mobile_or_aadhaar_otp(abha, abdm_sandbox, system):
    aadhaar_mobile, communication_mobile = fresh_mobile(), fresh_mobile()
    person = abha.define_resident(mobile=aadhaar_mobile)
    number = abha.enrol_person(person, mobile=communication_mobile)["ABHAProfile"]["ABHANumber"]
    sent = check(abha.login_request("abha-number", number, system=system), 200, TXN)
    to = communication_mobile if system == "abdm" else aadhaar_mobile
    assert sent["message"].endswith(to[-4:])
    scope = ["abha-login", "aadhaar-verify" if system == "aadhaar" else "mobile-verify"]
    body = check(abha.login_verify(sent["txnId"], abdm_sandbox.last_otp(to), scope=scope), 200, LOGIN_VERIFIED)
    assert body["accounts"][0]["ABHANumber"] == number


def test_login_by_aadhaar(abha, abdm_sandbox, enrolled):
    person, enrol = enrolled
    sent = check(abha.login_request("aadhaar", person["aadhaar"], system="aadhaar"), 200, TXN)
    assert sent["message"].startswith("OTP sent to Aadhaar registered mobile number ending with")
    scope = ["abha-login", "aadhaar-verify"]
    body = check(
        abha.login_verify(sent["txnId"], abdm_sandbox.last_otp(person["mobile"]), scope=scope), 200, LOGIN_VERIFIED
    )
    assert body["accounts"][0]["ABHANumber"] == enrol["ABHAProfile"]["ABHANumber"]


def test_login_by_an_aadhaar_without_abha_is_abdm_1114(abha):
    answer = abha.login_request("aadhaar", valid_aadhaar(), system="aadhaar")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "ABDM-1114"


def test_login_by_an_unknown_mobile_is_abdm_1114(abha):
    answer = abha.login_request("mobile", fresh_mobile())
    assert answer.status_code == 404
    assert answer.json()["error"] == {"code": "ABDM-1114", "message": "User not found."}


def test_a_wrong_login_otp_is_an_invalid_otp_value_and_an_expired_one_fails(abha, abdm_sandbox, enrolled):
    person, _ = enrolled
    txn_id = abha.login_request("mobile", person["mobile"]).json()["txnId"]
    otp = abdm_sandbox.last_otp(person["mobile"])
    wrong = abha.login_verify(txn_id, f"{(int(otp) + 3) % 1_000_000:06d}")
    assert wrong.status_code == 400
    assert wrong.json()["otpValue"] == "Invalid OTP Value"
    jsonschema.validate(wrong.json()["timestamp"], TIMESTAMP)
    abdm_sandbox.post("abha/otp/expire", json={"txnId": txn_id})
    expired = abha.login_verify(txn_id, otp)
    assert expired.status_code == 200
    assert (expired.json()["authResult"], expired.json()["message"]) == ("failed", "OTP expired, please try again")


def test_a_login_otp_is_good_once(abha, abdm_sandbox, enrolled):
    person, _ = enrolled
    txn_id = abha.login_request("mobile", person["mobile"]).json()["txnId"]
    otp = abdm_sandbox.last_otp(person["mobile"])
    assert abha.login_verify(txn_id, otp).json()["authResult"] == "success"
    assert abha.login_verify(txn_id, otp).json()["authResult"] == "failed"


def test_biometric_login_is_not_allowed(abha, enrolled):
    _, enrol = enrolled
    answer = abha.login_request(
        "abha-number", enrol["ABHAProfile"]["ABHANumber"], scope=["abha-login", "aadhaar-face-verify"]
    )
    assert answer.status_code == 401
    assert answer.json()["code"] == "ABDM-1224"


def test_the_refresh_token_gives_a_new_user_token(abha, enrolled):
    _, enrol = enrolled
    refresh = enrol["tokens"]["refreshToken"]
    answer = abha.call("GET", "/v3/profile/account/request/token", headers={"R-token": f"Bearer {refresh}"})
    tokens = check(answer, 200, TOKENS)
    assert abha.call("GET", "/v3/profile/account", x_token=tokens["token"]).status_code == 200
    # a user token is not a refresh token
    wrong = abha.call(
        "GET", "/v3/profile/account/request/token", headers={"R-token": f"Bearer {enrol['tokens']['token']}"}
    )
    assert wrong.status_code == 400 and wrong.json()["message"] == "Invalid R-token"


def test_find_abha_by_mobile_then_login_by_index(abha, abdm_sandbox, enrolled):
    person, enrol = enrolled
    found = check(
        abha.call(
            "POST",
            "/v3/profile/account/abha/search",
            json={"scope": ["search-abha"], "mobile": abha.encrypt(person["mobile"])},
        ),
        200,
        SEARCH,
    )
    entry = found[0]["ABHA"][0]
    assert entry["ABHANumber"].endswith(enrol["ABHAProfile"]["ABHANumber"][-4:])
    assert entry["ABHANumber"].startswith("xx-")  # masked
    sent = abha.login_request(
        "index", str(entry["index"]), scope=["abha-login", "search-abha", "mobile-verify"], txnId=found[0]["txnId"]
    )
    assert check(sent, 200, TXN)["txnId"] == found[0]["txnId"]
    body = check(
        abha.login_verify(
            found[0]["txnId"],
            abdm_sandbox.last_otp(person["mobile"]),
            scope=["abha-login", "search-abha", "mobile-verify"],
        ),
        200,
        LOGIN_VERIFIED,
    )
    assert body["accounts"][0]["ABHANumber"] == enrol["ABHAProfile"]["ABHANumber"]


def test_search_by_an_unknown_mobile_is_abdm_1114(abha):
    answer = abha.call(
        "POST",
        "/v3/profile/account/abha/search",
        json={"scope": ["search-abha"], "mobile": abha.encrypt(fresh_mobile())},
    )
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "ABDM-1114"


def test_login_search_by_abha_number(abha, enrolled):
    _, enrol = enrolled
    number = enrol["ABHAProfile"]["ABHANumber"]
    answer = abha.call("POST", "/v3/profile/login/search", json={"ABHANumber": number})
    assert answer.status_code == 200
    assert answer.json()[0]["ABHANumber"] == number
    assert "MOBILE_OTP" in answer.json()[0]["authMethods"]
    missing = abha.call("POST", "/v3/profile/login/search", json={"ABHANumber": "91-0000-0000-0001"})
    assert missing.status_code == 404


def test_login_by_abha_address_with_mobile_otp(abha, abdm_sandbox, enrolled):
    person, enrol = enrolled
    address = enrol["ABHAProfile"]["phrAddress"][0]
    found = check(abha.call("POST", "/v3/phr/web/login/abha/search", json={"abhaAddress": address}), 200, PHR_SEARCH)
    assert found["healthIdNumber"] == enrol["ABHAProfile"]["ABHANumber"]
    sent = abha.call(
        "POST",
        "/v3/phr/web/login/abha/request/otp",
        json={
            "scope": ["abha-address-login", "mobile-verify"],
            "loginHint": "abha-address",
            "loginId": abha.encrypt(address),
            "otpSystem": "abdm",
        },
    )
    txn_id = check(sent, 200, TXN)["txnId"]
    wrong = abha.call(
        "POST",
        "/v3/phr/web/login/abha/verify",
        json={
            "scope": ["abha-address-login", "mobile-verify"],
            "authData": {"authMethods": ["otp"], "otp": {"txnId": txn_id, "otpValue": abha.encrypt("000000")}},
        },
    )
    assert wrong.status_code == 400 and isinstance(wrong.json(), list)
    verified = abha.call(
        "POST",
        "/v3/phr/web/login/abha/verify",
        json={
            "scope": ["abha-address-login", "mobile-verify"],
            "authData": {
                "authMethods": ["otp"],
                "otp": {"txnId": txn_id, "otpValue": abha.encrypt(abdm_sandbox.last_otp(person["mobile"]))},
            },
        },
    )
    body = check(verified, 200, PHR_VERIFIED)
    assert body["users"][0]["abhaAddress"] == address
    profile = abha.call("GET", "/v3/phr/web/login/profile/abha-profile", x_token=body["tokens"]["token"])
    assert profile.status_code == 200
    assert profile.json()["abhaAddress"] == address
    card = abha.call("GET", "/v3/phr/web/login/profile/abha/phr-card", x_token=body["tokens"]["token"])
    assert card.status_code == 202 and card.headers["Content-Type"] == "image/png"


def test_an_unknown_abha_address_is_abdm_1211(abha):
    answer = abha.call("POST", "/v3/phr/web/login/abha/search", json={"abhaAddress": "nobody.here1990@sbx"})
    assert answer.status_code == 400
    assert answer.json() == {"code": "ABDM-1211", "message": "User not found."}
