"""OTP limits: requests per identifier and per IP lift when their window ends (the denials: test_api.py,
test_login.py); wrong OTPs from one address across many transactions are refused for the rest of the window."""

import time

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from core import ratelimit

from .conftest import new_aadhaar, new_mobile

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("geography")]
LOGIN_OTP = "/api/v1/abha/login/otp/"
LOGIN_VERIFY = "/api/v1/abha/login/verify/"


@override_settings(OTP_MOBILE_RATE="2/hour")
def test_otp_limit_per_mobile_lifts_after_the_window(otp_api, monkeypatch):
    mobile = new_mobile()
    for _ in range(2):
        assert otp_api.post(LOGIN_OTP, {"login_id": mobile}).status_code == 201
    denied = otp_api.post(LOGIN_OTP, {"login_id": mobile})
    assert denied.status_code == 429
    assert 0 < int(denied["Retry-After"]) <= 3600
    hour_later = time.time() + 3600
    monkeypatch.setattr(ratelimit, "_clock", lambda: hour_later)
    assert otp_api.post(LOGIN_OTP, {"login_id": mobile}).status_code == 201


@override_settings(OTP_IP_RATE="2/hour")
def test_otp_limit_per_ip_lifts_after_the_window(otp_api, monkeypatch):
    otp_api.start()
    otp_api.start()
    denied = otp_api.post("/api/v1/abha/enrolment/otp/", {"aadhaar": new_aadhaar(), "consent_version": "2025-04"})
    assert denied.status_code == 429
    hour_later = time.time() + 3600
    monkeypatch.setattr(ratelimit, "_clock", lambda: hour_later)
    otp_api.start()


@override_settings(OTP_IP_WRONG_RATE="3/hour")
def test_one_address_entering_wrong_otps_across_transactions_is_refused_until_the_window_ends(otp_api, monkeypatch):
    first, second = otp_api.enrol(), otp_api.enrol()
    txns = [otp_api.post(LOGIN_OTP, {"login_id": b["abha_number"]}).json()["txn_id"] for b in (first, second)]
    right = otp_api.sandbox.last_otp(second["person"].mobile)
    for txn_id in (txns[0], txns[0], txns[1]):
        assert otp_api.post(LOGIN_VERIFY, {"txn_id": txn_id, "otp": "000000"}).status_code == 400
    refused = otp_api.post(LOGIN_VERIFY, {"txn_id": txns[1], "otp": right})
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "throttled"
    assert 0 < int(refused["Retry-After"]) <= 3600
    other_address = APIClient(REMOTE_ADDR="10.1.1.1")
    assert otp_api.post(LOGIN_VERIFY, {"txn_id": txns[1], "otp": right}, other_address).status_code == 200


@override_settings(OTP_MOBILE_RATE="2/hour")
def test_a_familys_mobile_counts_sign_ins_apart_from_mobile_changes_and_the_refusal_says_the_wait(otp_api, monkeypatch):
    mobile = new_mobile()
    for _ in range(2):
        assert otp_api.post(LOGIN_OTP, {"login_id": mobile}).status_code == 201
    twelve_minutes_before_the_next_hour = (time.time() // 3600 + 2) * 3600 - 12 * 60 + 1
    monkeypatch.setattr(ratelimit, "_clock", lambda: twelve_minutes_before_the_next_hour)
    for _ in range(2):  # the next window
        assert otp_api.post(LOGIN_OTP, {"login_id": mobile}).status_code == 201
    denied = otp_api.post(LOGIN_OTP, {"login_id": mobile})
    assert denied.status_code == 429
    assert denied.json()["error"]["message"] == "Too many OTP requests. Try again in 12 minutes."
    assert int(denied["Retry-After"]) == 12 * 60 - 1


def test_the_default_limit_lets_a_family_of_six_sign_in_and_resend_at_a_camp(otp_api, settings):
    assert settings.OTP_MOBILE_RATE == "10/hour"
    mobile = new_mobile()
    for _ in range(10):
        assert otp_api.post(LOGIN_OTP, {"login_id": mobile}).status_code == 201
