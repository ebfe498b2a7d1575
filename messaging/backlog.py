"""How many `new_order` messages wait in RabbitMQ: a passive declare of the queue, which
reports its ready messages (not those a consumer holds unacked) without creating it.

Read by the workflow's processing check (a backlog is not a loss: an order may wait in
it) and sampled for the `orders_rabbitmq_queue_messages` gauge. The connection is opened
on first use and kept; a failure answers None (unknown) and the next call reconnects.
"""

from __future__ import annotations

import asyncio
import logging

from aio_pika.abc import AbstractChannel, AbstractRobustConnection
from prometheus_client import Gauge

from messaging.failures import AMQP_FAILURES
from messaging.topology import open_robust

log = logging.getLogger(__name__)

QUEUE_MESSAGES = Gauge(
    "orders_rabbitmq_queue_messages", "Messages ready in a RabbitMQ queue (sampled)", ["queue"]
)


class QueueDepth:
    def __init__(self, url: str, queue: str, *, timeout: float) -> None:
        self._url = url
        self._queue = queue
        self._timeout = timeout
        self._lock = asyncio.Lock()
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractChannel | None = None
        self._failing = False

    async def length(self) -> int | None:
        """The queue's ready messages; None when RabbitMQ cannot tell now."""
        try:
            async with self._lock, asyncio.timeout(self._timeout):
                channel = await self._open()
                declared = await channel.declare_queue(self._queue, passive=True)
        except AMQP_FAILURES as exc:
            self._channel = None  # a missing queue closes the channel: open another
            if not self._failing:
                log.warning("queue depth unknown queue=%s error=%r", self._queue, exc)
            self._failing = True
            return None
        self._failing = False
        count = declared.declaration_result.message_count or 0
        QUEUE_MESSAGES.labels(self._queue).set(count)
        return count

    async def _open(self) -> AbstractChannel:
        if self._connection is None:
            connection = await open_robust(self._url, connect_timeout=self._timeout)
            self._connection = connection
        if self._channel is None or self._channel.is_closed:
            self._channel = await self._connection.channel()  # robust: it reconnects itself
        return self._channel

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None
