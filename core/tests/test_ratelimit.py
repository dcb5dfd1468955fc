"""Fixed-window counters: counted per window on the clock (or from the first hit), cleared, and the wait until the
window ends."""

import pytest

from core import ratelimit


@pytest.fixture
def clock(monkeypatch):
    """clock(seconds) sets the counters' clock."""

    def at(seconds):
        monkeypatch.setattr(ratelimit, "_clock", lambda: seconds)

    return at


def test_hits_are_counted_per_clock_window_and_start_again_in_the_next(clock):
    clock(7200.0)
    assert [ratelimit.hit("k", seconds=3600) for _ in range(3)] == [1, 2, 3]
    assert ratelimit.count("k", seconds=3600) == 3
    assert ratelimit.count("other", seconds=3600) == 0
    clock(7200.0 + 3599)
    assert ratelimit.hit("k", seconds=3600) == 4
    clock(7200.0 + 3600)
    assert ratelimit.count("k", seconds=3600) == 0
    assert ratelimit.hit("k", seconds=3600) == 1


def test_a_window_from_the_first_hit_ignores_the_clock_and_clears(clock):
    clock(7199.0)
    ratelimit.hit("fails", seconds=900, from_first_hit=True)
    clock(7201.0)
    assert ratelimit.hit("fails", seconds=900, from_first_hit=True) == 2
    ratelimit.clear("fails", seconds=900, from_first_hit=True)
    assert ratelimit.count("fails", seconds=900, from_first_hit=True) == 0


def test_clear_forgets_the_current_clock_window(clock):
    clock(100.0)
    ratelimit.hit("k", seconds=60)
    ratelimit.clear("k", seconds=60)
    assert ratelimit.count("k", seconds=60) == 0


def test_retry_after_is_the_rest_of_the_window(clock):
    clock(3600.0 * 5 + 1000.5)
    assert ratelimit.retry_after(seconds=3600) == 2600
    clock(3600.0 * 5)
    assert ratelimit.retry_after(seconds=3600) == 3600


@pytest.mark.parametrize(
    "rate, parsed", [("5/hour", (5, 3600)), ("600/h", (600, 3600)), ("20/minute", (20, 60)), ("1/day", (1, 86400))]
)
def test_parse_rate_reads_the_settings_forms(rate, parsed):
    assert ratelimit.parse_rate(rate) == parsed


def test_hashed_keys_do_not_carry_the_value():
    key = ratelimit.hashed("9876543210")
    assert "9876543210" not in key and len(key) == 32 and key == ratelimit.hashed("9876543210")
