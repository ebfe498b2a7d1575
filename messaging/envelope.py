"""An event on RabbitMQ: its envelope (core.envelope) as the message's AMQP properties, its
payload as the body, byte for byte (the contract's message: clients see the body only).

message_id is the event id, type the event type, correlation_id the request's, timestamp
when it happened; the aggregate (the order's id) and the W3C traceparent go in headers.
The consumer reads the envelope back from a message (`envelope_of`); a message without
the headers (published before they were, or by hand) takes them from its body.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Final

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from core.envelope import EventEnvelope
from core.events import NEW_ORDER, decode_new_order, json_object

AGGREGATE_HEADER: Final = "x-aggregate-id"
TRACEPARENT_HEADER: Final = "traceparent"


def event_message(event: EventEnvelope) -> aio_pika.Message:
    """The message that carries `event`: persistent, JSON, its envelope in the properties."""
    headers: dict[str, Any] = {AGGREGATE_HEADER: event.aggregate_id}
    if event.traceparent:
        headers[TRACEPARENT_HEADER] = event.traceparent
    return aio_pika.Message(
        event.payload.encode(),
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        content_type="application/json",
        message_id=event.event_id,
        type=event.event_type,
        correlation_id=event.correlation_id or None,
        timestamp=event.occurred_at,
        headers=headers,
    )


def envelope_of(message: AbstractIncomingMessage) -> EventEnvelope:
    """The envelope a message carries; InvalidEvent when neither its properties nor its
    body say what it is."""
    headers = message.headers or {}
    aggregate = _text(headers.get(AGGREGATE_HEADER))
    event_id, event_type = message.message_id, message.type
    if not (aggregate and event_id and event_type):
        body = json_object(message.body)  # what its properties lack, from its body
        aggregate = aggregate or str(body.get("order_id") or "")
        event_id = event_id or str(body.get("event_id") or "")
        event_type = event_type or str(body.get("event_type") or "")
    timestamp = message.timestamp
    return EventEnvelope(
        event_id=event_id,
        event_type=event_type,
        aggregate_id=aggregate,
        occurred_at=timestamp.replace(tzinfo=timestamp.tzinfo or UTC)
        if timestamp is not None
        else datetime.now(UTC),
        payload=message.body.decode(errors="replace"),
        correlation_id=message.correlation_id or "",
        traceparent=_text(headers.get(TRACEPARENT_HEADER)),
    )


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return "" if value is None else str(value)


def new_order_envelope(message: AbstractIncomingMessage) -> EventEnvelope:
    """The envelope of a `new_order` message, its body checked to be one (the contract's
    shape: the consumer dead-letters what it cannot read); InvalidEvent says why not."""
    event = decode_new_order(message.body)
    # The body is the contract's: its ids win over properties a hand may have set.
    return replace(
        envelope_of(message),
        event_id=str(event.event_id),
        event_type=NEW_ORDER,
        aggregate_id=str(event.order_id),
    )
