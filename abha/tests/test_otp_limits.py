"""OTP limits: requests per mobile and per IP lift when their window ends (the denials: test_api.py); wrong OTPs
from one address across many mobiles are refused for the rest of the window."""

import time

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from abha.tests.conftest import last_otp
from core import ratelimit

pytestmark = pytest.mark.django_db


@override_settings(OTP_MOBILE_RATE="2/hour")
def test_otp_limit_per_mobile_lifts_after_the_window(otp_api, monkeypatch):
    otp_api.start("9876543210")
    otp_api.start("9876543210")
    denied = otp_api.post("/api/v1/abha/enrolment/otp/", {"mobile": "9876543210", "consent_version": "2025-04"})
    assert denied.status_code == 429
    assert 0 < int(denied["Retry-After"]) <= 3600
    hour_later = time.time() + 3600
    monkeypatch.setattr(ratelimit, "_clock", lambda: hour_later)
    otp_api.start("9876543210")


@override_settings(OTP_IP_RATE="2/hour")
def test_otp_limit_per_ip_lifts_after_the_window(otp_api, monkeypatch):
    otp_api.start("9876543210")
    otp_api.start("9876543211")
    denied = otp_api.post("/api/v1/abha/enrolment/otp/", {"mobile": "9876543212", "consent_version": "2025-04"})
    assert denied.status_code == 429
    hour_later = time.time() + 3600
    monkeypatch.setattr(ratelimit, "_clock", lambda: hour_later)
    otp_api.start("9876543212")


@override_settings(OTP_IP_WRONG_RATE="3/hour")
def test_one_address_entering_wrong_otps_across_mobiles_is_refused_until_the_window_ends(
    otp_api, sms_outbox, monkeypatch
):
    verify = "/api/v1/abha/enrolment/verify/"
    first, second = otp_api.start("9876543210"), otp_api.start("9876543211")
    right = last_otp(sms_outbox, "9876543211")
    for txn_id in (first, first, second):
        assert otp_api.post(verify, {"txn_id": txn_id, "otp": "000000"}).status_code == 400
    refused = otp_api.post(verify, {"txn_id": second, "otp": right})
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "throttled"
    assert 0 < int(refused["Retry-After"]) <= 3600
    other_address = APIClient(REMOTE_ADDR="10.1.1.1")
    assert otp_api.post(verify, {"txn_id": second, "otp": right}, other_address).status_code == 200

    third = otp_api.start("9876543212")
    hour_later = time.time() + 3600
    monkeypatch.setattr(ratelimit, "_clock", lambda: hour_later)
    answer = otp_api.post(verify, {"txn_id": third, "otp": last_otp(sms_outbox, "9876543212")})
    assert answer.status_code == 200  # the OTP's own expiry reads the datetime clock, which did not move


@override_settings(OTP_MOBILE_RATE="2/hour")
def test_a_familys_mobile_counts_sign_ins_apart_from_enrolments_and_the_refusal_says_the_wait(otp_api, monkeypatch):
    otp_api.start("9876543210")
    otp_api.start("9876543210")
    for _ in range(2):  # the same mobile's sign-ins have their own count
        assert otp_api.post("/api/v1/abha/login/otp/", {"login_id": "9876543210"}).status_code == 201
    twelve_minutes_before_the_next_hour = (time.time() // 3600 + 2) * 3600 - 12 * 60 + 1
    monkeypatch.setattr(ratelimit, "_clock", lambda: twelve_minutes_before_the_next_hour)
    otp_api.start("9876543210")  # the next window
    otp_api.start("9876543210")
    denied = otp_api.post("/api/v1/abha/enrolment/otp/", {"mobile": "9876543210", "consent_version": "2025-04"})
    assert denied.status_code == 429
    assert denied.json()["error"]["message"] == "Too many OTP requests. Try again in 12 minutes."
    assert int(denied["Retry-After"]) == 12 * 60 - 1


def test_the_default_limit_lets_a_family_of_six_sign_in_and_resend_at_a_camp(otp_api, settings):
    assert settings.OTP_MOBILE_RATE == "10/hour"
    for _ in range(10):
        assert otp_api.post("/api/v1/abha/login/otp/", {"login_id": "9876543210"}).status_code == 201
