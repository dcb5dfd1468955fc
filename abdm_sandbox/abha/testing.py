"""A small M1 client for tests of the sandbox's ABHA service (and of the portal against it): HTTP with requests,
encryption with cryptography, as an integrator does. Imports nothing of Django or the sandbox's models.

    abha = AbhaClient(abdm_sandbox)            # a gateway session of ABDM_CLIENT_ID (default state-portal)
    abha.call("POST", "/v3/enrollment/request/otp", json={...})
    abha.encrypt("234123412346")               # RSA/ECB/OAEPWithSHA-1AndMGF1Padding, base64
    valid_aadhaar()                            # a fresh random Verhoeff-valid Aadhaar number
"""

import base64
import datetime
import os
import secrets
import uuid

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

ABHA_PREFIX = "/abha/api"

# Verhoeff tables (the check digit of an Aadhaar number).
_D = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
]  # fmt: skip
_P = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7], [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
]  # fmt: skip
_INV = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9]


def verhoeff_digit(digits: str) -> str:
    check = 0
    for position, digit in enumerate(reversed(digits)):
        check = _D[check][_P[(position + 1) % 8][int(digit)]]
    return str(_INV[check])


def valid_aadhaar() -> str:
    body = str(secrets.randbelow(8) + 2) + "".join(str(secrets.randbelow(10)) for _ in range(10))
    return body + verhoeff_digit(body)


def invalid_aadhaar() -> str:
    number = valid_aadhaar()
    return number[:-1] + str((int(number[-1]) + 1) % 10)


def fresh_mobile() -> str:
    return str(secrets.randbelow(4) + 6) + "".join(str(secrets.randbelow(10)) for _ in range(9))


def timestamp() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class AbhaClient:
    """A signed-in integrator of the sandbox's ABHA service."""

    def __init__(self, sandbox, client_id: str | None = None, secret: str | None = None):
        self.sandbox = sandbox
        self.url = sandbox.url.rstrip("/") + ABHA_PREFIX
        client_id = client_id or os.environ.get("ABDM_CLIENT_ID") or "state-portal"
        secret = secret or os.environ.get("ABDM_CLIENT_SECRET") or "sandbox-secret"
        answer = requests.post(
            sandbox.url.rstrip("/") + "/api/hiecm/gateway/v3/sessions",
            json={"clientId": client_id, "clientSecret": secret, "grantType": "client_credentials"},
            headers={"REQUEST-ID": str(uuid.uuid4()), "TIMESTAMP": timestamp(), "X-CM-ID": "sbx"},
            timeout=10,
        )
        assert answer.status_code == 202, answer.text
        self.token = answer.json()["accessToken"]
        self._public_key = None

    def headers(self, **extra) -> dict:
        return {"Authorization": f"Bearer {self.token}", "REQUEST-ID": str(uuid.uuid4()), "TIMESTAMP": timestamp(),
                **extra}  # fmt: skip

    def call(self, method: str, path: str, *, headers: dict | None = None, x_token: str | None = None, **kwargs):
        sent = self.headers(**(headers or {}))
        if x_token:
            sent["X-token"] = f"Bearer {x_token}"
        return requests.request(method, self.url + path, headers=sent, timeout=30, **kwargs)

    @property
    def public_key(self):
        if self._public_key is None:
            answer = self.call("GET", "/v3/profile/public/certificate")
            assert answer.status_code == 200, answer.text
            der = base64.b64decode(answer.json()["publicKey"])
            self._public_key = serialization.load_der_public_key(der)
        return self._public_key

    def encrypt(self, value: str, *, scheme: str = "oaep-sha1", key=None) -> str:
        """base64 of RSA(value) under the sandbox's certificate (or `key`): `oaep-sha1` is M1's padding;
        `pkcs1v15` and `oaep-sha256` are the mistakes ABDM refuses."""
        pad = {
            "oaep-sha1": lambda: padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None),  # noqa: S303 - M1's published padding
            "oaep-sha256": lambda: padding.OAEP(
                mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None
            ),
            "pkcs1v15": padding.PKCS1v15,
        }[scheme]()
        return base64.b64encode((key or self.public_key).encrypt(value.encode(), pad)).decode()

    # --- journeys ----------------------------------------------------------------------------------------------

    def define_resident(self, *, aadhaar: str | None = None, mobile: str | None = None, **fields) -> dict:
        person = {
            "aadhaar": aadhaar or valid_aadhaar(),
            "name": fields.pop("name", "Hetal Rameshbhai Patel"),
            "gender": fields.pop("gender", "F"),
            "dob": fields.pop("dob", "1990-05-23"),
            "mobile": mobile or fresh_mobile(),
            "address": fields.pop("address", "12, Station Road, Bhavnagar, Gujarat"),
            "stateCode": "24",
            "stateName": "Gujarat",
            "districtCode": fields.pop("districtCode", "443"),
            "districtName": fields.pop("districtName", "Bhavnagar"),
            "pincode": fields.pop("pincode", "364001"),
            **fields,
        }
        answer = self.sandbox.post("abha/residents", json=person)
        assert answer.status_code in (200, 201), answer.text
        return person

    def aadhaar_otp(self, aadhaar: str):
        return self.call(
            "POST",
            "/v3/enrollment/request/otp",
            json={
                "txnId": "",
                "scope": ["abha-enrol"],
                "loginHint": "aadhaar",
                "loginId": self.encrypt(aadhaar),
                "otpSystem": "aadhaar",
            },
        )

    def enrol(self, txn_id: str, otp: str, mobile: str):
        return self.call(
            "POST",
            "/v3/enrollment/enrol/byAadhaar",
            json={
                "authData": {
                    "authMethods": ["otp"],
                    "otp": {"txnId": txn_id, "otpValue": self.encrypt(otp), "mobile": mobile},
                },
                "consent": {"code": "abha-enrollment", "version": "1.4"},
            },
        )

    def enrol_person(self, person: dict, mobile: str | None = None) -> dict:
        """Aadhaar OTP then byAadhaar (and, for a `mobile` other than the Aadhaar-linked one, its verification):
        the enrol answer's body."""
        sent = self.aadhaar_otp(person["aadhaar"])
        assert sent.status_code == 200, sent.text
        txn_id = sent.json()["txnId"]
        answer = self.enrol(txn_id, self.sandbox.last_otp(person["mobile"]), mobile or person["mobile"])
        assert answer.status_code == 200, answer.text
        if mobile and mobile != person["mobile"]:
            self.verify_enrol_mobile(txn_id, mobile)
        return answer.json()

    def verify_enrol_mobile(self, txn_id: str, mobile: str):
        """request/otp (mobile-verify) then auth/byAbdm: `mobile` becomes the enrolled account's mobile."""
        sent = self.call(
            "POST",
            "/v3/enrollment/request/otp",
            json={
                "txnId": txn_id,
                "scope": ["abha-enrol", "mobile-verify"],
                "loginHint": "mobile",
                "loginId": self.encrypt(mobile),
                "otpSystem": "abdm",
            },
        )
        assert sent.status_code == 200, sent.text
        otp = self.sandbox.last_otp(mobile)
        verified = self.call(
            "POST",
            "/v3/enrollment/auth/byAbdm",
            json={
                "scope": ["abha-enrol", "mobile-verify"],
                "authData": {"authMethods": ["otp"], "otp": {"txnId": txn_id, "otpValue": self.encrypt(otp)}},
            },
        )
        assert verified.status_code == 200 and verified.json()["authResult"] == "success", verified.text
        return verified.json()

    def login_request(self, hint: str, login_id: str, *, system: str = "abdm", scope: list | None = None, **extra):
        scope = scope or ["abha-login", "aadhaar-verify" if system == "aadhaar" else "mobile-verify"]
        return self.call(
            "POST",
            "/v3/profile/login/request/otp",
            json={"scope": scope, "loginHint": hint, "loginId": self.encrypt(login_id), "otpSystem": system, **extra},
        )

    def login_verify(self, txn_id: str, otp: str, *, scope: list | None = None):
        return self.call(
            "POST",
            "/v3/profile/login/verify",
            json={
                "scope": scope or ["abha-login", "mobile-verify"],
                "authData": {"authMethods": ["otp"], "otp": {"txnId": txn_id, "otpValue": self.encrypt(otp)}},
            },
        )
