"""An event on RabbitMQ: its envelope (core.envelope) as the message's AMQP properties, its
payload as the body, byte for byte (the contract's message: clients see the body only).

message_id is the event id, type the event type, correlation_id the request's, timestamp
when it happened; the aggregate (the order's id) and the W3C traceparent go in headers.
The consumer reads the envelope back from a message (`envelope_of`); a message without
the aggregate header (published before it was, or by hand) takes its ids from its body.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from core.envelope import EventEnvelope
from core.events import NEW_ORDER, InvalidEvent, decode_new_order, json_object

AGGREGATE_HEADER: Final = "x-aggregate-id"
# Not "traceparent": that one is the transport's (aio-pika's instrumentation), this the writer's.
TRACEPARENT_HEADER: Final = "x-event-traceparent"


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


def resent(
    message: AbstractIncomingMessage, headers: dict[str, Any], *, default_type: str = ""
) -> aio_pika.Message:
    """`message` as a new persistent one with `headers` (to the DLQ, or back from it): its
    body and envelope properties as they came; `default_type` when it had none."""
    return aio_pika.Message(
        message.body,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        content_type=message.content_type,
        message_id=message.message_id,
        type=message.type or default_type or None,
        correlation_id=message.correlation_id,
        timestamp=message.timestamp,
        headers=headers,
    )


def envelope_of(message: AbstractIncomingMessage) -> EventEnvelope:
    """The envelope a message carries in its properties; one published without it (before
    it was, or by hand: no aggregate header) takes its ids from its body. InvalidEvent when
    that body is no JSON object."""
    headers = message.headers or {}
    aggregate = _text(headers.get(AGGREGATE_HEADER))
    event_id, event_type = message.message_id or "", message.type or ""
    if not aggregate:
        body = json_object(message.body)
        aggregate = str(body.get("order_id") or "")
        event_id = str(body.get("event_id") or "")
        event_type = str(body.get("event_type") or "")
    at = message.timestamp
    return EventEnvelope(
        event_id=event_id,
        event_type=event_type,
        aggregate_id=aggregate,
        occurred_at=datetime.now(UTC) if at is None else at.replace(tzinfo=at.tzinfo or UTC),
        payload=message.body.decode(errors="replace"),
        correlation_id=message.correlation_id or "",
        traceparent=_text(headers.get(TRACEPARENT_HEADER)),
    )


def new_order_envelope(message: AbstractIncomingMessage) -> EventEnvelope:
    """The envelope of a `new_order` message, its body checked to be one (the contract's
    shape: the consumer dead-letters what it cannot read); InvalidEvent says why not. The
    ids stay in the envelope's form (text): nothing here parses them again."""
    decode_new_order(message.body)
    event = envelope_of(message)
    if event.event_type != NEW_ORDER:
        raise InvalidEvent(f"message type is {event.event_type!r}, not {NEW_ORDER!r}")
    return event


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return "" if value is None else str(value)
