"""The order workflow's activities, methods of a class that owns its clients.

`publish_event` puts one event on RabbitMQ (confirmed, routed) and records it in the
outbox; `expire_order` cancels an unpaid order through a conditional update. Both may
run more than once (Temporal retries them): both are idempotent by effect.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol
from uuid import UUID

from temporalio import activity

from activities.names import ACTIVITY_EXPIRE_ORDER, ACTIVITY_PUBLISH_EVENT
from activities.types import ExpireInput, ExpireResult, PublishInput, PublishResult
from core import correlation
from usecases.orders import Orders
from usecases.outbox import Outbox


class EventPublisher(Protocol):
    """Puts one event on the broker; returns only once the broker confirmed it."""

    async def publish(
        self, event_type: str, body: bytes, event_id: str, correlation_id: str | None = None
    ) -> None: ...


class OrderActivities:
    def __init__(self, orders: Orders, outbox: Outbox, publisher: EventPublisher) -> None:
        self._orders = orders
        self._outbox = outbox
        self._publisher = publisher

    @activity.defn(name=ACTIVITY_PUBLISH_EVENT)
    async def publish_event(self, event: PublishInput) -> PublishResult:
        correlation.correlation_id.set(event.correlation_id or correlation.NONE)
        attempt = activity.info().attempt
        activity.logger.debug(
            "publishing order_id=%s event_id=%s event_type=%s attempt=%d",
            event.order_id,
            event.event_id,
            event.event_type,
            attempt,
        )
        await self._publisher.publish(
            event.event_type, event.body.encode(), event.event_id, event.correlation_id or None
        )
        published_at = await self._outbox.record_published(UUID(event.event_id))
        if published_at is None:
            activity.logger.warning(
                "published event has no outbox row order_id=%s event_id=%s",
                event.order_id,
                event.event_id,
            )
            published_at = datetime.now(UTC)
        activity.logger.info(
            "event published order_id=%s event_id=%s event_type=%s attempt=%d",
            event.order_id,
            event.event_id,
            event.event_type,
            attempt,
        )
        return PublishResult(published_at=published_at)

    @activity.defn(name=ACTIVITY_EXPIRE_ORDER)
    async def expire_order(self, order: ExpireInput) -> ExpireResult:
        # The cancel's outbox row carries the order's correlation id.
        correlation.correlation_id.set(order.correlation_id or correlation.NONE)
        expired = await self._orders.expire(order_id=UUID(order.order_id), user_id=order.user_id)
        activity.logger.info(
            "payment timeout order_id=%s canceled=%s", order.order_id, expired is not None
        )
        return ExpireResult(canceled=expired is not None)
