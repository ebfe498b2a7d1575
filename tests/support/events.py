"""Events as the pipeline carries them: a payload of core.events in its envelope."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from core.envelope import EventEnvelope
from core.events import Event, NewOrderEvent, encode_event
from core.order import OrderItem


def envelope(
    event: Event,
    *,
    event_id: uuid.UUID | None = None,
    order_id: uuid.UUID | None = None,
    correlation_id: str = "",
    traceparent: str = "",
) -> EventEnvelope:
    """The envelope the outbox row of `event` would give (new ids unless given)."""
    event_id = event_id or uuid.uuid4()
    order_id = order_id or uuid.uuid4()
    return EventEnvelope(
        event_id=str(event_id),
        event_type=event.EVENT_TYPE,
        aggregate_id=str(order_id),
        occurred_at=event.occurred_at,
        payload=encode_event(event_id, order_id, event).decode(),
        correlation_id=correlation_id,
        traceparent=traceparent,
    )


def new_order_event() -> EventEnvelope:
    """A `new_order` event as the relay would carry it: its payload is the message body."""
    return envelope(
        NewOrderEvent(
            user_id=42,
            items=(OrderItem(1, 2, Decimal("9.99")),),
            total_price=Decimal("19.98"),
            created_at=datetime.now(UTC),
        )
    )
