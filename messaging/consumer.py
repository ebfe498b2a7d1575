"""The consumer: `new_order` messages from RabbitMQ handed to processing (Celery's
`process_order`, through `processing.dispatch`).

Manual acks with a prefetch: a message is acked only once Celery's broker took the task
(task id = event id, so a redelivery is recognisable), or once an unparseable message
sits in `<queue>.dlq` with its reason. While Celery's broker (Redis) is down, messages
are held with a growing delay and requeued: none is lost, none spins. No message is left
unacked by an exception: one nobody expected is logged with its traceback and the message
dead-lettered with it as the reason; a DLQ that cannot be reached requeues it after a
backoff. `run()` can be called again after it failed (the role's supervisor does).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Final, Protocol

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)

from core import correlation
from core.backoff import Backoff
from core.events import InvalidEvent, NewOrderEvent, decode_new_order
from messaging.metrics import DELIVERIES
from messaging.topology import Topology, closed_on_failure, declare_topology, open_robust

log = logging.getLogger(__name__)

DLQ_REASON_HEADER: Final = "x-dlq-reason"
# On shutdown, in-flight hand-offs get this long to finish and ack; the rest are requeued.
SHUTDOWN_GRACE_SECONDS: Final = 5.0
# A processing queue that cannot take a task raises one of these (a connection error).
_HANDOFF_ERRORS = (OSError, TimeoutError)
_AMQP_ERRORS = (aio_pika.exceptions.AMQPError, OSError, TimeoutError)


class ProcessingQueue(Protocol):
    """Takes a new order for processing (`processing.dispatch.CeleryDispatch`)."""

    async def submit(self, event: NewOrderEvent, correlation_id: str | None) -> None:
        """Returns once the task is queued; OSError or TimeoutError when it could not be."""
        ...


@dataclass(frozen=True, slots=True)
class ConsumerConfig:
    url: str
    topology: Topology
    prefetch: int = 100
    timeout_seconds: float = 10.0
    reconnect_seconds: float = 1.0  # a lost connection tries again this often


class EventConsumer:
    def __init__(self, config: ConsumerConfig, processing: ProcessingQueue) -> None:
        self._config = config
        self._processing = processing
        self._topology = config.topology
        self._broker_backoff = Backoff()
        self._dlq_backoff = Backoff()
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractChannel | None = None
        self._queue: AbstractQueue | None = None
        self._consumer_tag = ""
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._stopping = asyncio.Event()
        self.ready = asyncio.Event()  # set once consuming
        self.handed_off = 0

    @property
    def connected(self) -> bool:
        """True while the connection to RabbitMQ is up (readiness)."""
        return self._connection is not None and self._connection.connected.is_set()

    @property
    def broker_failures(self) -> int:
        """Consecutive failed hand-offs to Celery's broker (0 while it answers)."""
        return self._broker_backoff.failures

    async def run(self) -> None:
        """Consume until cancelled; waits (with backoff) for RabbitMQ to answer at start."""
        backoff = Backoff()
        while self._connection is None:
            try:
                await self._start()
            except _AMQP_ERRORS as exc:
                delay = backoff.next()
                if backoff.failures == 1:
                    log.warning("consumer cannot reach RabbitMQ, retrying error=%r", exc)
                await asyncio.sleep(delay)
        try:
            await asyncio.Future()  # the robust connection consumes and reconnects by itself
        finally:
            await self._stop(self._connection)
            self._connection = self._channel = self._queue = None
            self.ready.clear()
            self._stopping.clear()

    async def _stop(self, connection: AbstractRobustConnection) -> None:
        """Stop receiving, let in-flight hand-offs finish and ack (bounded), then close."""
        self._stopping.set()  # messages held for a broker outage go back at once
        try:
            async with asyncio.timeout(SHUTDOWN_GRACE_SECONDS):
                if self._queue is not None:
                    await self._queue.cancel(self._consumer_tag)
                await self._idle.wait()
        except _AMQP_ERRORS as exc:
            log.warning("consumer stopped before its in-flight messages finished error=%r", exc)
        finally:
            await connection.close()

    async def _start(self) -> None:
        connection = await open_robust(
            self._config.url,
            connect_timeout=self._config.timeout_seconds,
            reconnect_interval=self._config.reconnect_seconds,
        )
        async with closed_on_failure(connection):
            channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
            await channel.set_qos(prefetch_count=self._config.prefetch)
            await declare_topology(channel, self._topology)
            queue = await channel.get_queue(self._topology.new_order_queue)
            self._consumer_tag = await queue.consume(self._on_message, no_ack=False)
        self._connection, self._channel, self._queue = connection, channel, queue
        self.ready.set()
        log.info("consumer started queue=%s", self._topology.new_order_queue)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        self._in_flight += 1
        self._idle.clear()
        try:
            await self._handle(message)
        except _AMQP_ERRORS as exc:
            # The channel went away under us: the broker redelivers what we did not ack.
            log.warning(
                "channel lost while handling message_id=%s error=%r", message.message_id, exc
            )
        except Exception as exc:  # no message stays unacked by a bug: logged, dead-lettered
            log.exception("consumer failed on message_id=%s, dead-lettering it", message.message_id)
            await self._reject(message, f"unexpected {type(exc).__name__}: {exc}")
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()

    async def _handle(self, message: AbstractIncomingMessage) -> None:
        correlation.correlation_id.set(message.correlation_id or correlation.NONE)
        try:
            event = decode_new_order(message.body)
        except InvalidEvent as exc:
            await self._reject(message, str(exc))
            return
        try:
            await self._processing.submit(event, message.correlation_id)
        except _HANDOFF_ERRORS as exc:
            delay = self._broker_backoff.next()
            if self._broker_backoff.failures == 1:
                log.warning(
                    "celery broker unreachable, holding messages order_id=%s error=%r",
                    event.order_id,
                    exc,
                )
            await self._requeue_after(message, delay)  # no redelivery loop while Redis is down
            DELIVERIES.labels("requeued").inc()
            return
        if self._broker_backoff.failures:
            log.info("celery broker reachable again order_id=%s", event.order_id)
        self._broker_backoff.reset()
        await message.ack()
        DELIVERIES.labels("acked").inc()
        self.handed_off += 1

    async def _requeue_after(self, message: AbstractIncomingMessage, delay: float) -> None:
        """Hold the message for `delay` (less when shutting down), then put it back."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await self._stopping.wait()
        await message.nack(requeue=True)

    async def _reject(self, message: AbstractIncomingMessage, reason: str) -> None:
        """To the DLQ with its reason; if even that fails, back on its queue after a backoff."""
        try:
            await self._dead_letter(message, reason)
            self._dlq_backoff.reset()
        except _AMQP_ERRORS as error:
            log.warning("dead-lettering failed message_id=%s error=%r", message.message_id, error)
            with contextlib.suppress(*_AMQP_ERRORS):  # a lost channel redelivers it anyway
                await self._requeue_after(message, self._dlq_backoff.next())

    async def _dead_letter(self, message: AbstractIncomingMessage, reason: str) -> None:
        """Park an unparseable message in the DLQ with its reason, then ack the original."""
        assert self._channel is not None
        parked = aio_pika.Message(
            message.body,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            content_type=message.content_type,
            message_id=message.message_id,
            headers={**(message.headers or {}), DLQ_REASON_HEADER: reason[:500]},
        )
        async with asyncio.timeout(self._config.timeout_seconds):
            await self._channel.default_exchange.publish(
                parked, routing_key=self._topology.dlq, mandatory=True
            )
        await message.ack()
        DELIVERIES.labels("dead_lettered").inc()
        log.warning(
            "message dead-lettered queue=%s message_id=%s reason=%s",
            self._topology.dlq,
            message.message_id,
            reason,
        )
