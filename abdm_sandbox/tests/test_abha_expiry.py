"""Time limits of the sandbox's ABHA service, on a sandbox of its own whose OTPs and user tokens live one second
(ABDM_SANDBOX_OTP_SECONDS, ABDM_SANDBOX_X_TOKEN_SECONDS): an OTP that ran out, an X-token that expired (and the
refresh token that still gets a new one)."""

import tempfile
import time
import uuid
from pathlib import Path

import pytest

from abdm_sandbox.abha.testing import AbhaClient
from abdm_sandbox.testing import SandboxProcess, _database_url, _drop_database


@pytest.fixture(scope="module")
def short_lived():
    database_url = _database_url(f"abdm_sandbox_expiry_{uuid.uuid4().hex[:8]}")
    with tempfile.TemporaryDirectory(prefix="abdm-sandbox-expiry-") as workdir:
        sandbox = SandboxProcess(
            database_url=database_url,
            workdir=Path(workdir),
            env={"ABDM_SANDBOX_OTP_SECONDS": "1", "ABDM_SANDBOX_X_TOKEN_SECONDS": "1"},
        )
        sandbox.start()
        try:
            yield sandbox
        finally:
            sandbox.stop()
            _drop_database(database_url)


@pytest.fixture(scope="module")
def abha(short_lived):
    return AbhaClient(short_lived)


def test_an_aadhaar_otp_that_ran_out_is_uidai_403(abha, short_lived):
    person = abha.define_resident()
    txn_id = abha.aadhaar_otp(person["aadhaar"]).json()["txnId"]
    time.sleep(1.5)
    answer = abha.enrol(txn_id, short_lived.last_otp(person["mobile"]), person["mobile"])
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "ABDM-1204"
    assert answer.json()["error"]["message"].startswith("UIDAI Error code : 403 : ")


def test_a_login_otp_that_ran_out_fails_and_a_new_one_works(abha, short_lived):
    person = abha.define_resident()
    abha.enrol_person(person)
    txn_id = abha.login_request("mobile", person["mobile"]).json()["txnId"]
    time.sleep(1.5)
    late = abha.login_verify(txn_id, short_lived.last_otp(person["mobile"]))
    assert late.status_code == 200
    assert (late.json()["authResult"], late.json()["accounts"]) == ("failed", [])
    fresh = abha.login_request("mobile", person["mobile"]).json()["txnId"]
    assert abha.login_verify(fresh, short_lived.last_otp(person["mobile"])).json()["authResult"] == "success"


def test_an_expired_x_token_is_401_and_the_refresh_token_renews_it(abha):
    enrolled = abha.enrol_person(abha.define_resident())
    tokens = enrolled["tokens"]
    assert tokens["expiresIn"] == 1
    time.sleep(2)
    expired = abha.call("GET", "/v3/profile/account", x_token=tokens["token"])
    assert expired.status_code == 401
    assert expired.json()["message"] == "X-token expired"
    assert expired.json()["code"] == "ABDM-1094"
    renewed = abha.call(
        "GET", "/v3/profile/account/request/token", headers={"R-token": f"Bearer {tokens['refreshToken']}"}
    )
    assert renewed.status_code == 200
    profile = abha.call("GET", "/v3/profile/account", x_token=renewed.json()["token"])
    assert profile.status_code == 200
    assert profile.json()["ABHANumber"] == enrolled["ABHAProfile"]["ABHANumber"]
