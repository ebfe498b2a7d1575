"""Token buckets: the pure arithmetic, the decision and its headers, and in-process buckets.

A bucket holds up to `capacity` tokens and gains `refill_rate` tokens a second; each
request takes one, and a request that finds less than one is refused. The Redis script
in `store.ratelimit` applies the same arithmetic atomically for every replica; the
in-process `LocalBuckets` here apply it when Redis cannot be reached.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
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

    def headers(self) -> dict[str, str]:
        """IETF `RateLimit-Policy` and `RateLimit` (structured fields), and `Retry-After`."""
        name = self.policy.name
        out = {
            "RateLimit-Policy": f'"{name}";q={self.policy.capacity};w={self.policy.window_seconds}',
            "RateLimit": f'"{name}";r={self.remaining};t={self.reset}',
        }
        if not self.allowed:
            out["Retry-After"] = str(self.retry_after)
        return out


class LocalBuckets:
    """Buckets in this process's memory, the least recently used forgotten past `max_keys`."""

    def __init__(
        self, *, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._max_keys = max_keys
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def take(self, key: str, policy: Policy) -> Decision:
        now = self._clock()
        tokens, at = self._buckets.pop(key, (float(policy.capacity), now))
        allowed, left = take(tokens, now - at, policy)
        self._buckets[key] = (left, now)  # re-inserted last: the most recently used
        if len(self._buckets) > self._max_keys:
            del self._buckets[next(iter(self._buckets))]
        return Decision(policy, allowed, left)

    def __len__(self) -> int:
        return len(self._buckets)
