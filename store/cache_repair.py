"""Cache entries that may be older than PostgreSQL, and their invalidation once Redis answers.

A change whose cache write failed (Redis down, stalled past the timeout, or bypassed just
after a failure) leaves the entry it meant to replace in Redis, where every replica would
serve it, and its old ETag, until the TTL. Such an order is remembered here, with the
version the write carried: this process reads it from PostgreSQL meanwhile, and a repair
task deletes each remembered entry older than that version as soon as Redis answers (one
script call per batch), so no replica serves it after that. A later write of that version
or a newer one settles it too. Nothing of this touches the hot path while nothing is
remembered: a look-up in an empty dict.

The memory is this process's: if the process dies during the outage, its remembered
entries live out their TTL (REDIS_ORDERS_TTL_SECONDS).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol
from uuid import UUID

import redis.asyncio as aioredis

from store.redis_failures import REDIS_FAILURES

log = logging.getLogger(__name__)

MAX_REMEMBERED = 100_000  # orders: about 15 MB at most
BATCH = 500

# KEYS entries; ARGV the version each must have at least. Deletes the older ones (and any of
# another shape); an entry as new or newer (the failed write landed after all, or another
# replica wrote since) is kept. Returns how many were deleted.
DROP_OLDER = """
local dropped = 0
for i, key in ipairs(KEYS) do
  local current = redis.call('GET', key)
  if current then
    local version = tonumber(string.match(current, '^(%d+) %d+\\n'))
    if not version or version < tonumber(ARGV[i]) then
      redis.call('DEL', key)
      dropped = dropped + 1
    end
  end
end
return dropped
"""


class Repairable(Protocol):
    timeout: float

    def ready_in(self) -> float:
        """Seconds until Redis may be tried again (0: now)."""
        ...

    def failed(self, op: str, order_id: UUID, exc: BaseException) -> None:
        """Count and log a failure; Redis is left alone for a moment."""
        ...


class StaleEntries:
    def __init__(
        self,
        client: aioredis.Redis,
        key: Callable[[UUID], str],
        *,
        max_remembered: int = MAX_REMEMBERED,
    ) -> None:
        self._drop = client.register_script(DROP_OLDER)
        self._key = key
        self._max = max_remembered
        self._versions: dict[UUID, int] = {}  # order -> the version its failed write carried
        self._repair: asyncio.Task[None] | None = None

    def __contains__(self, order_id: UUID) -> bool:
        return bool(self._versions) and order_id in self._versions

    def remember(self, order_id: UUID, version: int) -> None:
        """A write of `version` did not reach Redis: an older entry may be there."""
        self._versions[order_id] = max(version, self._versions.pop(order_id, 0))
        while len(self._versions) > self._max:
            dropped = next(iter(self._versions))
            del self._versions[dropped]
            log.warning("too many cache entries to invalidate, forgetting order_id=%s", dropped)

    def written(self, order_id: UUID, version: int) -> None:
        """`version` reached Redis: an entry remembered at that version or older is settled."""
        if self._versions and self._versions.get(order_id, version + 1) <= version:
            del self._versions[order_id]

    def start_repair(self, cache: Repairable) -> None:
        """Start the repair task unless it runs already or nothing is remembered."""
        if self._versions and (self._repair is None or self._repair.done()):
            self._repair = asyncio.get_running_loop().create_task(self._run(cache))

    async def _run(self, cache: Repairable) -> None:
        while self._versions:
            await asyncio.sleep(cache.ready_in())  # the cache's pause after a failure
            batch = list(self._versions.items())[:BATCH]
            keys, versions = [self._key(i) for i, _ in batch], [v for _, v in batch]
            try:
                async with asyncio.timeout(cache.timeout):
                    dropped = await self._drop(keys=keys, args=versions)
            except REDIS_FAILURES as exc:
                cache.failed("invalidate", batch[0][0], exc)
                continue
            for order_id, version in batch:
                if self._versions.get(order_id) == version:
                    del self._versions[order_id]
            log.info(
                "cache entries invalidated after a Redis failure checked=%d dropped=%s",
                len(batch),
                dropped,
            )

    async def close(self) -> None:
        if self._repair is not None:
            self._repair.cancel()
            await asyncio.gather(self._repair, return_exceptions=True)
