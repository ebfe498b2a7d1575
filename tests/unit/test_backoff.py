"""Backoff: exponential, capped, jittered downwards only, reset by a success."""

from __future__ import annotations

import pytest

from relay.backoff import Backoff


def test_delays_grow_by_the_factor_and_stop_at_the_cap() -> None:
    backoff = Backoff(initial=0.5, maximum=4.0, factor=2.0)
    delays = [backoff.next() for _ in range(7)]
    nominal = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]
    for delay, top in zip(delays, nominal, strict=True):
        assert 0.8 * top <= delay <= top
    assert backoff.failures == 7


def test_reset_starts_again_from_the_initial_delay() -> None:
    backoff = Backoff(initial=1.0, maximum=30.0)
    for _ in range(5):
        backoff.next()
    backoff.reset()
    assert backoff.failures == 0
    assert backoff.next() == pytest.approx(0.9, abs=0.1)
