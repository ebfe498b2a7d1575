"""The dead-letter queue's operator side against real RabbitMQ: a replay sends each message
back once and stops on one that comes straight back; a discard drops what it is told to,
with an audit line and the reason, and leaves the rest in order."""

from __future__ import annotations

import logging

import aio_pika
import pytest
import redis.asyncio as aioredis

from core.events import NEW_ORDER
from messaging.consumer import DLQ_REASON_HEADER
from messaging.dlq import DeadLetters
from messaging.topology import Topology, declare_topology
from service.settings import Settings
from tests.support.consumer import consuming
from tests.support.rabbitmq import count, take
from tests.support.settings import RABBITMQ_URL


async def park(topology: Topology, *message_ids: str) -> None:
    """Dead letters, as the consumer leaves them: in the DLQ with a reason."""
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        await declare_topology(channel, topology)
        for message_id in message_ids:
            message = aio_pika.Message(
                f'{{"id": "{message_id}"}}'.encode(),
                message_id=message_id,
                headers={DLQ_REASON_HEADER: f"bad: {message_id}"},
            )
            await channel.default_exchange.publish(message, routing_key=topology.dlq)


async def in_dlq(topology: Topology) -> list[str]:
    """The message ids the DLQ holds, in order; they stay."""
    letters = await DeadLetters(RABBITMQ_URL, topology).peek(100)
    return [letter.message_id or "-" for letter in letters]


async def test_a_replay_sends_each_once_and_stops_on_one_that_comes_straight_back(
    topology: Topology,
) -> None:
    """The DLQ bound to the exchange like the new-order queue: every message sent back is
    at once in the DLQ again, as when the consumer still refuses it. Before, each get took
    it again: `--limit 10` of one bad message reported 3 replayed, here 10."""
    await park(topology, "m-1", "m-2", "m-3")
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        dlq = await channel.get_queue(topology.dlq)
        await dlq.bind(topology.exchange, routing_key=NEW_ORDER)

        replayed = await DeadLetters(RABBITMQ_URL, topology).replay(10)

    assert [letter.message_id for letter in replayed.sent] == ["m-1", "m-2", "m-3"]
    assert replayed.came_back is not None
    assert replayed.came_back.message_id == "m-1"
    assert await count(topology.new_order_queue) == 3  # each sent once
    assert await in_dlq(topology) == ["m-1", "m-2", "m-3"]  # back, in order, none lost


async def test_one_bad_message_replayed_against_the_consumer_counts_once(
    settings: Settings, topology: Topology, celery_redis: aioredis.Redis
) -> None:
    """The issue's case: a real consumer dead-letters the replayed message again at once."""
    await park(topology, "bad-1")
    async with consuming(settings, topology):
        replayed = await DeadLetters(RABBITMQ_URL, topology).replay(10)
        assert [letter.message_id for letter in replayed.sent] == ["bad-1"]
        back = await take(topology.dlq)
    assert back is not None
    assert back.message_id == "bad-1"
    assert "not" in str((back.headers or {})[DLQ_REASON_HEADER])  # refused again, as before


async def test_a_discard_drops_the_chosen_messages_with_an_audit_line(
    topology: Topology, caplog: pytest.LogCaptureFixture
) -> None:
    await park(topology, "m-1", "m-2", "m-3", "m-4")
    dead_letters = DeadLetters(RABBITMQ_URL, topology)
    with caplog.at_level(logging.WARNING, logger="audit"):
        result = await dead_letters.discard(
            message_ids=["m-2", "m-4", "m-9"], reason="order deleted by hand", by="ada"
        )
    assert [letter.message_id for letter in result.discarded] == ["m-2", "m-4"]
    assert result.missing == ["m-9"]
    assert await in_dlq(topology) == ["m-1", "m-3"]
    lines = [r for r in caplog.records if r.name == "audit"]
    assert [r.getMessage() for r in lines] == [
        f"dlq_discarded queue={topology.dlq} message_id={m} dlq_reason=bad: {m}"
        " reason=order deleted by hand by=ada"
        for m in ("m-2", "m-4")
    ]
    assert all(r.levelno == logging.WARNING for r in lines)

    everything = await dead_letters.discard(every=True, reason="test data", by="ada")
    assert len(everything.discarded) == 2
    assert await in_dlq(topology) == []
