"""Backoff: exponential, capped, jittered downwards only, reset by a success, never overflowing."""

from __future__ import annotations

import pytest

from core.backoff import RETRY, Backoff, BackoffPolicy


def test_delays_grow_by_the_factor_and_stop_at_the_cap() -> None:
    backoff = Backoff(BackoffPolicy(initial=0.5, maximum=4.0, factor=2.0))
    delays = [backoff.next() for _ in range(7)]
    nominal = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]
    for delay, top in zip(delays, nominal, strict=True):
        assert 0.8 * top <= delay <= top
    assert backoff.failures == 7


def test_reset_starts_again_from_the_initial_delay() -> None:
    backoff = Backoff(BackoffPolicy(initial=1.0, maximum=30.0))
    for _ in range(5):
        backoff.next()
    backoff.reset()
    assert backoff.failures == 0
    assert backoff.next() == pytest.approx(0.9, abs=0.1)


@pytest.mark.parametrize("failures", [1023, 1024, 1025, 10**6, 2**63])
def test_any_failure_count_gives_the_cap_without_overflow(failures: int) -> None:
    assert RETRY.delay(failures) == RETRY.maximum


def test_a_negative_count_is_the_first_delay() -> None:
    assert RETRY.delay(-3) == RETRY.initial
