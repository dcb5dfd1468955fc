"""Fixed-window counters in the shared cache (Redis): OTP limits, wrong-OTP counts, failed sign-ins.

A window is `seconds` long and starts on the clock (every hour on the hour for 3600), so its key carries the window's
number and expires by itself. `from_first_hit=True` starts the window at the key's first hit instead (the sign-in
lockout counts failures for one lockout period from the first one).

These are security limits, so they stay closed: a cache outage raises (redis ConnectionError or TimeoutError) and
the outage middleware answers 503 (core/outage.py); the DRF request-rate throttles are the ones that open
(core/api/throttles.py). Values such as mobiles, IPs and usernames go into keys only through `hashed()`.
"""

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _clock() -> float:
    return time.time()


def parse_rate(rate: str) -> tuple[int, int]:
    """`"5/hour"` -> (5, 3600): the limit and the window's seconds (the forms config.settings.env.env_rate accepts)."""
    count, period = rate.split("/")
    return int(count), PERIODS[period[0]]


def hashed(value) -> str:
    """A key part for a personal value (a mobile, an IP, a username): keyed with SECRET_KEY, so not reversible."""
    return hashlib.sha256(f"{settings.SECRET_KEY}:{value}".encode()).hexdigest()[:32]


def _window_key(key: str, seconds: int, from_first_hit: bool) -> str:
    return key if from_first_hit else f"{key}:{int(_clock() // seconds)}"


def hit(key: str, *, seconds: int, from_first_hit: bool = False) -> int:
    """Counts one event under `key` in the current window; returns the window's count, this event included.

    Two cache calls (add, incr), atomic in Redis, so concurrent hits from many processes are all counted.
    """
    window_key = _window_key(key, seconds, from_first_hit)
    cache.add(window_key, 0, timeout=seconds)
    try:
        return cache.incr(window_key)
    except ValueError:  # the key expired between add and incr
        cache.set(window_key, 1, timeout=seconds)
        return 1


def count(key: str, *, seconds: int, from_first_hit: bool = False) -> int:
    """The events counted under `key` in the current window (one cache read)."""
    return cache.get(_window_key(key, seconds, from_first_hit)) or 0


def clear(key: str, *, seconds: int, from_first_hit: bool = False) -> None:
    """Forgets the current window's count under `key` (one cache delete)."""
    cache.delete(_window_key(key, seconds, from_first_hit))


def retry_after(*, seconds: int) -> int:
    """Whole seconds until the current clock window of `seconds` ends (at least 1): a 429's Retry-After."""
    return max(1, math.ceil(seconds - _clock() % seconds))
