"""Rate-limit buckets in Redis, shared by every replica, behind one atomic Lua script.

The script applies `core.ratelimit.decide` on Redis's own clock, so replicas with skewed
clocks share one bucket correctly, and takes from several buckets at once, or from none,
in one round trip. Marks (an address an account logged in from) are plain keys with a
lifetime. When Redis fails (down, slow, refusing scripts) the in-process buckets and marks
answer instead: a client is never refused with a 500 and never let through unlimited.
After a failure Redis is bypassed for a moment, as the order cache does, so an outage
does not add its timeout to every request.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import redis.asyncio as aioredis

from core.ratelimit import Claim, Decision, LocalBuckets, LocalMarks, Policy, decide
from store.redis_failures import REDIS_FAILURES

log = logging.getLogger(__name__)

T = TypeVar("T")

# Redis away, or a script's answer that cannot be read (ValueError, IndexError).
_FAILURES: tuple[type[Exception], ...] = (*REDIS_FAILURES, ValueError, IndexError)

# KEYS buckets; ARGV[1] cost (1 takes, -1 gives back), then each bucket's capacity and
# refill rate. Every bucket pays the cost, or none does when one has too few tokens.
# Returns each bucket's level before paying, as text.
TAKE = """
local cost = tonumber(ARGV[1])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local levels = {}
local paid = true
for i, key in ipairs(KEYS) do
  local capacity = tonumber(ARGV[2 * i])
  local rate = tonumber(ARGV[2 * i + 1])
  local state = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(state[1]) or capacity
  local at = tonumber(state[2]) or now
  levels[i] = math.min(capacity, tokens + math.max(0, now - at) * rate)
  if levels[i] < cost then paid = false end
end
local out = {}
for i, key in ipairs(KEYS) do
  local capacity = tonumber(ARGV[2 * i])
  local rate = tonumber(ARGV[2 * i + 1])
  local tokens = levels[i]
  if paid then tokens = math.min(capacity, tokens - cost) end
  redis.call('HSET', key, 'tokens', tostring(tokens), 'at', tostring(now))
  redis.call('PEXPIRE', key, math.ceil(capacity / rate * 1000) + 1000)
  out[i] = tostring(levels[i])
end
return out
"""


def bucket_key(prefix: str, policy: Policy, client: str) -> str:
    """The bucket's Redis key; the client part is hashed, so no email lands in Redis."""
    digest = hashlib.sha256(client.encode()).hexdigest()[:32]
    return f"{prefix}:{policy.name}:{digest}"


def mark_key(prefix: str, name: str) -> str:
    digest = hashlib.sha256(name.encode()).hexdigest()[:32]
    return f"{prefix}:mark:{digest}"


class RedisBuckets:
    def __init__(
        self,
        client: aioredis.Redis,
        *,
        prefix: str,
        timeout_seconds: float,
        fallback: LocalBuckets | None = None,
        marks: LocalMarks | None = None,
        bypass_seconds: float = 1.0,
    ) -> None:
        self._client = client
        self._script = client.register_script(TAKE)
        self._prefix = prefix
        self._timeout = timeout_seconds
        self._fallback = fallback or LocalBuckets()
        self._marks = marks or LocalMarks()
        self._bypass = bypass_seconds
        self._down_until = 0.0

    async def _redis(self, call: Callable[[], Awaitable[T]], local: Callable[[], T]) -> T:
        """`call` on Redis, bounded; `local` while Redis fails."""
        if time.monotonic() < self._down_until:
            return local()
        try:
            async with asyncio.timeout(self._timeout):
                return await call()
        except _FAILURES as exc:
            self._down_until = time.monotonic() + self._bypass
            log.warning("redis rate limiter failed, using in-process buckets error=%r", exc)
            return local()

    async def take(self, claims: Sequence[Claim], cost: int = 1) -> list[Decision]:
        """A token from each bucket of `claims` (client, policy), or from none of them."""
        keys = [bucket_key(self._prefix, policy, client) for client, policy in claims]
        policies = [policy for _, policy in claims]
        args: list[int | str] = [cost]
        for policy in policies:
            args += [policy.capacity, repr(policy.refill_rate)]

        async def remote() -> list[Decision]:
            levels = await self._script(keys=keys, args=args)
            return decide([float(level) for level in levels], policies, cost)

        local = list(zip(keys, policies, strict=True))
        return await self._redis(remote, lambda: self._fallback.take_all(local, cost))

    async def give_back(self, claims: Sequence[Claim]) -> None:
        """One token back to each bucket (never above its capacity)."""
        await self.take(claims, cost=-1)

    async def remember(self, name: str, ttl_seconds: int) -> None:
        key = mark_key(self._prefix, name)

        async def remote() -> None:
            await self._client.set(key, b"1", ex=ttl_seconds)

        self._marks.remember(key, ttl_seconds)  # here too: still known if Redis fails later
        await self._redis(remote, lambda: None)

    async def knows(self, name: str) -> bool:
        key = mark_key(self._prefix, name)

        async def remote() -> bool:
            return bool(await self._client.exists(key)) or self._marks.knows(key)

        return await self._redis(remote, lambda: self._marks.knows(key))
