"""The consumer against real RabbitMQ, handing events to a real Celery app on Redis."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import aio_pika
import orjson
import pytest
import redis.asyncio as aioredis

from core.envelope import EventEnvelope
from messaging.consumer import DLQ_REASON_HEADER, ConsumerConfig, EventConsumer
from messaging.topology import Topology
from processing.names import PROCESS_ORDER
from service.settings import Settings
from tests.support.consumer import celery_tasks, consuming
from tests.support.events import new_order_event
from tests.support.faults import free_port
from tests.support.rabbitmq import count, take
from tests.support.settings import RABBITMQ_URL
from tests.support.waiting import eventually


async def send(queue: str, body: bytes, correlation_id: str | None = None) -> None:
    """Put a message on the queue the way the exchange would."""
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        message = aio_pika.Message(
            body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT, correlation_id=correlation_id
        )
        await channel.default_exchange.publish(message, routing_key=queue)


async def test_a_valid_event_becomes_a_celery_task_with_the_event_id(
    settings: Settings, topology: Topology, celery_redis: aioredis.Redis
) -> None:
    event = new_order_event()
    async with consuming(settings, topology) as consumer:
        await send(topology.new_order_queue, event.payload.encode(), correlation_id="req-42")

        async def queued() -> list[dict[str, Any]]:
            return await celery_tasks(celery_redis, settings.celery_queue)

        [task] = await eventually(queued, what="the task in Celery's queue")
        assert task["task"] == PROCESS_ORDER
        assert task["id"] == event.event_id
        assert task["args"] == [event.aggregate_id]
        carried = EventEnvelope.from_dict(task["kwargs"]["event"])  # the envelope
        assert (carried.event_id, carried.aggregate_id) == (
            event.event_id,
            event.aggregate_id,
        )
        assert (carried.event_type, carried.correlation_id) == ("new_order", "req-42")
        assert carried.payload.encode() == event.payload.encode()
        assert await eventually(
            lambda: _value(consumer.handed_off == 1), what="the hand-off to be counted"
        )
    assert await count(topology.new_order_queue) == 0  # acked
    assert await count(topology.dlq) == 0


async def test_a_malformed_message_lands_in_the_dlq_with_its_reason(
    settings: Settings, topology: Topology, celery_redis: aioredis.Redis
) -> None:
    no_type = orjson.dumps({**orjson.loads(new_order_event().payload), "event_type": None})
    async with consuming(settings, topology):
        await send(topology.new_order_queue, b"{not json")
        first = await take(topology.dlq)
        await send(topology.new_order_queue, no_type)
        second = await take(topology.dlq)
    assert first is not None
    assert second is not None
    assert first.body == b"{not json"
    assert "not JSON" in str((first.headers or {})[DLQ_REASON_HEADER])
    assert second.body == no_type
    assert "event_type" in str((second.headers or {})[DLQ_REASON_HEADER])
    assert await count(topology.new_order_queue) == 0  # not back in a loop
    assert await celery_tasks(celery_redis, settings.celery_queue) == []


async def test_a_numeric_event_id_goes_to_the_dlq_and_is_never_left_unacked(
    settings: Settings, topology: Topology, celery_redis: aioredis.Redis
) -> None:
    """`UUID(1)` raised AttributeError, which left the message holding a prefetch slot."""
    body = orjson.dumps({**orjson.loads(new_order_event().payload), "event_id": 1})
    async with consuming(settings, topology):
        await send(topology.new_order_queue, body)
        parked = await take(topology.dlq)
    assert parked is not None
    assert parked.body == body
    assert "event_id" in str((parked.headers or {})[DLQ_REASON_HEADER])
    assert await count(topology.new_order_queue) == 0


class BrokenProcessing:
    """A processing queue with a bug: it raises what nobody expects."""

    async def submit(self, event: EventEnvelope) -> None:
        raise AttributeError("'NoneType' object has no attribute 'send_task'")


async def test_an_unexpected_exception_dead_letters_the_message_with_the_reason(
    settings: Settings, topology: Topology, caplog: pytest.LogCaptureFixture
) -> None:
    consumer = EventConsumer(
        ConsumerConfig(RABBITMQ_URL, topology, prefetch=1, timeout_seconds=5.0),
        BrokenProcessing(),
    )
    task = asyncio.create_task(consumer.run())
    try:
        await asyncio.wait_for(consumer.ready.wait(), timeout=10)
        events = [new_order_event() for _ in range(3)]
        for event in events:  # prefetch 1: a message left unacked would hold the rest back
            await send(topology.new_order_queue, event.payload.encode())
        parked = [await take(topology.dlq) for _ in events]
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert sorted(m.body for m in parked if m) == sorted(e.payload.encode() for e in events)
    reasons = {str((m.headers or {})[DLQ_REASON_HEADER]) for m in parked if m}
    assert reasons == {"unexpected AttributeError: 'NoneType' object has no attribute 'send_task'"}
    assert await count(topology.new_order_queue) == 0
    assert any(r.exc_info for r in caplog.records if r.name == "messaging.consumer")


async def test_a_celery_broker_outage_holds_messages_and_loses_none(
    settings: Settings, topology: Topology, celery_redis: aioredis.Redis
) -> None:
    down = settings.model_copy(update={"celery_broker_url": f"redis://127.0.0.1:{free_port()}/0"})
    event = new_order_event()
    async with consuming(down, topology) as consumer:
        sent = time.monotonic()
        await send(topology.new_order_queue, event.payload.encode())
        await eventually(lambda: _value(consumer.broker_failures >= 1), what="a first failure")
        first = time.monotonic()
        await eventually(
            lambda: _value(consumer.broker_failures >= 4), what="more failures", deadline_s=30
        )
        # Backing off, not spinning: beyond what three attempts cost, the message was
        # held for the growing delays (0.5 s, 1 s, 2 s, less jitter).
        one_attempt = first - sent
        assert time.monotonic() - first > 3 * one_attempt + 2.0
        assert consumer.handed_off == 0

    async def requeued() -> bool:
        return await count(topology.new_order_queue) == 1

    await eventually(requeued, what="the message back on its queue")

    async with consuming(settings, topology) as consumer:

        async def queued() -> list[dict[str, Any]]:
            return await celery_tasks(celery_redis, settings.celery_queue)

        [task] = await eventually(queued, what="the task once Redis answers")
        await eventually(lambda: _value(consumer.handed_off == 1), what="the ack")
    assert task["id"] == event.event_id
    assert await count(topology.new_order_queue) == 0


async def _value(value: bool) -> bool:
    return value
