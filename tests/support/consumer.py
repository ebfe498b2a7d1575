"""The event consumer run for a test, as the service builds it, and the Celery tasks it
queued, read back from Celery's Redis queue."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import orjson
import redis.asyncio as aioredis

from messaging.consumer import EventConsumer
from messaging.topology import Topology
from service import celery_config, pipeline
from service.settings import Settings


@contextlib.asynccontextmanager
async def consuming(settings: Settings, topology: Topology) -> AsyncIterator[EventConsumer]:
    celery = celery_config.celery(settings)
    consumer = pipeline.consumer(settings, celery)
    assert pipeline.topology(settings) == topology
    task = asyncio.create_task(consumer.run())
    try:
        await asyncio.wait_for(consumer.ready.wait(), timeout=10)
        yield consumer
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        celery.close()


async def celery_tasks(redis: aioredis.Redis, queue: str) -> list[dict[str, Any]]:
    """The tasks waiting in Celery's Redis queue: headers plus decoded arguments."""
    tasks = []
    for raw in await redis.lrange(queue, 0, -1):
        message = orjson.loads(raw)
        args, kwargs, _embed = orjson.loads(base64.b64decode(message["body"]))
        tasks.append({**message["headers"], "args": args, "kwargs": kwargs})
    return tasks
