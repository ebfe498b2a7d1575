"""Token-bucket arithmetic, the decision's headers, and the in-process buckets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.ratelimit import (
    Decision,
    LocalBuckets,
    LocalMarks,
    Policy,
    limit_headers,
    refill,
    refused,
    take,
)

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


SMALL = Policy("create", 2, 0.5)


def test_several_buckets_are_taken_from_together_or_not_at_all() -> None:
    buckets = LocalBuckets(clock=Clock())
    claims = [("a", POLICY), ("a:create", SMALL)]  # keys name their bucket
    assert [d.allowed for d in buckets.take_all(claims)] == [True, True]
    assert [d.allowed for d in buckets.take_all(claims)] == [True, True]
    refused = buckets.take_all(claims)
    assert [d.allowed for d in refused] == [True, False], "the small bucket is empty"
    assert refused[0].tokens == 98.0, "a refused request takes from no bucket"
    assert buckets.take("a", POLICY).tokens == 97.0


def test_a_token_given_back_is_there_again_but_never_over_capacity() -> None:
    buckets = LocalBuckets(clock=Clock())
    buckets.take("a", SMALL)
    buckets.take("a", SMALL)
    buckets.give_back([("a", SMALL)])
    assert buckets.take("a", SMALL).allowed
    assert not buckets.take("a", SMALL).allowed
    buckets.give_back([("b", SMALL)])  # an unknown bucket is full already
    assert [buckets.take("b", SMALL).allowed for _ in range(3)] == [True, True, False]


def test_combined_headers_list_each_policy_and_the_longest_wait() -> None:
    decisions = [
        Decision(POLICY, allowed=True, tokens=41.2),
        Decision(SMALL, allowed=False, tokens=0.5),
    ]
    assert limit_headers(decisions) == {
        "RateLimit-Policy": '"default";q=100;w=2, "create";q=2;w=4',
        "RateLimit": '"default";r=41;t=2, "create";r=0;t=3',
        "Retry-After": "1",
    }
    assert limit_headers(decisions[:1]) == decisions[0].headers()


def test_refused_headers_name_the_refused_buckets_only() -> None:
    decisions = [
        Decision(POLICY, allowed=True, tokens=41.2),
        Decision(SMALL, allowed=False, tokens=0.5),
    ]
    assert limit_headers(refused(decisions)) == decisions[1].headers()


def test_marks_are_remembered_until_they_expire_and_bounded() -> None:
    clock = Clock()
    marks = LocalMarks(max_keys=2, clock=clock)
    marks.remember("a", ttl_seconds=10)
    assert marks.knows("a")
    assert not marks.knows("b")
    clock.now += 11
    assert not marks.knows("a")
    for key in "bcd":
        marks.remember(key, ttl_seconds=10)
    assert not marks.knows("b")
    assert marks.knows("d")
