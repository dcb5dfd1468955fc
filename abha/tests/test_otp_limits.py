"""OTP request limits per mobile and per IP are lifted when their window ends (the denials: test_api.py)."""

import time

import pytest
from django.test import override_settings

import abha.services

pytestmark = pytest.mark.django_db


@override_settings(OTP_MOBILE_RATE="2/hour")
def test_otp_limit_per_mobile_lifts_after_the_window(otp_api, monkeypatch):
    otp_api.start("9876543210")
    otp_api.start("9876543210")
    denied = otp_api.post("/api/v1/abha/enrolment/otp/", {"mobile": "9876543210", "consent_version": "2025-04"})
    assert denied.status_code == 429
    hour_later = time.time() + 3600
    monkeypatch.setattr(abha.services.time, "time", lambda: hour_later)
    otp_api.start("9876543210")


@override_settings(OTP_IP_RATE="2/hour")
def test_otp_limit_per_ip_lifts_after_the_window(otp_api, monkeypatch):
    otp_api.start("9876543210")
    otp_api.start("9876543211")
    denied = otp_api.post("/api/v1/abha/enrolment/otp/", {"mobile": "9876543212", "consent_version": "2025-04"})
    assert denied.status_code == 429
    hour_later = time.time() + 3600
    monkeypatch.setattr(abha.services.time, "time", lambda: hour_later)
    otp_api.start("9876543212")
