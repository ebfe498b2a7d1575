"""Rate-limit buckets in Redis, shared by every replica, behind one atomic Lua script.

The script applies `core.ratelimit.take` on Redis's own clock, so replicas with skewed
clocks share one bucket correctly. When Redis fails (down, slow, refusing scripts) the
decision comes from in-process buckets instead: a client is never refused with a 500
and never let through unlimited. After a failure Redis is bypassed for a moment, as the
order cache does, so an outage does not add its timeout to every request.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from core.ratelimit import Decision, LocalBuckets, Policy

log = logging.getLogger(__name__)

_FAILURES = (RedisError, OSError, asyncio.TimeoutError, ValueError, IndexError)

# KEYS[1] bucket; ARGV capacity, refill rate. Returns {allowed, tokens left as text}.
TAKE = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return {allowed, tostring(tokens)}
"""


def bucket_key(prefix: str, policy: Policy, client: str) -> str:
    """The bucket's Redis key; the client part is hashed, so no email lands in Redis."""
    digest = hashlib.sha256(client.encode()).hexdigest()[:32]
    return f"{prefix}:{policy.name}:{digest}"


class RedisBuckets:
    def __init__(
        self,
        client: aioredis.Redis,
        *,
        prefix: str,
        timeout_seconds: float,
        fallback: LocalBuckets | None = None,
        bypass_seconds: float = 1.0,
    ) -> None:
        self._script = client.register_script(TAKE)
        self._prefix = prefix
        self._timeout = timeout_seconds
        self._fallback = fallback or LocalBuckets()
        self._bypass = bypass_seconds
        self._down_until = 0.0

    async def take(self, client: str, policy: Policy) -> Decision:
        """One request by `client` under `policy`: allowed or not, and what is left."""
        key = bucket_key(self._prefix, policy, client)
        if time.monotonic() < self._down_until:
            return self._fallback.take(key, policy)
        try:
            async with asyncio.timeout(self._timeout):
                allowed, tokens = await self._script(
                    keys=[key], args=[policy.capacity, repr(policy.refill_rate)]
                )
            return Decision(policy, bool(int(allowed)), float(tokens))
        except _FAILURES as exc:
            self._down_until = time.monotonic() + self._bypass
            log.warning("redis rate limiter failed, using in-process buckets error=%r", exc)
            return self._fallback.take(key, policy)
