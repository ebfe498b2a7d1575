"""RABBITMQ_QUEUE_TYPE: the queues declared as quorum queues when asked (the production
recipe), as classic queues by default (the dev stack, unchanged), and a clear ERROR line
when an existing queue was declared with another type (a type never changes).

A queue's type is proven by declaring it again with the other type: RabbitMQ refuses an
inequivalent `x-queue-type` (PRECONDITION_FAILED)."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import aio_pika
import pytest

from core.envelope import EventEnvelope
from core.events import NEW_ORDER
from messaging.publisher import Publisher
from messaging.topology import STATUS_QUEUE_MAX_LENGTH, Topology, declare_topology
from service import pipeline
from service.settings import Settings
from tests.support.settings import RABBITMQ_URL


def queues(topology: Topology) -> dict[str, dict[str, Any]]:
    """Each queue and the arguments it is declared with, but its type."""
    return {
        topology.new_order_queue: {},
        topology.status_queue: {"x-max-length": STATUS_QUEUE_MAX_LENGTH},
        topology.dlq: {},
    }


async def declared_as(name: str, arguments: dict[str, Any], queue_type: str) -> bool:
    """True when RabbitMQ accepts `name` declared again as a `queue_type` queue."""
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        try:
            await channel.declare_queue(
                name, durable=True, arguments={**arguments, "x-queue-type": queue_type}
            )
        except aio_pika.exceptions.ChannelPreconditionFailed:
            return False
    return True


@pytest.fixture
def quorum(settings: Settings) -> Settings:
    return settings.model_copy(update={"rabbitmq_queue_type": "quorum"})


async def test_the_queues_are_quorum_queues_when_asked(
    quorum: Settings, topology: Topology
) -> None:
    quorum_topology = pipeline.topology(quorum)
    publisher = Publisher(quorum.rabbitmq_url, quorum_topology, timeout=5.0)
    try:
        await publisher.publish(
            EventEnvelope(str(uuid.uuid4()), NEW_ORDER, str(uuid.uuid4()), datetime.now(UTC), "{}")
        )
    finally:
        await publisher.close()
    for name, arguments in queues(quorum_topology).items():
        assert not await declared_as(name, arguments, "classic"), f"{name} is not quorum"
        assert await declared_as(name, arguments, "quorum")
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        queue = await (await connection.channel()).get_queue(quorum_topology.new_order_queue)
        message = await queue.get(no_ack=True, fail=False, timeout=5)
        assert message is not None  # the event went through the quorum queue


async def test_classic_stays_the_default(settings: Settings, topology: Topology) -> None:
    assert settings.rabbitmq_queue_type == "classic"
    publisher = Publisher(settings.rabbitmq_url, topology, timeout=5.0)
    try:
        await publisher.connect()
    finally:
        await publisher.close()
    for name, arguments in queues(topology).items():
        assert not await declared_as(name, arguments, "quorum"), f"{name} is not classic"


async def test_a_queue_of_another_type_is_named_in_an_error(
    quorum: Settings, topology: Topology, caplog: pytest.LogCaptureFixture
) -> None:
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        await declare_topology(await connection.channel(), topology)  # classic, as today
        with (
            caplog.at_level(logging.ERROR, logger="messaging.topology"),
            pytest.raises(aio_pika.exceptions.ChannelPreconditionFailed),
        ):
            await declare_topology(await connection.channel(), pipeline.topology(quorum))
    [line] = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert topology.new_order_queue in line
    assert "quorum" in line
    assert "RABBITMQ_QUEUE_TYPE" in line
