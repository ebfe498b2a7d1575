"""The consumer: `new_order` messages from RabbitMQ handed to processing (Celery's
`process_order`, through `processing.dispatch`).

Manual acks with a prefetch: a message is acked only once Celery's broker took the task
(task id = event id, so a redelivery is recognisable), or once an unparseable message
sits in `<queue>.dlq` with its reason. While Celery's broker (Redis) is down, messages
are held with a growing delay and requeued: none is lost, none spins. No message is left
unacked by an exception: one nobody expected is logged with its traceback and the message
dead-lettered with it as the reason; a DLQ that cannot be reached requeues it after a
backoff. `run()` can be called again after it failed (the role's supervisor does).
Reading a message's envelope (its body checked): messaging.envelope; the dead letters:
messaging.deadletter.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Final, Protocol

from aio_pika.abc import (
    AbstractChannel,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)

from core import correlation
from core.backoff import Backoff
from core.envelope import EventEnvelope
from core.events import InvalidEvent
from messaging.deadletter import DLQ_REASON_HEADER, DeadLetters
from messaging.envelope import new_order_envelope
from messaging.failures import AMQP_FAILURES
from messaging.metrics import DELIVERIES
from messaging.topology import Topology, closed_on_failure, declare_topology, open_robust

log = logging.getLogger(__name__)

__all__ = ["DLQ_REASON_HEADER", "ConsumerConfig", "EventConsumer", "ProcessingQueue"]

# On shutdown, in-flight hand-offs get this long to finish and ack; the rest are requeued.
SHUTDOWN_GRACE_SECONDS: Final = 5.0
# A processing queue that cannot take a task raises one of these (a connection error).
_HANDOFF_ERRORS = (OSError, TimeoutError)


class ProcessingQueue(Protocol):
    """Takes a new order for processing (`processing.dispatch.CeleryDispatch`)."""

    async def submit(self, event: EventEnvelope) -> None:
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
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractChannel | None = None
        self._queue: AbstractQueue | None = None
        self._consumer_tag = ""
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._stopping = asyncio.Event()
        self._dead = DeadLetters(
            config.topology.dlq, timeout_seconds=config.timeout_seconds, stopping=self._stopping
        )
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
            except AMQP_FAILURES as exc:
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
        except AMQP_FAILURES as exc:
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
        except AMQP_FAILURES as exc:
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
            event = new_order_envelope(message)
        except InvalidEvent as exc:
            await self._reject(message, str(exc))
            return
        try:
            await self._processing.submit(event)
        except _HANDOFF_ERRORS as exc:
            delay = self._broker_backoff.next()
            if self._broker_backoff.failures == 1:
                log.warning(
                    "celery broker unreachable, holding messages order_id=%s error=%r",
                    event.aggregate_id,
                    exc,
                )
            await self._dead.requeue_after(message, delay)  # no redelivery loop while Redis is down
            DELIVERIES.labels("requeued").inc()
            return
        if self._broker_backoff.failures:
            log.info("celery broker reachable again order_id=%s", event.aggregate_id)
        self._broker_backoff.reset()
        await message.ack()
        DELIVERIES.labels("acked").inc()
        self.handed_off += 1

    async def _reject(self, message: AbstractIncomingMessage, reason: str) -> None:
        assert self._channel is not None
        await self._dead.reject(self._channel, message, reason)
