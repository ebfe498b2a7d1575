"""Token-bucket arithmetic, the decision's headers, and the in-process buckets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.ratelimit import Decision, LocalBuckets, Policy, refill, take

POLICY = Policy("default", 100, 50.0)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_full_bucket_allows_capacity_requests_then_refuses() -> None:
    clock = Clock()
    buckets = LocalBuckets(clock=clock)
    decisions = [buckets.take("a", POLICY) for _ in range(101)]
    assert all(d.allowed for d in decisions[:100])
    assert not decisions[100].allowed
    assert decisions[99].remaining == 0


def test_tokens_come_back_at_the_refill_rate() -> None:
    clock = Clock()
    buckets = LocalBuckets(clock=clock)
    for _ in range(100):
        buckets.take("a", POLICY)
    clock.now += 0.1  # 5 tokens
    assert [buckets.take("a", POLICY).allowed for _ in range(6)] == [True] * 5 + [False]


def test_clients_do_not_share_buckets() -> None:
    buckets = LocalBuckets(clock=Clock())
    for _ in range(100):
        buckets.take("a", POLICY)
    assert buckets.take("b", POLICY).allowed


def test_buckets_are_bounded_in_memory() -> None:
    buckets = LocalBuckets(max_keys=3, clock=Clock())
    for key in "abcde":
        buckets.take(key, POLICY)
    assert len(buckets) == 3


def test_refused_decision_headers() -> None:
    decision = Decision(Policy("token-address", 10, 0.2), allowed=False, tokens=0.5)
    assert decision.headers() == {
        "RateLimit-Policy": '"token-address";q=10;w=50',
        "RateLimit": '"token-address";r=0;t=48',
        "Retry-After": "3",
    }


def test_allowed_decision_has_no_retry_after() -> None:
    headers = Decision(POLICY, allowed=True, tokens=41.2).headers()
    assert headers["RateLimit"] == '"default";r=41;t=2'
    assert "Retry-After" not in headers


@given(
    tokens=st.floats(0, 100),
    elapsed=st.floats(-10, 1e6),
    capacity=st.integers(1, 1000),
    rate=st.floats(0.001, 1e4),
)
def test_a_bucket_never_exceeds_capacity_nor_goes_negative(
    tokens: float, elapsed: float, capacity: int, rate: float
) -> None:
    policy = Policy("p", capacity, rate)
    level = refill(min(tokens, capacity), elapsed, policy)
    allowed, left = take(min(tokens, capacity), elapsed, policy)
    assert 0 <= left <= capacity
    assert allowed == (level >= 1)
    assert left == (level - 1 if allowed else level)


@pytest.mark.parametrize("refused_tokens", [0.0, 0.99])
def test_retry_after_is_at_least_a_second(refused_tokens: float) -> None:
    decision = Decision(Policy("p", 100, 1000.0), allowed=False, tokens=refused_tokens)
    assert decision.retry_after >= 1
