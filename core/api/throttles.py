"""DRF's request-rate throttles, open while the cache is unreachable.

The anon/user rates shed load from a runaway client; refusing every API call because Redis restarted would be worse
than counting nothing for half a minute. Security limits stay closed: the login throttle and the OTP rate limits
raise, and the outage middleware answers 503 (`core/outage.py`).
"""

import logging
import time

import redis.exceptions
from rest_framework import throttling

logger = logging.getLogger(__name__)

# After a failure, skip the cache for this long (per process) instead of failing on every request: a Redis that
# hangs costs a request REDIS_TIMEOUT seconds, so once per pause, not every time.
_PAUSE_SECONDS = 30.0
_skip_until = 0.0


class _OpenWhenCacheDown:
    def allow_request(self, request, view):
        global _skip_until
        if time.monotonic() < _skip_until:
            return True
        try:
            return super().allow_request(request, view)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as error:
            _skip_until = time.monotonic() + _PAUSE_SECONDS
            logger.warning("API rate throttles paused for %.0f s: the cache is unreachable (%s)", _PAUSE_SECONDS, error)
            return True


class AnonRateThrottle(_OpenWhenCacheDown, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(_OpenWhenCacheDown, throttling.UserRateThrottle):
    pass
