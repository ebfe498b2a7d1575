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
from typing import Any, Final, Literal

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractConnection,
    AbstractExchange,
    AbstractQueue,
    AbstractRobustConnection,
)
from aio_pika.connection import make_url

from core.events import NEW_ORDER, STATUS_CHANGED
from core.registry import EVENT_TYPES

log = logging.getLogger(__name__)

# Nobody in this service consumes status events yet: cap the queue so it cannot grow forever.
STATUS_QUEUE_MAX_LENGTH: Final = 100_000

QueueType = Literal["classic", "quorum"]


@dataclass(frozen=True, slots=True)
class Topology:
    exchange: str
    new_order_queue: str
    status_queue: str
    # classic: declared without `x-queue-type`, as before the setting existed, so queues
    # declared then still match.
    queue_type: QueueType = "classic"

    @property
    def dlq(self) -> str:
        """Where the consumer parks messages it cannot parse: `<new order queue>.dlq`."""
        return f"{self.new_order_queue}.dlq"


async def declare_topology(channel: AbstractChannel, topology: Topology) -> AbstractExchange:
    """Declare (idempotently) the exchange and the queues; returns the exchange."""
    exchange = await channel.declare_exchange(
        topology.exchange, aio_pika.ExchangeType.TOPIC, durable=True
    )
    new_order = await _declare_queue(channel, topology, topology.new_order_queue)
    await new_order.bind(exchange, routing_key=_key(NEW_ORDER))
    status = await _declare_queue(
        channel, topology, topology.status_queue, {"x-max-length": STATUS_QUEUE_MAX_LENGTH}
    )
    await status.bind(exchange, routing_key=_key(STATUS_CHANGED))
    await _declare_queue(channel, topology, topology.dlq)
    return exchange


def _key(event_type: str) -> str:
    """The routing key the registry publishes the type with."""
    key = EVENT_TYPES[event_type].routing_key
    assert key is not None, f"{event_type} is never published"
    return key


async def _declare_queue(
    channel: AbstractChannel, topology: Topology, name: str, arguments: dict[str, Any] | None = None
) -> AbstractQueue:
    """A durable queue of the topology's type; an existing queue of another type (or other
    arguments) is refused by RabbitMQ, and logged with what to do."""
    arguments = dict(arguments or {})
    if topology.queue_type != "classic":
        arguments["x-queue-type"] = topology.queue_type
    try:
        return await channel.declare_queue(name, durable=True, arguments=arguments or None)
    except aio_pika.exceptions.ChannelPreconditionFailed as exc:
        log.error(
            "RabbitMQ refused queue %s as a %s queue: it exists with another type or other "
            "arguments, which never change (RABBITMQ_QUEUE_TYPE must match the existing "
            "queues, or move them: docs/operations.md) error=%s",
            name,
            topology.queue_type,
            exc,
        )
        raise


async def delete_topology(channel: AbstractChannel, topology: Topology) -> int:
    """Delete the queues and the exchange (absent ones too); returns the messages dropped."""
    dropped = 0
    for queue in (topology.new_order_queue, topology.dlq, topology.status_queue):
        dropped += (await channel.queue_delete(queue)).message_count or 0
    await channel.exchange_delete(topology.exchange)
    return dropped


async def open_robust(
    url: str, *, connect_timeout: float, reconnect_interval: float | None = None
) -> AbstractRobustConnection:
    """`aio_pika.connect_robust`, except that a failed first connect is closed here.

    aio-pika leaves that connection to `__del__`, which cannot close it when the garbage
    collector runs outside the event loop (an un-awaited coroutine, a warning). Once
    connected, it reconnects by itself every `reconnect_interval` seconds (None: aio-pika's
    5 s) while the broker is away.
    """
    connection = aio_pika.RobustConnection(make_url(url), reconnect_interval=reconnect_interval)
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
