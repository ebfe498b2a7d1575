"""The RabbitMQ Publisher against the real broker, on names unique to each test."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

import aio_pika
import pytest

from core.envelope import EventEnvelope
from core.events import NEW_ORDER, ORDER_PROCESSED, STATUS_CHANGED, InvalidEvent
from messaging.envelope import AGGREGATE_HEADER, TRACEPARENT_HEADER, envelope_of
from messaging.publisher import Publisher
from messaging.topology import Topology
from tests.support.faults import tcp_proxy
from tests.support.rabbitmq import count, take
from tests.support.settings import RABBITMQ_URL
from tests.support.waiting import eventually

NOW = datetime(2026, 12, 6, 12, 0, 0, tzinfo=UTC)


def event(event_type: str = NEW_ORDER, body: bytes = b"{}", event_id: str = "") -> EventEnvelope:
    return EventEnvelope(
        event_id or str(uuid.uuid4()), event_type, str(uuid.uuid4()), NOW, body.decode()
    )


@pytest.fixture
async def publisher(topology: Topology) -> AsyncIterator[Publisher]:
    p = Publisher(RABBITMQ_URL, topology, timeout=5.0)
    yield p
    await p.close()


async def test_an_event_is_its_payload_as_persistent_json_and_its_envelope_as_properties(
    publisher: Publisher, topology: Topology
) -> None:
    body = b'{"event_type": "new_order", "total_price": 19.98}'
    sent = replace(
        event(body=body),
        correlation_id="req-7",
        traceparent="00-" + "a" * 32 + "-" + "b" * 16 + "-01",
    )
    await publisher.publish(sent)

    message = await take(topology.new_order_queue)
    assert message is not None
    assert message.body == body  # the payload as written: the contract's message
    assert message.message_id == sent.event_id
    assert message.type == NEW_ORDER
    assert message.correlation_id == "req-7"
    assert message.timestamp == NOW.replace(tzinfo=None) or message.timestamp == NOW
    assert (message.headers or {})[AGGREGATE_HEADER] == sent.aggregate_id
    assert (message.headers or {})[TRACEPARENT_HEADER] == sent.traceparent
    assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert message.content_type == "application/json"
    assert message.routing_key == NEW_ORDER
    assert envelope_of(message) == sent  # the consumer reads back what was sent


async def test_each_event_type_has_its_own_route(publisher: Publisher, topology: Topology) -> None:
    await publisher.publish(event(STATUS_CHANGED))
    message = await take(topology.status_queue)
    assert message is not None
    assert message.routing_key == STATUS_CHANGED
    assert await count(topology.new_order_queue) == 0


async def test_an_unroutable_message_is_a_failure(publisher: Publisher, topology: Topology) -> None:
    await publisher.connect()
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:  # its queue gone: a status event now routes nowhere
        await (await connection.channel()).queue_delete(topology.status_queue)
    with pytest.raises(aio_pika.exceptions.PublishError):
        await publisher.publish(event(STATUS_CHANGED))
    # The channel survives a returned message: the next event goes through.
    await publisher.publish(event(event_id="after-return"))
    message = await take(topology.new_order_queue)
    assert message is not None
    assert message.message_id == "after-return"


async def test_the_queues_are_durable(publisher: Publisher, topology: Topology) -> None:
    await publisher.connect()
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        for name in (topology.new_order_queue, topology.dlq):
            # Declaring with other flags than the existing queue's fails: proves durable.
            await channel.declare_queue(name, durable=True, passive=True)
            check = await connection.channel()
            with pytest.raises(aio_pika.exceptions.ChannelPreconditionFailed):
                await check.declare_queue(name, durable=False)


async def test_waiting_publishes_are_released_when_the_broker_returns(topology: Topology) -> None:
    """Down from the start (one connect loop for every waiter), then up, then cut and back
    (the robust connection's reconnect): each time `down` says so, a wait times out while
    the broker is away and ends within a reconnect interval of its return."""
    with tcp_proxy("127.0.0.1", 5672) as proxy:
        proxy.cut()
        publisher = Publisher(
            f"amqp://guest:guest@{proxy.address}/", topology, timeout=2.0, reconnect_interval=0.2
        )
        try:
            assert not publisher.down  # nothing tried yet
            with pytest.raises(ConnectionError):
                await publisher.connect()
            assert publisher.down
            assert not any(await asyncio.gather(*(publisher.wait_up(0.5) for _ in range(20))))

            for outage in range(2):
                waiters = [asyncio.create_task(publisher.wait_up(10.0)) for _ in range(20)]
                await asyncio.sleep(0.5)
                proxy.restore()
                back_at = time.monotonic()
                assert all(await asyncio.gather(*waiters)), outage
                assert time.monotonic() - back_at < 1.0, outage
                assert not publisher.down
                await publisher.publish(event())
                proxy.cut()
                await eventually(lambda: publisher.down, what="the lost connection noticed")
        finally:
            await publisher.close()
    assert await count(topology.new_order_queue) == 2


async def test_an_event_the_registry_never_publishes_is_refused(publisher: Publisher) -> None:
    with pytest.raises(InvalidEvent):
        await publisher.publish(event(ORDER_PROCESSED))
    with pytest.raises(InvalidEvent):
        await publisher.publish(event("no_such_event"))
