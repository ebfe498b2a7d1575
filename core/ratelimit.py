"""Token buckets: the pure arithmetic, the decision and its headers, and in-process buckets.

A bucket holds up to `capacity` tokens and gains `refill_rate` tokens a second; each
request takes one, and a request that finds less than one is refused. A request counted
by several buckets takes from all of them or, refused by one, from none; a token taken
for an attempt that turned out harmless (a successful login) can be given back. The Redis
script in `store.ratelimit` applies the same arithmetic atomically for every replica; the
in-process `LocalBuckets` and `LocalMarks` here stand in when Redis cannot be reached.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Policy:
    name: str  # names the policy in the RateLimit headers and in the bucket's key
    capacity: int
    refill_rate: float  # tokens per second

    @property
    def window_seconds(self) -> int:
        """How long an empty bucket takes to fill again."""
        return max(1, math.ceil(self.capacity / self.refill_rate))


def refill(tokens: float, elapsed: float, policy: Policy) -> float:
    return min(float(policy.capacity), tokens + max(0.0, elapsed) * policy.refill_rate)


def take(tokens: float, elapsed: float, policy: Policy) -> tuple[bool, float]:
    """(allowed, tokens left) for one request against a bucket last seen `elapsed` ago."""
    level = refill(tokens, elapsed, policy)
    if level >= 1.0:
        return True, level - 1.0
    return False, level


@dataclass(frozen=True, slots=True)
class Decision:
    policy: Policy
    allowed: bool
    tokens: float  # left in the bucket after this request

    @property
    def remaining(self) -> int:
        return max(0, math.floor(self.tokens))

    @property
    def retry_after(self) -> int:
        """Whole seconds until the bucket holds one token again (0 when allowed)."""
        if self.allowed:
            return 0
        return max(1, math.ceil((1.0 - self.tokens) / self.policy.refill_rate))

    @property
    def reset(self) -> int:
        """Whole seconds until the bucket is full again."""
        missing = self.policy.capacity - self.tokens
        return max(0, math.ceil(missing / self.policy.refill_rate))

    @property
    def policy_item(self) -> str:
        name = self.policy.name
        return f'"{name}";q={self.policy.capacity};w={self.policy.window_seconds}'

    @property
    def limit_item(self) -> str:
        return f'"{self.policy.name}";r={self.remaining};t={self.reset}'

    def headers(self) -> dict[str, str]:
        """IETF `RateLimit-Policy` and `RateLimit` (structured fields), and `Retry-After`."""
        return limit_headers((self,))


Claim = tuple[str, Policy]  # a bucket: its key and its policy


def limit_headers(decisions: Sequence[Decision]) -> dict[str, str]:
    """`RateLimit-Policy` and `RateLimit` listing each bucket (structured-field lists, in
    order), and `Retry-After` when one refused: the longest wait among the refusing."""
    out = {
        "RateLimit-Policy": ", ".join(d.policy_item for d in decisions),
        "RateLimit": ", ".join(d.limit_item for d in decisions),
    }
    waits = [d.retry_after for d in decisions if not d.allowed]
    if waits:
        out["Retry-After"] = str(max(waits))
    return out


def refused(decisions: Sequence[Decision]) -> list[Decision]:
    """The buckets that had no token for the request."""
    return [d for d in decisions if not d.allowed]


def decide(levels: Sequence[float], policies: Sequence[Policy], cost: int) -> list[Decision]:
    """Each bucket's decision given its refilled level: all take `cost` (a negative cost
    gives back), or, when one has too few tokens, none does."""
    if all(level >= cost for level in levels):
        return [
            Decision(p, True, min(float(p.capacity), level - cost))
            for level, p in zip(levels, policies, strict=True)
        ]
    return [Decision(p, level >= cost, level) for level, p in zip(levels, policies, strict=True)]


class LocalBuckets:
    """Buckets in this process's memory, the least recently used forgotten past `max_keys`."""

    def __init__(
        self, *, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._max_keys = max_keys
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def take(self, key: str, policy: Policy) -> Decision:
        return self.take_all([(key, policy)])[0]

    def take_all(self, claims: Sequence[Claim], cost: int = 1) -> list[Decision]:
        """One token from every bucket of `claims`, or from none (see `decide`)."""
        now = self._clock()
        levels = []
        for key, policy in claims:
            tokens, at = self._buckets.pop(key, (float(policy.capacity), now))
            levels.append(refill(tokens, now - at, policy))
        decisions = decide(levels, [policy for _, policy in claims], cost)
        for (key, _), decision in zip(claims, decisions, strict=True):
            self._buckets[key] = (decision.tokens, now)  # re-inserted last: most recent
        while len(self._buckets) > self._max_keys:
            del self._buckets[next(iter(self._buckets))]
        return decisions

    def give_back(self, claims: Sequence[Claim]) -> None:
        """Return one token to each bucket (never above its capacity)."""
        self.take_all(claims, cost=-1)

    def __len__(self) -> int:
        return len(self._buckets)


class LocalMarks:
    """Keys remembered for a while in this process's memory, bounded like `LocalBuckets`."""

    def __init__(
        self, *, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._max_keys = max_keys
        self._clock = clock
        self._until: dict[str, float] = {}

    def remember(self, key: str, ttl_seconds: float) -> None:
        self._until.pop(key, None)
        self._until[key] = self._clock() + ttl_seconds
        while len(self._until) > self._max_keys:
            del self._until[next(iter(self._until))]

    def knows(self, key: str) -> bool:
        return self._until.get(key, -math.inf) > self._clock()
