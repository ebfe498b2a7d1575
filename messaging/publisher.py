"""The confirmed `Publisher`: every event persistent, confirmed by the broker, mandatory."""

from __future__ import annotations

import asyncio
import logging

from aio_pika.abc import AbstractExchange, AbstractRobustChannel, AbstractRobustConnection

from core.envelope import EventEnvelope
from core.events import InvalidEvent
from core.registry import event_type as registered
from messaging.envelope import event_message
from messaging.failures import AMQP_FAILURES
from messaging.metrics import PUBLISH_FAILURES, PUBLISHED
from messaging.topology import Topology, closed_on_failure, declare_topology, open_robust

log = logging.getLogger(__name__)


class UnpublishedEventType(InvalidEvent):
    """An event whose type the registry never publishes: a bug, not an outage."""


class Publisher:
    """Publishes events with confirms; connects on first use, so RabbitMQ may start later.

    A failed publish raises (the caller, a Temporal activity, retries): a broker that is
    down, a missing confirm within the timeout, a nack, or an unroutable message.

    It also says whether RabbitMQ is reachable (`down`) and lets publishes wait for it
    (`wait_up`): once connected, aio-pika's robust connection reconnects by itself every
    `reconnect_interval` seconds; before the first connection, one loop of this process's
    does the same. Either way every waiter is released the moment the broker is back, and
    the broker sees one connection attempt per interval, however many publishes wait.
    """

    def __init__(
        self, url: str, topology: Topology, *, timeout: float, reconnect_interval: float = 1.0
    ) -> None:
        self._url = url
        self._topology = topology
        self._timeout = timeout
        self._reconnect_interval = reconnect_interval
        self._lock = asyncio.Lock()
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractRobustChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._connect_failed = False  # the last attempt to connect failed
        self._connecting: asyncio.Task[None] | None = None  # the loop before the first connect

    async def connect(self) -> AbstractExchange:
        """The exchange, connecting (robustly: it reconnects by itself) if not yet done."""
        async with self._lock:
            if self._exchange is not None:
                return self._exchange
            try:
                connection = await open_robust(
                    self._url,
                    connect_timeout=self._timeout,
                    reconnect_interval=self._reconnect_interval,
                )
                async with closed_on_failure(connection), asyncio.timeout(self._timeout):
                    channel = await connection.channel(
                        publisher_confirms=True, on_return_raises=True
                    )
                    self._exchange = await declare_topology(channel, self._topology)
            except AMQP_FAILURES:
                self._connect_failed = True
                raise
            self._connect_failed = False
            self._connection, self._channel = connection, channel
            log.info("rabbitmq publisher connected exchange=%s", self._topology.exchange)
            return self._exchange

    @property
    def down(self) -> bool:
        """RabbitMQ is known to be unreachable: the last connect failed, or the connection
        was lost and is reconnecting. False before the first attempt."""
        if self._connection is None:
            return self._connect_failed
        return not self._connection.connected.is_set()

    async def wait_up(self, seconds: float) -> bool:
        """Wait at most `seconds` for RabbitMQ to be reachable (connected, the channel
        restored); True when it is, at once if it already is."""
        try:
            async with asyncio.timeout(seconds):
                while self._channel is None:
                    if self._connecting is None or self._connecting.done():
                        self._connecting = asyncio.create_task(self._until_connected())
                    await asyncio.shield(self._connecting)
                await self._channel.ready()
        except TimeoutError:
            return False
        return True

    async def _until_connected(self) -> None:
        while True:
            try:
                await self.connect()
                return
            except AMQP_FAILURES as exc:
                log.debug("rabbitmq publisher cannot connect yet error=%r", exc)
            await asyncio.sleep(self._reconnect_interval)

    async def publish(self, event: EventEnvelope) -> None:
        """Publish under its type's routing key (core.registry); InvalidEvent for a type
        that is never published."""
        routing_key = registered(event.event_type).routing_key
        if routing_key is None:
            raise UnpublishedEventType(f"{event.event_type} events are never published")
        message = event_message(event)
        try:
            exchange = await self.connect()
            async with asyncio.timeout(self._timeout):
                await exchange.publish(message, routing_key=routing_key, mandatory=True)
        except AMQP_FAILURES:  # down, a nack, unroutable, no confirm in time
            PUBLISH_FAILURES.labels(event.event_type).inc()
            raise
        PUBLISHED.labels(event.event_type).inc()

    async def ping(self) -> bool:
        """True when connected to RabbitMQ, connecting first if not yet (readiness)."""
        try:
            await self.connect()
        except AMQP_FAILURES as exc:
            log.warning("readiness: rabbitmq down error=%r", exc)
            return False
        return self._connection is not None and self._connection.connected.is_set()

    async def close(self) -> None:
        if self._connecting is not None:
            self._connecting.cancel()
            await asyncio.gather(self._connecting, return_exceptions=True)
            self._connecting = None
        async with self._lock:
            if self._connection is not None:
                await self._connection.close()
            self._connection = None
            self._channel = None
            self._exchange = None
