"""OTPs: six digits, stored as an HMAC bound to their transaction, compared as typed, limited per window."""

import pytest

from core import otp, ratelimit
from core.exceptions import Throttled


def test_an_otp_matches_only_its_own_subject():
    code, digest = otp.otp_issue("txn-1")
    assert len(code) == 6 and code.isdigit()
    assert otp.otp_matches("txn-1", f" {code} ", digest)  # spaces typed around it do not count
    assert not otp.otp_matches("txn-2", code, digest)
    assert not otp.otp_matches("txn-1", None, digest)


def test_the_otp_throttle_refuses_past_its_rate_until_the_window_ends(monkeypatch):
    monkeypatch.setattr(ratelimit, "_clock", lambda: 3600.0 * 10 + 600)
    otp.otp_throttle("test:otp", rate="2/hour")
    otp.otp_throttle("test:otp", rate="2/hour")
    with pytest.raises(Throttled) as refused:
        otp.otp_throttle("test:otp", rate="2/hour")
    assert refused.value.status == 429 and refused.value.code == "throttled"
    assert refused.value.retry_after == 3000
    monkeypatch.setattr(ratelimit, "_clock", lambda: 3600.0 * 11)
    otp.otp_throttle("test:otp", rate="2/hour")


def test_wrong_otps_refuse_an_address_after_the_rate(settings):
    settings.OTP_IP_WRONG_RATE = "2/hour"
    for _ in range(2):
        otp.wrong_otps_refuse("10.0.0.1")
        otp.wrong_otp_count("10.0.0.1")
    with pytest.raises(Throttled):
        otp.wrong_otps_refuse("10.0.0.1")
    otp.wrong_otps_refuse("10.0.0.2")
    otp.wrong_otps_refuse(None)  # no address, nothing counted
