"""The sandbox's ABHA profile operations (M1) over HTTP: journeys/m1.yaml m1-profile-and-card and m1-update-mobile,
each reply checked against the facts of hiecm-m1.yaml written below; the card's QR decoded with zxing-cpp."""

import base64
import io
import json

import jsonschema
import pytest
import requests
import zxingcpp
from PIL import Image

from abdm_sandbox.abha.testing import AbhaClient, fresh_mobile

PROFILE = {
    "type": "object",
    "required": [
        "ABHANumber",
        "preferredAbhaAddress",
        "mobile",
        "firstName",
        "middleName",
        "lastName",
        "name",
        "yearOfBirth",
        "dayOfBirth",
        "monthOfBirth",
        "gender",
        "profilePhoto",
        "status",
        "stateCode",
        "districtCode",
        "pincode",
        "address",
        "kycPhoto",
        "stateName",
        "districtName",
        "subdistrictName",
        "authMethods",
        "tags",
        "kycVerified",
        "verificationStatus",
        "verificationType",
    ],
    "properties": {
        "ABHANumber": {"type": "string", "pattern": r"^\d{2}-\d{4}-\d{4}-\d{4}$"},
        "yearOfBirth": {"type": "string"},
        "dayOfBirth": {"type": "string"},
        "monthOfBirth": {"type": "string"},
        "stateCode": {"type": "string"},
        "districtCode": {"type": "string"},
        "authMethods": {"type": "array", "items": {"type": "string"}},
        "tags": {"type": "object"},
        "kycVerified": {"type": "boolean"},
        "status": {"enum": ["ACTIVE", "DEACTIVATED"]},
    },
}
PATCHED = {  # the PATCH answer types the birth date and codes as integers
    "type": "object",
    "required": ["ABHANumber", "preferredAbhaAddress", "yearOfBirth", "gender", "status", "stateCode"],
    "properties": {"yearOfBirth": {"type": "integer"}, "stateCode": {"type": "integer"}},
}
TXN = {"type": "object", "required": ["txnId", "message"]}
VERIFY_OTP_RESULT = {
    "type": "object",
    "required": ["txnId", "authResult", "message", "accounts"],
    "properties": {"authResult": {"enum": ["success", "failed"]}},
}
INVALID_X_TOKEN = {
    "type": "object",
    "required": ["message", "timestamp"],
    "properties": {"message": {"const": "Invalid X-token"}, "code": {"const": "ABDM-1158"}},
}
QR_KEYS = {
    "hidn",
    "hid",
    "name",
    "gender",
    "statelgd",
    "distlgd",
    "dob",
    "state name",
    "district_name",
    "mobile",
    "address",
}
PHOTO = base64.b64encode(
    (lambda out: (Image.new("RGB", (60, 80), (200, 160, 120)).save(out, "JPEG"), out.getvalue())[1])(io.BytesIO())
).decode()


def check(answer: requests.Response, status: int, schema: dict):
    assert answer.status_code == status, answer.text
    body = answer.json()
    jsonschema.validate(body, schema)
    return body


@pytest.fixture(scope="module")
def abha(abdm_sandbox):
    return AbhaClient(abdm_sandbox)


@pytest.fixture
def signed_in(abha):
    """(person, enrol answer, X-token) of a fresh ABHA with a chosen address."""
    person = abha.define_resident(name="Dhaval Kantilal Joshi", gender="M", dob="1979-01-07")
    enrol = abha.enrol_person(person)
    suggestion = abha.call("GET", "/v3/enrollment/enrol/suggestion", headers={"TRANSACTION_ID": enrol["txnId"]})
    address = suggestion.json()["abhaAddressList"][0]
    claimed = abha.call(
        "POST",
        "/v3/enrollment/enrol/abha-address",
        json={"txnId": enrol["txnId"], "abhaAddress": address, "preferred": 1},
    )
    assert claimed.status_code == 200, claimed.text
    return person, enrol, enrol["tokens"]["token"]


def test_the_profile_is_the_enrolled_person(abha, signed_in):
    person, enrol, token = signed_in
    body = check(abha.call("GET", "/v3/profile/account", x_token=token), 200, PROFILE)
    assert body["ABHANumber"] == enrol["ABHAProfile"]["ABHANumber"]
    assert body["name"] == "Dhaval Kantilal Joshi"
    assert (body["yearOfBirth"], body["monthOfBirth"], body["dayOfBirth"]) == ("1979", "01", "07")
    assert body["preferredAbhaAddress"].endswith("@sbx")
    assert not body["preferredAbhaAddress"][0].isdigit()  # the chosen address, not the default number one
    assert body["mobile"] == person["mobile"]
    assert (body["stateCode"], body["districtCode"], body["pincode"]) == ("24", "443", "364001")
    assert "AADHAAR_OTP" in body["authMethods"] and "MOBILE_OTP" in body["authMethods"]


@pytest.mark.parametrize("header", ["Bearer not-a-jwt", "{token}", "Bearer {refresh}"])
def test_a_bad_x_token_is_refused(abha, signed_in, header):
    _, enrol, token = signed_in
    value = header.format(token=token, refresh=enrol["tokens"]["refreshToken"])
    answer = abha.call("GET", "/v3/profile/account", headers={"X-token": value})
    check(answer, 400, INVALID_X_TOKEN)


def test_the_abha_card_is_a_png_whose_qr_carries_the_card_json(abha, signed_in):
    person, enrol, token = signed_in
    answer = abha.call("GET", "/v3/profile/account/abha-card", x_token=token)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(answer.content))
    assert image.format == "PNG" and image.width > image.height
    codes = zxingcpp.read_barcodes(image)
    assert len(codes) == 1 and codes[0].format == zxingcpp.BarcodeFormat.QRCode
    payload = json.loads(codes[0].text)
    assert set(payload) == QR_KEYS
    assert payload["hidn"] == enrol["ABHAProfile"]["ABHANumber"]
    assert payload["hid"].endswith("@sbx")
    assert payload["name"] == "Dhaval Kantilal Joshi"
    assert (payload["gender"], payload["dob"], payload["statelgd"], payload["distlgd"]) == (
        "M",
        "7/1/1979",
        "24",
        "443",
    )
    assert payload["mobile"] == person["mobile"][:2] + "xxxxxx" + person["mobile"][-2:]


def test_the_qr_code_operation_is_the_same_qr(abha, signed_in):
    _, enrol, token = signed_in
    answer = abha.call("GET", "/v3/profile/account/qrCode", x_token=token)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "image/png"
    codes = zxingcpp.read_barcodes(Image.open(io.BytesIO(answer.content)))
    assert json.loads(codes[0].text)["hidn"] == enrol["ABHAProfile"]["ABHANumber"]


def test_the_card_needs_an_x_token(abha):
    answer = abha.call("GET", "/v3/profile/account/abha-card")
    assert answer.status_code == 400
    assert answer.json()["message"] == "Invalid X-token"


def test_the_profile_photo_can_be_changed_and_the_card_shows_it(abha, signed_in):
    _, _, token = signed_in
    body = check(abha.call("PATCH", "/v3/profile/account", x_token=token, json={"profilePhoto": PHOTO}), 200, PATCHED)
    assert body["profilePhoto"] == PHOTO
    assert abha.call("GET", "/v3/profile/account", x_token=token).json()["profilePhoto"] == PHOTO
    card = abha.call("GET", "/v3/profile/account/abha-card", x_token=token)
    assert zxingcpp.read_barcodes(Image.open(io.BytesIO(card.content)))  # still readable with a photo on it


def test_a_kyc_verified_name_cannot_be_patched(abha, signed_in):
    _, _, token = signed_in
    answer = abha.call("PATCH", "/v3/profile/account", x_token=token, json={"name": "Someone Else"})
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == "Please provide a valid field to update"
    garbage = abha.call("PATCH", "/v3/profile/account", x_token=token, json={"profilePhoto": "bm90IGFuIGltYWdl"})
    assert garbage.status_code == 400 and "profilePhoto" in garbage.json()


def test_the_mobile_is_changed_by_abdm_otp_to_the_new_mobile(abha, abdm_sandbox, signed_in):
    person, _, token = signed_in
    new_mobile = fresh_mobile()

    def ask(mobile):
        return abha.call(
            "POST",
            "/v3/profile/account/request/otp",
            x_token=token,
            json={
                "scope": ["abha-profile", "mobile-verify"],
                "loginHint": "mobile",
                "loginId": abha.encrypt(mobile),
                "otpSystem": "abdm",
            },
        )

    same = ask(person["mobile"])
    assert same.status_code == 400
    assert same.json()["message"] == "This mobile number is already verified. Please enter a different mobile number."
    sent = check(ask(new_mobile), 200, TXN)
    assert sent["message"] == f"OTP sent to mobile number ending with ******{new_mobile[-4:]}"
    otp = abdm_sandbox.last_otp(new_mobile)

    def verify(value):
        return abha.call(
            "POST",
            "/v3/profile/account/verify",
            x_token=token,
            json={
                "scope": ["abha-profile", "mobile-verify"],
                "authData": {"authMethods": ["otp"], "otp": {"txnId": sent["txnId"], "otpValue": abha.encrypt(value)}},
            },
        )

    wrong = verify(f"{(int(otp) + 5) % 1_000_000:06d}")
    assert wrong.status_code == 400 and wrong.json()["otpValue"] == "Invalid OTP Value"
    body = check(verify(otp), 200, VERIFY_OTP_RESULT)
    assert (body["authResult"], body["message"]) == ("success", "Mobile Number linked successfully")
    assert abha.call("GET", "/v3/profile/account", x_token=token).json()["mobile"] == new_mobile
    # and the new mobile now signs in
    txn_id = abha.login_request("mobile", new_mobile).json()["txnId"]
    assert abha.login_verify(txn_id, abdm_sandbox.last_otp(new_mobile)).json()["authResult"] == "success"


def test_a_mobile_change_needs_the_owners_token(abha, abdm_sandbox, signed_in):
    _, _, token = signed_in
    other = abha.enrol_person(abha.define_resident())["tokens"]["token"]
    new_mobile = fresh_mobile()
    sent = abha.call(
        "POST",
        "/v3/profile/account/request/otp",
        x_token=token,
        json={
            "scope": ["abha-profile", "mobile-verify"],
            "loginHint": "mobile",
            "loginId": abha.encrypt(new_mobile),
            "otpSystem": "abdm",
        },
    ).json()
    answer = abha.call(
        "POST",
        "/v3/profile/account/verify",
        x_token=other,
        json={
            "scope": ["abha-profile", "mobile-verify"],
            "authData": {
                "authMethods": ["otp"],
                "otp": {"txnId": sent["txnId"], "otpValue": abha.encrypt(abdm_sandbox.last_otp(new_mobile))},
            },
        },
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "ABDM-1017"
