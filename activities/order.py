"""The order workflow's activities, methods of a class that owns its clients.

`publish_event` puts one event on RabbitMQ (confirmed, routed) and records it in the
outbox; `expire_order` cancels an unpaid order through a conditional update;
`check_processing` reads whether `process_order` recorded the order and how much waits
before it in RabbitMQ and Celery (through the `ProcessingProbe` port, which `service/`
plugs in). Each may run more than once (Temporal retries them): each is idempotent. An input that
can never work (an id that is not a UUID) fails at once and for good (a non-retryable
ApplicationError), so the workflow parks the order instead of retrying forever. A publish
that finds RabbitMQ away waits for it at the process's `BrokerGate` (broker_gate.py), and
is retried 1 s after a wait that ended with the broker still away, not at its backoff.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Protocol
from uuid import UUID

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.broker_gate import RETRY_AFTER, BrokerGate
from activities.names import (
    ACTIVITY_CHECK_PROCESSING,
    ACTIVITY_EXPIRE_ORDER,
    ACTIVITY_PUBLISH_EVENT,
)
from activities.types import (
    CheckInput,
    CheckResult,
    ExpireInput,
    ExpireResult,
    PublishInput,
    PublishResult,
)
from core import correlation
from core.envelope import EventEnvelope
from core.events import InvalidEvent
from core.registry import event_type as registered
from usecases.orders import Orders
from usecases.outbox import Outbox

INVALID_INPUT = "InvalidInput"  # the ApplicationError type of a poison input
BROKER_DOWN = "BrokerDown"  # RabbitMQ still away after the gate's wait: retried soon


def _publishable(event_type: str) -> None:
    """An event type the registry publishes; a non-retryable failure otherwise."""
    try:
        kind = registered(event_type)
    except InvalidEvent as exc:
        raise ApplicationError(str(exc), type=INVALID_INPUT, non_retryable=True) from exc
    if not kind.published:
        raise ApplicationError(
            f"{event_type} events are never published", type=INVALID_INPUT, non_retryable=True
        )


def _uuid(value: str, name: str) -> UUID:
    try:
        return UUID(value)
    except (ValueError, TypeError, AttributeError) as exc:
        raise ApplicationError(
            f"{name} is not a UUID: {value!r}", type=INVALID_INPUT, non_retryable=True
        ) from exc


class EventPublisher(Protocol):
    """Puts one event on the broker; returns only once the broker confirmed it."""

    async def publish(self, event: EventEnvelope) -> None: ...


class ProcessingProbe(Protocol):
    """Where an order's processing stands, for the workflow that heard no `processed`."""

    async def processed_at(self, order_id: UUID) -> datetime | None:
        """When `process_order` recorded the order; None when it has not."""
        ...

    async def waiting(self) -> int | None:
        """`new_order` messages and Celery tasks waiting, all orders'; None: unknown."""
        ...


class OrderActivities:
    def __init__(
        self,
        orders: Orders,
        outbox: Outbox,
        publisher: EventPublisher,
        processing: ProcessingProbe,
        gate: BrokerGate | None = None,
    ) -> None:
        """`gate`: where publishes wait while RabbitMQ is away (None: they fail at once)."""
        self._orders = orders
        self._outbox = outbox
        self._publisher = publisher
        self._processing = processing
        self._gate = gate

    @activity.defn(name=ACTIVITY_PUBLISH_EVENT)
    async def publish_event(self, publish: PublishInput) -> PublishResult:
        event = publish.event
        correlation.correlation_id.set(event.correlation_id or correlation.NONE)
        _uuid(event.aggregate_id, "order_id")
        event_id = _uuid(event.event_id, "event_id")
        _publishable(event.event_type)
        info = activity.info()
        attempt = info.attempt
        activity.logger.debug(
            "publishing order_id=%s event_id=%s event_type=%s attempt=%d",
            event.aggregate_id,
            event.event_id,
            event.event_type,
            attempt,
        )
        if self._gate is not None and not await self._gate.passable(local=info.is_local):
            raise ApplicationError(
                "RabbitMQ is unreachable", type=BROKER_DOWN, next_retry_delay=RETRY_AFTER
            )
        await self._publisher.publish(event)
        published_at = await self._outbox.record_published(event_id)
        if published_at is None:
            activity.logger.warning(
                "published event has no outbox row order_id=%s event_id=%s",
                event.aggregate_id,
                event.event_id,
            )
            published_at = datetime.now(UTC)
        # A first publish is recorded in its outbox row (published_at): DEBUG; a retry or
        # a republish says why, at INFO.
        level = logging.INFO if attempt > 1 or publish.reason else logging.DEBUG
        activity.logger.log(
            level,
            "event published order_id=%s event_id=%s event_type=%s attempt=%d%s",
            event.aggregate_id,
            event.event_id,
            event.event_type,
            attempt,
            f" reason={publish.reason}" if publish.reason else "",
        )
        return PublishResult(published_at, event.event_id, event.event_type, publish.reason)

    @activity.defn(name=ACTIVITY_EXPIRE_ORDER)
    async def expire_order(self, order: ExpireInput) -> ExpireResult:
        # The cancel's outbox row carries the order's correlation id.
        correlation.correlation_id.set(order.correlation_id or correlation.NONE)
        order_id = _uuid(order.order_id, "order_id")
        expired = await self._orders.expire(order_id=order_id, user_id=order.user_id)
        activity.logger.info(
            "payment timeout order_id=%s canceled=%s", order.order_id, expired is not None
        )
        return ExpireResult(canceled=expired is not None)

    @activity.defn(name=ACTIVITY_CHECK_PROCESSING)
    async def check_processing(self, order: CheckInput) -> CheckResult:
        correlation.correlation_id.set(order.correlation_id or correlation.NONE)
        processed_at = await self._processing.processed_at(_uuid(order.order_id, "order_id"))
        waiting = None if processed_at else await self._processing.waiting()
        activity.logger.info(
            "processing checked order_id=%s processed=%s waiting=%s",
            order.order_id,
            processed_at is not None,
            waiting,
        )
        return CheckResult(processed_at, waiting)
