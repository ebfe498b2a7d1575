"""The dead-letter queue, for operators: look at what is parked there, and send it back.

`peek` takes messages without acknowledging them and closes the channel, so RabbitMQ puts
them back in their order. `replay` republishes each one to the exchange under its event
type (confirmed, mandatory), then acknowledges it in the DLQ: a crash in between leaves a
copy in both, and the consumer's effect-once processing makes that harmless.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from core.events import NEW_ORDER
from messaging.consumer import DLQ_REASON_HEADER
from messaging.topology import Topology, declare_topology, open_robust

REPLAYED_HEADER = "x-replayed"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    message_id: str | None
    reason: str
    body: str
    headers: dict[str, Any]


def _dead_letter(message: AbstractIncomingMessage) -> DeadLetter:
    headers = dict(message.headers or {})
    reason = headers.get(DLQ_REASON_HEADER, "")
    return DeadLetter(
        message.message_id,
        reason.decode() if isinstance(reason, bytes) else str(reason),
        message.body.decode(errors="replace"),
        {k: v.decode() if isinstance(v, bytes) else v for k, v in headers.items()},
    )


class DeadLetters:
    def __init__(self, url: str, topology: Topology, *, timeout_seconds: float = 10.0) -> None:
        self._url = url
        self._topology = topology
        self._timeout = timeout_seconds

    async def peek(self, limit: int) -> list[DeadLetter]:
        connection = await open_robust(self._url, connect_timeout=self._timeout)
        async with connection:
            channel = await connection.channel()
            await declare_topology(channel, self._topology)
            queue = await channel.get_queue(self._topology.dlq)
            found: list[DeadLetter] = []
            while len(found) < limit:
                message = await queue.get(no_ack=False, fail=False, timeout=self._timeout)
                if message is None:
                    break
                found.append(_dead_letter(message))
            # Closing the channel returns every unacknowledged message to the queue.
        return found

    async def replay(self, limit: int) -> list[DeadLetter]:
        """Send up to `limit` dead letters back to the new-order queue; returns them."""
        connection = await open_robust(self._url, connect_timeout=self._timeout)
        async with connection:
            channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
            exchange = await declare_topology(channel, self._topology)
            queue = await channel.get_queue(self._topology.dlq)
            replayed: list[DeadLetter] = []
            while len(replayed) < limit:
                message = await queue.get(no_ack=False, fail=False, timeout=self._timeout)
                if message is None:
                    break
                await self._republish(exchange, message)
                await message.ack()
                replayed.append(_dead_letter(message))
        return replayed

    async def _republish(
        self, exchange: aio_pika.abc.AbstractExchange, message: AbstractIncomingMessage
    ) -> None:
        headers = {k: v for k, v in (message.headers or {}).items() if k != DLQ_REASON_HEADER}
        times = headers.get(REPLAYED_HEADER, 0)
        headers[REPLAYED_HEADER] = (times if isinstance(times, int) else 0) + 1
        again = aio_pika.Message(
            message.body,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            content_type=message.content_type,
            message_id=message.message_id,
            correlation_id=message.correlation_id,
            type=message.type or NEW_ORDER,
            headers=headers,
        )
        async with asyncio.timeout(self._timeout):
            await exchange.publish(again, routing_key=NEW_ORDER, mandatory=True)
