"""One-time passwords, issued and checked the same way by every app (ABHA sign-in and enrolment, record linking).

An OTP is six random digits. Only its HMAC is stored, keyed with SECRET_KEY and bound to a `subject` (the
transaction's UUID), so a copied table reveals no OTP and an OTP cannot be replayed on another transaction.
Requests are limited per fixed window (core.ratelimit); wrong OTPs from one client address are counted across
transactions. The caller stores the digest and sends the code with core.sms.send_on_commit, after its commit.
"""

import hashlib
import hmac
import math
import secrets

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import ratelimit
from .exceptions import Throttled

OTP_DIGITS = 6


def otp_digest(subject: str, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{subject}:{code}".encode(), hashlib.sha256).hexdigest()


def otp_issue(subject: str) -> tuple[str, str]:
    """(code, digest): a fresh OTP for `subject`. Store the digest; the code is only for the SMS."""
    code = f"{secrets.randbelow(10**OTP_DIGITS):0{OTP_DIGITS}d}"
    return code, otp_digest(subject, code)


def otp_matches(subject: str, code, digest: str) -> bool:
    """Whether `code` (as typed: surrounding spaces are ignored) is the OTP stored as `digest`; constant time."""
    return hmac.compare_digest(otp_digest(subject, str(code or "").strip()), digest)


def otp_throttle(key: str, *, rate: str) -> None:
    """Counts one OTP request under `key` (hash personal values into it: ratelimit.hashed); Throttled (429, with
    Retry-After) once the window holds more than `rate` allows. A cache outage raises: the limit stays closed."""
    limit, seconds = ratelimit.parse_rate(rate)
    if ratelimit.hit(key, seconds=seconds) > limit:
        wait = ratelimit.retry_after(seconds=seconds)
        raise Throttled(f"{_('Too many OTP requests.')} {try_again_in(wait)}", retry_after=wait)


def try_again_in(wait: int) -> str:
    """'Try again in 12 minutes.': the exact wait, in seconds under a minute, else in whole minutes (rounded up)."""
    if wait < 60:
        return ngettext("Try again in %(count)s second.", "Try again in %(count)s seconds.", wait) % {"count": wait}
    minutes = math.ceil(wait / 60)
    return ngettext("Try again in %(count)s minute.", "Try again in %(count)s minutes.", minutes) % {"count": minutes}


# One address that keeps entering wrong OTPs is guessing across many transactions (each locks after a few wrong
# ones, each mobile gets a few an hour): after OTP_IP_WRONG_RATE of them it is refused until the window ends.


def _wrong_otp_key(ip: str) -> str:
    return f"otp:wrong-ip:{ratelimit.hashed(ip)}"


def wrong_otps_refuse(ip: str | None) -> None:
    """Throttled while `ip` has entered OTP_IP_WRONG_RATE wrong OTPs in the current window (one cache read)."""
    if ip:
        limit, seconds = ratelimit.parse_rate(settings.OTP_IP_WRONG_RATE)
        if ratelimit.count(_wrong_otp_key(ip), seconds=seconds) >= limit:
            wait = ratelimit.retry_after(seconds=seconds)
            raise Throttled(f"{_('Too many wrong OTPs from this network.')} {try_again_in(wait)}", retry_after=wait)


def wrong_otp_count(ip: str | None) -> None:
    """Counts one wrong OTP from `ip` (nothing without an address)."""
    if ip:
        _limit, seconds = ratelimit.parse_rate(settings.OTP_IP_WRONG_RATE)
        ratelimit.hit(_wrong_otp_key(ip), seconds=seconds)
