"""How many `process_order` tasks wait in Celery's queue: the length of its list in Redis
(LLEN), with the lists kombu keeps for the other priority levels (`<queue>\\x06\\x16<n>`).
Tasks a worker has already taken (reserved, unacked) are not counted.

Read by the workflow's processing check and sampled for the `orders_celery_queue_length`
gauge; a Redis failure answers None (unknown), bounded by the timeout.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

import redis.asyncio as aioredis
from prometheus_client import Gauge

from store.redis_failures import REDIS_FAILURES

log = logging.getLogger(__name__)

CELERY_QUEUE_LENGTH = Gauge(
    "orders_celery_queue_length", "Tasks waiting in Celery's queue in Redis (sampled)", ["queue"]
)
# kombu's Redis transport: priority steps 0, 3, 6, 9; 0 is the queue's own list.
PRIORITY_SEPARATOR: Final = "\x06\x16"
PRIORITY_STEPS: Final = (3, 6, 9)


class CeleryQueueLength:
    def __init__(self, redis: aioredis.Redis, queue: str, *, timeout: float) -> None:
        self._redis = redis
        self._queue = queue
        self._timeout = timeout
        self._keys = [queue, *(f"{queue}{PRIORITY_SEPARATOR}{step}" for step in PRIORITY_STEPS)]
        self._failing = False

    async def length(self) -> int | None:
        """Tasks waiting in the queue; None when Redis cannot tell now."""
        try:
            async with asyncio.timeout(self._timeout):
                async with self._redis.pipeline(transaction=False) as pipe:
                    for key in self._keys:
                        pipe.llen(key)
                    lengths = await pipe.execute()
        except REDIS_FAILURES as exc:
            if not self._failing:
                log.warning("celery queue length unknown queue=%s error=%r", self._queue, exc)
            self._failing = True
            return None
        self._failing = False
        count = sum(int(n) for n in lengths)
        CELERY_QUEUE_LENGTH.labels(self._queue).set(count)
        return count

    async def close(self) -> None:
        """Nothing of its own to close: the Redis client is its owner's."""
