"""The RabbitMQ Publisher against the real broker, on names unique to each test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import aio_pika
import pytest
from aio_pika.abc import AbstractIncomingMessage

from core.events import NEW_ORDER, STATUS_CHANGED
from messaging.publisher import Publisher
from messaging.topology import Topology
from tests.support.waiting import eventually

from .conftest import RABBITMQ_URL


async def take(queue_name: str) -> AbstractIncomingMessage | None:
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(queue_name)

        async def get() -> AbstractIncomingMessage | None:
            return await queue.get(no_ack=True, fail=False)

        return await eventually(get, what=f"a message on {queue_name}")


async def count(queue_name: str) -> int:
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(queue_name, passive=True)
        return queue.declaration_result.message_count or 0


@pytest.fixture
async def publisher(topology: Topology) -> AsyncIterator[Publisher]:
    p = Publisher(RABBITMQ_URL, topology, timeout=5.0)
    yield p
    await p.close()


async def test_an_event_is_persistent_json_with_its_event_id(
    publisher: Publisher, topology: Topology
) -> None:
    event_id = str(uuid.uuid4())
    body = b'{"event_type": "new_order", "total_price": 19.98}'
    await publisher.publish(NEW_ORDER, body, event_id, correlation_id="req-7")

    message = await take(topology.new_order_queue)
    assert message is not None
    assert message.body == body
    assert message.message_id == event_id
    assert message.correlation_id == "req-7"
    assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert message.content_type == "application/json"
    assert message.routing_key == NEW_ORDER


async def test_each_event_type_has_its_own_route(publisher: Publisher, topology: Topology) -> None:
    await publisher.publish(STATUS_CHANGED, b"{}", str(uuid.uuid4()))
    message = await take(topology.status_queue)
    assert message is not None
    assert message.routing_key == STATUS_CHANGED
    assert await count(topology.new_order_queue) == 0


async def test_an_unroutable_message_is_a_failure(publisher: Publisher, topology: Topology) -> None:
    with pytest.raises(aio_pika.exceptions.PublishError):
        await publisher.publish("no_queue_is_bound_to_this", b"{}", str(uuid.uuid4()))
    # The channel survives a returned message: the next event goes through.
    await publisher.publish(NEW_ORDER, b"{}", "after-return")
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
