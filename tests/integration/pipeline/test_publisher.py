"""The RabbitMQ Publisher against the real broker, on names unique to each test."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import aio_pika
import pytest
from aio_pika.abc import AbstractIncomingMessage

from core.events import NEW_ORDER, STATUS_CHANGED
from messaging.publisher import Publisher
from messaging.topology import Topology
from tests.support.faults import tcp_proxy
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
                await publisher.publish(NEW_ORDER, b"{}", f"after-outage-{outage}")
                proxy.cut()
                await eventually(lambda: publisher.down, what="the lost connection noticed")
        finally:
            await publisher.close()
    assert await count(topology.new_order_queue) == 2
