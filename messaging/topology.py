"""RabbitMQ: the topology every event goes through, and opening connections to it.

A durable topic exchange routes each event by its type: `new_order` to the contract's
durable queue (RABBITMQ_NEW_ORDER_QUEUE), `order_status_changed` to a length-capped
queue; `<queue>.dlq` holds messages the consumer could not parse. Every message is
persistent, confirmed by the broker, and mandatory: an unroutable message is an error.
"""

from __future__ import annotations

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
        """Where the consumer parks messages it cannot parse: `<new order queue>.dlq`."""
        return f"{self.new_order_queue}.dlq"


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


async def delete_topology(channel: AbstractChannel, topology: Topology) -> int:
    """Delete the queues and the exchange (absent ones too); returns the messages dropped."""
    dropped = 0
    for queue in (topology.new_order_queue, topology.dlq, topology.status_queue):
        dropped += (await channel.queue_delete(queue)).message_count or 0
    await channel.exchange_delete(topology.exchange)
    return dropped


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
