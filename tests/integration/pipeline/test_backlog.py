"""What waits before `process_order`, read from the real brokers: the `new_order` queue's
ready messages (a passive declare) and Celery's queue in Redis (LLEN), each also a gauge;
a queue that cannot be read answers None (unknown), never an error."""

from __future__ import annotations

import uuid

import aio_pika
import redis.asyncio as aioredis
from prometheus_client import REGISTRY

from messaging.backlog import QueueDepth
from processing.backlog import PRIORITY_SEPARATOR, CeleryQueueLength
from service import pipeline
from tests.support.faults import free_port
from tests.support.settings import CELERY_BROKER_URL, RABBITMQ_URL


async def test_the_new_order_queues_ready_messages_are_counted() -> None:
    queue = f"new_order.backlog.{uuid.uuid4().hex[:12]}"
    connection = await aio_pika.connect(RABBITMQ_URL)
    depth = QueueDepth(RABBITMQ_URL, queue, timeout=5.0)
    try:
        assert await depth.length() is None  # no such queue (yet): unknown, not zero
        channel = await connection.channel()
        await channel.declare_queue(queue, durable=False, auto_delete=False)
        for _ in range(3):
            await channel.default_exchange.publish(aio_pika.Message(b"{}"), routing_key=queue)
        assert await depth.length() == 3
        labels = {"queue": queue}
        assert REGISTRY.get_sample_value("orders_rabbitmq_queue_messages", labels) == 3
        await channel.queue_delete(queue)
    finally:
        await depth.close()
        await connection.close()


async def test_a_broker_that_does_not_answer_is_unknown() -> None:
    depth = QueueDepth(f"amqp://guest:guest@127.0.0.1:{free_port()}/", "new_order", timeout=1.0)
    assert await depth.length() is None
    await depth.close()


async def test_celerys_queue_is_counted_with_its_priority_lists() -> None:
    queue = f"orders.backlog.{uuid.uuid4().hex[:12]}"
    client = aioredis.Redis.from_url(CELERY_BROKER_URL)
    length = CeleryQueueLength(client, queue, timeout=1.0)
    try:
        assert await length.length() == 0
        await client.lpush(queue, "a", "b")
        await client.lpush(f"{queue}{PRIORITY_SEPARATOR}6", "c")
        assert await length.length() == 3
        labels = {"queue": queue}
        assert REGISTRY.get_sample_value("orders_celery_queue_length", labels) == 3
    finally:
        await client.delete(queue, f"{queue}{PRIORITY_SEPARATOR}6")
        await client.aclose()


async def test_redis_away_is_unknown_and_so_is_the_sum() -> None:
    client = aioredis.Redis(port=free_port(), socket_connect_timeout=0.5)
    away = CeleryQueueLength(client, "orders", timeout=1.0)
    try:
        assert await away.length() is None
        probe = pipeline.ProcessingProbe(pool=None, queues=(away,))  # type: ignore[arg-type]
        assert await probe.waiting() is None
    finally:
        await client.aclose()
