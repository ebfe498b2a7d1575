"""RabbitMQ: the topology every event goes through, and the confirmed `Publisher`.

A durable topic exchange routes each event by its type: `new_order` to the contract's
durable queue (RABBITMQ_NEW_ORDER_QUEUE), `order_status_changed` to a length-capped
queue; `<queue>.dlq` holds messages the consumer could not parse. Every message is
persistent, confirmed by the broker, and mandatory: an unroutable message is an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Final

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractConnection,
    AbstractExchange,
    AbstractRobustConnection,
)
from aio_pika.connection import make_url

from core.events import NEW_ORDER, STATUS_CHANGED
from service.settings import Settings

log = logging.getLogger(__name__)

# Nobody in this service consumes status events yet: cap the queue so it cannot grow forever.
STATUS_QUEUE_MAX_LENGTH: Final = 100_000


@dataclass(frozen=True, slots=True)
class Topology:
    exchange: str
    new_order_queue: str
    status_queue: str

    @property
    def dlq(self) -> str:
        return f"{self.new_order_queue}.dlq"

    @classmethod
    def from_settings(cls, settings: Settings) -> Topology:
        return cls(
            settings.rabbitmq_exchange,
            settings.rabbitmq_new_order_queue,
            settings.rabbitmq_status_queue,
        )


async def declare_topology(channel: AbstractChannel, topology: Topology) -> AbstractExchange:
    """Declare (idempotently) the exchange and the queues; returns the exchange."""
    exchange = await channel.declare_exchange(
        topology.exchange, aio_pika.ExchangeType.TOPIC, durable=True
    )
    new_order = await channel.declare_queue(topology.new_order_queue, durable=True)
    await new_order.bind(exchange, routing_key=NEW_ORDER)
    status = await channel.declare_queue(
        topology.status_queue, durable=True, arguments={"x-max-length": STATUS_QUEUE_MAX_LENGTH}
    )
    await status.bind(exchange, routing_key=STATUS_CHANGED)
    await channel.declare_queue(topology.dlq, durable=True)
    return exchange


async def open_robust(url: str, *, connect_timeout: float) -> AbstractRobustConnection:
    """`aio_pika.connect_robust`, except that a failed first connect is closed here.

    aio-pika leaves that connection to `__del__`, which cannot close it when the garbage
    collector runs outside the event loop (an un-awaited coroutine, a warning).
    """
    connection = aio_pika.RobustConnection(make_url(url))
    async with closed_on_failure(connection):
        await connection.connect(timeout=connect_timeout)
    return connection


@contextlib.asynccontextmanager
async def closed_on_failure(connection: AbstractConnection) -> AsyncIterator[None]:
    """Close `connection` when the block fails, however it fails (cancellation too)."""
    done = False
    try:
        yield
        done = True
    finally:
        if not done:
            await connection.close()


def event_message(
    body: bytes, *, event_id: str, event_type: str, correlation_id: str | None = None
) -> aio_pika.Message:
    return aio_pika.Message(
        body,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        content_type="application/json",
        message_id=event_id,
        type=event_type,
        correlation_id=correlation_id or None,
    )


class Publisher:
    """Publishes events with confirms; connects on first use, so RabbitMQ may start later.

    A failed publish raises (the caller, a Temporal activity, retries): a broker that is
    down, a missing confirm within the timeout, a nack, or an unroutable message.
    """

    def __init__(self, url: str, topology: Topology, *, timeout: float) -> None:
        self._url = url
        self._topology = topology
        self._timeout = timeout
        self._lock = asyncio.Lock()
        self._connection: AbstractRobustConnection | None = None
        self._exchange: AbstractExchange | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Publisher:
        return cls(
            settings.rabbitmq_url,
            Topology.from_settings(settings),
            timeout=settings.rabbitmq_timeout_seconds,
        )

    async def connect(self) -> AbstractExchange:
        """The exchange, connecting (robustly: it reconnects by itself) if not yet done."""
        async with self._lock:
            if self._exchange is not None:
                return self._exchange
            connection = await open_robust(self._url, connect_timeout=self._timeout)
            async with closed_on_failure(connection), asyncio.timeout(self._timeout):
                channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
                self._exchange = await declare_topology(channel, self._topology)
            self._connection = connection
            log.info("rabbitmq publisher connected exchange=%s", self._topology.exchange)
            return self._exchange

    async def publish(
        self, event_type: str, body: bytes, event_id: str, correlation_id: str | None = None
    ) -> None:
        exchange = await self.connect()
        message = event_message(
            body, event_id=event_id, event_type=event_type, correlation_id=correlation_id
        )
        async with asyncio.timeout(self._timeout):
            await exchange.publish(message, routing_key=event_type, mandatory=True)

    async def close(self) -> None:
        async with self._lock:
            if self._connection is not None:
                await self._connection.close()
            self._connection = None
            self._exchange = None
