"""The Redis read cache of orders. Redis is optional: every failure degrades to PostgreSQL.

Each call is bounded by a short timeout, so a hung Redis costs at most that much; after
a failure the cache stays bypassed for a moment, so an outage does not add the timeout
to every request. Failures are logged as warnings, never raised to the caller.

The cache never goes back in time: a write compares versions inside Redis (one Lua
script), so a read that filled the cache from an older row cannot overwrite the newer
entry a concurrent change wrote; and a change whose write did not reach Redis gets the
entry it meant to replace invalidated once Redis answers (`store.cache_repair`), this
process reading that order from PostgreSQL meanwhile.

An entry is the order's public JSON as it is served, after a header line with its version
and owner (`core.order.encode_cache_entry`): a cached read checks the owner and answers
with the bytes as they are, never decoding the JSON.
"""

from __future__ import annotations

import asyncio
import logging
import time
from uuid import UUID

import redis.asyncio as aioredis
from prometheus_client import Counter

from core.order import OrderView, decode_cache_entry, encode_cache_entry
from store.cache_repair import StaleEntries
from store.redis_failures import REDIS_FAILURES

log = logging.getLogger(__name__)

# result: hit, miss (read); stored (write); error (Redis failed: the caller falls back to
# PostgreSQL); bypassed (Redis failed a moment ago: not even asked); stale (read: a write of
# this order failed and its entry is not invalidated yet, so PostgreSQL answers).
OPERATIONS = Counter(
    "orders_cache_operations_total", "Order cache reads and writes", ["operation", "result"]
)
HIT = OPERATIONS.labels("get", "hit")  # the hot path's series, bound once
MISS = OPERATIONS.labels("get", "miss")
STORED = OPERATIONS.labels("set", "stored")

# KEYS[1] entry; ARGV entry, its version, TTL. Writes unless the entry holds a newer version
# (read from the entry's header line, "<version> <user_id>"; an entry of another shape is
# replaced).
PUT_IF_NOT_OLDER = """
local current = redis.call('GET', KEYS[1])
if current then
  local version = tonumber(string.match(current, '^(%d+) %d+\\n'))
  if version and version > tonumber(ARGV[2]) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1
"""


CACHE_KEY_PREFIX = "order:"  # every cache entry's key starts so (a reset deletes them)


def cache_key(order_id: UUID) -> str:
    return f"{CACHE_KEY_PREFIX}{order_id}"


class OrderCache:
    def __init__(
        self,
        client: aioredis.Redis,
        *,
        ttl_seconds: int,
        timeout_seconds: float,
        bypass_seconds: float = 1.0,
    ) -> None:
        self._client = client
        self._ttl = ttl_seconds
        self.timeout = timeout_seconds
        self._bypass = bypass_seconds
        self._down_until = 0.0
        self._put = client.register_script(PUT_IF_NOT_OLDER)
        self._stale = StaleEntries(client, cache_key)

    @property
    def available(self) -> bool:
        return time.monotonic() >= self._down_until

    def ready_in(self) -> float:
        return max(0.0, self._down_until - time.monotonic())

    def failed(self, op: str, order_id: UUID, exc: BaseException) -> None:
        OPERATIONS.labels(op, "error").inc()
        self._down_until = time.monotonic() + self._bypass
        log.warning(
            "redis %s failed, falling back to PostgreSQL order_id=%s error=%r", op, order_id, exc
        )

    async def get(self, order_id: UUID) -> OrderView | None:
        """The cached order, or None on a miss or any Redis failure."""
        if not self.available:
            OPERATIONS.labels("get", "bypassed").inc()
            return None
        if order_id in self._stale:
            OPERATIONS.labels("get", "stale").inc()
            return None
        try:
            async with asyncio.timeout(self.timeout):
                raw = await self._client.get(cache_key(order_id))
        except REDIS_FAILURES as exc:
            self.failed("get", order_id, exc)
            return None
        if raw is None:
            MISS.inc()
            return None
        try:
            view = decode_cache_entry(order_id, raw if isinstance(raw, bytes) else raw.encode())
        except ValueError as exc:
            # An entry we cannot read (an older shape, corruption) is a miss, not a 500;
            # it is dropped, so the fill that follows can write the order again.
            log.warning("unreadable cache entry, dropping it order_id=%s error=%r", order_id, exc)
            await self._drop(order_id)
            MISS.inc()
            return None
        HIT.inc()
        return view

    async def _drop(self, order_id: UUID) -> None:
        try:
            async with asyncio.timeout(self.timeout):
                await self._client.delete(cache_key(order_id))
        except REDIS_FAILURES as exc:
            self.failed("delete", order_id, exc)

    async def put(self, order: OrderView) -> None:
        """Write an order through unless a newer version is cached; a failure only logs,
        and leaves an older entry to be invalidated once Redis answers."""
        if not self.available:
            OPERATIONS.labels("set", "bypassed").inc()
            self._missed(order)
            return
        key, entry = cache_key(order.id), encode_cache_entry(order)
        try:
            async with asyncio.timeout(self.timeout):
                if order.version == 1:
                    # Any entry there is version 1 or newer: writing only where none is
                    # (NX) is the same rule, without a script.
                    await self._client.set(key, entry, ex=self._ttl, nx=True)
                else:
                    await self._put(keys=[key], args=[entry, order.version, self._ttl])
        except REDIS_FAILURES as exc:
            self.failed("set", order.id, exc)
            self._missed(order)
            return
        STORED.inc()
        self._stale.written(order.id, order.version)

    def _missed(self, order: OrderView) -> None:
        if order.version > 1:  # version 1 replaces nothing: no entry of it can be older
            self._stale.remember(order.id, order.version)
            self._stale.start_repair(self)

    async def ping(self) -> bool:
        try:
            async with asyncio.timeout(self.timeout):
                return bool(await self._client.ping())
        except REDIS_FAILURES:
            return False

    async def close(self) -> None:
        """Stop the repair task (what it had left lives out its TTL)."""
        await self._stale.close()
