"""Events as the pipeline carries them: an event of core.events in its envelope."""

from __future__ import annotations

from datetime import datetime

from core.envelope import EventEnvelope
from core.events import Event, NewOrderEvent, StatusChangedEvent, encode_event


def envelope(event: Event, *, correlation_id: str = "", traceparent: str = "") -> EventEnvelope:
    """The envelope the outbox row of `event` would give."""
    data = event.to_dict()
    return EventEnvelope(
        event_id=str(event.event_id),
        event_type=data["event_type"],
        aggregate_id=str(event.order_id),
        occurred_at=_occurred(event),
        payload=encode_event(event).decode(),
        correlation_id=correlation_id,
        traceparent=traceparent,
    )


def _occurred(event: Event) -> datetime:
    if isinstance(event, NewOrderEvent):
        return event.created_at
    if isinstance(event, StatusChangedEvent):
        return event.changed_at
    return event.processed_at
