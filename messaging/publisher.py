"""The confirmed `Publisher`: every event persistent, confirmed by the broker, mandatory."""

from __future__ import annotations

import asyncio
import logging

import aio_pika
from aio_pika.abc import AbstractExchange, AbstractRobustConnection

from messaging.failures import AMQP_FAILURES
from messaging.metrics import PUBLISH_FAILURES, PUBLISHED
from messaging.topology import Topology, closed_on_failure, declare_topology, open_robust

log = logging.getLogger(__name__)


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
        message = event_message(
            body, event_id=event_id, event_type=event_type, correlation_id=correlation_id
        )
        try:
            exchange = await self.connect()
            async with asyncio.timeout(self._timeout):
                await exchange.publish(message, routing_key=event_type, mandatory=True)
        except AMQP_FAILURES:  # down, a nack, unroutable, no confirm in time
            PUBLISH_FAILURES.labels(event_type).inc()
            raise
        PUBLISHED.labels(event_type).inc()

    async def ping(self) -> bool:
        """True when connected to RabbitMQ, connecting first if not yet (readiness)."""
        try:
            await self.connect()
        except AMQP_FAILURES as exc:
            log.warning("readiness: rabbitmq down error=%r", exc)
            return False
        return self._connection is not None and self._connection.connected.is_set()

    async def close(self) -> None:
        async with self._lock:
            if self._connection is not None:
                await self._connection.close()
            self._connection = None
            self._exchange = None
