"""What a Redis call raises when Redis is down, slow or refusing: the one tuple every
caller of Redis catches (the order cache and its repair, the rate-limit buckets, the
length of Celery's queue), each then falling back on what it does without Redis."""

from __future__ import annotations

from typing import Final

from redis.exceptions import RedisError

REDIS_FAILURES: Final[tuple[type[Exception], ...]] = (RedisError, OSError, TimeoutError)
