"""Event payloads and their one codec each.

`new_order` is the contract's message on RabbitMQ; `order_status_changed` follows each
status change; `order_processed` is written by the Celery task and tells the order's
workflow that processing happened. A payload class holds what happened; the event's id
and its order's are the envelope's (core.envelope), written beside the payload's fields
in the event's JSON (`encode_event`), as the contract's message has them. Every writer
and reader uses these functions; core.registry says where each type goes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Final
from uuid import UUID

import orjson

# The codec's error and its JSON reader, as its users import them (the fields' home).
from core.event_fields import InvalidEvent as InvalidEvent
from core.event_fields import (
    expect_type,
    int_field,
    list_field,
    timestamp_field,
    uuid_field,
)
from core.event_fields import json_object as json_object
from core.lifecycle import OrderStatus
from core.money import quantize, to_json_number
from core.order import Order, OrderItem

NEW_ORDER: Final = "new_order"
STATUS_CHANGED: Final = "order_status_changed"
ORDER_PROCESSED: Final = "order_processed"


@dataclass(frozen=True, slots=True)
class NewOrderEvent:
    """The payload of a `new_order` event: the order as it was created."""

    EVENT_TYPE: ClassVar[str] = NEW_ORDER
    user_id: int
    items: tuple[OrderItem, ...]
    total_price: Decimal
    created_at: datetime

    @classmethod
    def for_order(cls, order: Order) -> NewOrderEvent:
        return cls(order.user_id, order.items, order.total_price, order.created_at)

    @property
    def occurred_at(self) -> datetime:
        return self.created_at

    def fields(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "items": [i.to_dict() for i in self.items],
            "total_price": to_json_number(self.total_price),
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class StatusChangedEvent:
    """The payload of an `order_status_changed` event."""

    EVENT_TYPE: ClassVar[str] = STATUS_CHANGED
    user_id: int
    old_status: OrderStatus
    new_status: OrderStatus
    changed_at: datetime

    @property
    def occurred_at(self) -> datetime:
        return self.changed_at

    def fields(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "old_status": self.old_status.value,
            "new_status": self.new_status.value,
            "changed_at": self.changed_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class OrderProcessedEvent:
    """The payload of an `order_processed` event."""

    EVENT_TYPE: ClassVar[str] = ORDER_PROCESSED
    processed_at: datetime

    @property
    def occurred_at(self) -> datetime:
        return self.processed_at

    def fields(self) -> dict[str, Any]:
        return {"processed_at": self.processed_at.isoformat()}


Event = NewOrderEvent | StatusChangedEvent | OrderProcessedEvent


def event_dict(event_id: UUID, order_id: UUID, event: Event) -> dict[str, Any]:
    """An event as its JSON object: its ids and type (the envelope's), then its payload's
    fields, in the order the contract's message has them."""
    return {
        "event_id": str(event_id),
        "event_type": event.EVENT_TYPE,
        "order_id": str(order_id),
        **event.fields(),
    }


def encode_event(event_id: UUID, order_id: UUID, event: Event) -> bytes:
    """The event's JSON text: the outbox row's payload, RabbitMQ's message body."""
    return orjson.dumps(event_dict(event_id, order_id, event))


def decode_new_order(raw: bytes) -> NewOrderEvent:
    """Parse and validate a `new_order` message; InvalidEvent says why it is not one."""
    return parse_new_order(json_object(raw))


def _ids(data: Mapping[str, Any]) -> None:
    """The event's ids are the envelope's; here they are only checked to be UUIDs."""
    uuid_field(data["event_id"], "event_id")
    uuid_field(data["order_id"], "order_id")


def parse_new_order(data: Mapping[str, Any]) -> NewOrderEvent:
    """The payload of a `new_order` event's JSON object, its ids checked."""
    expect_type(data, NEW_ORDER)
    try:
        _ids(data)
        return NewOrderEvent(
            user_id=int_field(data["user_id"], "user_id"),
            items=tuple(OrderItem.from_dict(i) for i in list_field(data["items"], "items")),
            total_price=quantize(Decimal(str(data["total_price"]))),
            created_at=timestamp_field(data["created_at"], "created_at"),
        )
    except InvalidEvent:
        raise  # already says which field
    except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
        raise InvalidEvent(f"bad field: {exc!r}") from exc


def parse_status_changed(data: Mapping[str, Any]) -> StatusChangedEvent:
    expect_type(data, STATUS_CHANGED)
    try:
        _ids(data)
        return StatusChangedEvent(
            user_id=int_field(data["user_id"], "user_id"),
            old_status=OrderStatus(data["old_status"]),
            new_status=OrderStatus(data["new_status"]),
            changed_at=timestamp_field(data["changed_at"], "changed_at"),
        )
    except InvalidEvent:
        raise  # already says which field
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidEvent(f"bad field: {exc!r}") from exc


def parse_order_processed(data: Mapping[str, Any]) -> OrderProcessedEvent:
    expect_type(data, ORDER_PROCESSED)
    try:
        _ids(data)
        return OrderProcessedEvent(
            processed_at=timestamp_field(data["processed_at"], "processed_at"),
        )
    except InvalidEvent:
        raise  # already says which field
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidEvent(f"bad field: {exc!r}") from exc
