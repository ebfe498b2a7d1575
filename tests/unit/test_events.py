"""Event codecs: `new_order` round trips, the other events' shapes, bad messages refused."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import orjson
import pytest

from core.events import (
    InvalidEvent,
    NewOrderEvent,
    OrderProcessedEvent,
    StatusChangedEvent,
    decode_new_order,
    encode_event,
    parse_order_processed,
    parse_status_changed,
)
from core.lifecycle import OrderStatus
from core.order import Order, OrderItem, total_of

NOW = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
ITEMS = (OrderItem(1, 3, Decimal("19.99")), OrderItem(2, 1, Decimal("0.01")))


EVENT_ID, ORDER_ID = uuid.uuid4(), uuid.uuid4()


def _new_order() -> NewOrderEvent:
    order = Order(ORDER_ID, 7, ITEMS, total_of(ITEMS), OrderStatus.PENDING, NOW, NOW)
    return NewOrderEvent.for_order(order)


def test_new_order_round_trips() -> None:
    event = _new_order()
    assert decode_new_order(encode_event(EVENT_ID, ORDER_ID, event)) == event


def test_new_order_has_the_contracts_fields() -> None:
    """The envelope's ids, then the payload's fields: the contract's message, unchanged."""
    data = orjson.loads(encode_event(EVENT_ID, ORDER_ID, _new_order()))
    assert list(data)[:3] == ["event_id", "event_type", "order_id"]
    assert data == {
        "event_id": str(EVENT_ID),
        "event_type": "new_order",
        "order_id": str(ORDER_ID),
        "user_id": 7,
        "items": [
            {"product_id": 1, "quantity": 3, "price": 19.99},
            {"product_id": 2, "quantity": 1, "price": 0.01},
        ],
        "total_price": 59.98,
        "created_at": NOW.isoformat(),
    }


def test_status_changed_shape() -> None:
    event = StatusChangedEvent(7, OrderStatus.PENDING, OrderStatus.PAID, NOW)
    data = orjson.loads(encode_event(EVENT_ID, ORDER_ID, event))
    assert data["event_type"] == "order_status_changed"
    assert (data["old_status"], data["new_status"]) == ("PENDING", "PAID")
    assert data["order_id"] == str(ORDER_ID)
    assert data["changed_at"] == NOW.isoformat()


def test_order_processed_shape() -> None:
    event = OrderProcessedEvent(NOW)
    assert orjson.loads(encode_event(EVENT_ID, ORDER_ID, event)) == {
        "event_id": str(EVENT_ID),
        "event_type": "order_processed",
        "order_id": str(ORDER_ID),
        "processed_at": NOW.isoformat(),
    }


def _valid() -> dict[str, object]:
    data: dict[str, object] = orjson.loads(encode_event(EVENT_ID, ORDER_ID, _new_order()))
    return data


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[1, 2]",
        orjson.dumps({**_valid(), "event_type": "order_processed"}),
        orjson.dumps({k: v for k, v in _valid().items() if k != "order_id"}),
        orjson.dumps({**_valid(), "order_id": "nope"}),
        orjson.dumps({**_valid(), "user_id": "7"}),
        orjson.dumps({**_valid(), "user_id": True}),
        orjson.dumps({**_valid(), "total_price": "lots"}),
        orjson.dumps({**_valid(), "created_at": "yesterday"}),
        orjson.dumps({**_valid(), "items": [{"product_id": 1}]}),
        orjson.dumps({**_valid(), "event_id": 1}),
        orjson.dumps({**_valid(), "order_id": None}),
        orjson.dumps({**_valid(), "items": "many"}),
        orjson.dumps({**_valid(), "items": [7]}),
        orjson.dumps({"event_id": 1}),
    ],
    ids=[
        "not-json",
        "not-object",
        "other-type",
        "no-order-id",
        "bad-order-id",
        "user-id-string",
        "user-id-bool",
        "bad-total",
        "bad-date",
        "bad-item",
        "event-id-number",
        "order-id-null",
        "items-string",
        "item-number",
        "only-a-numeric-event-id",
    ],
)
def test_bad_messages_are_invalid_events(raw: bytes) -> None:
    with pytest.raises(InvalidEvent):
        decode_new_order(raw)


def test_status_changed_and_processed_round_trip() -> None:
    changed = StatusChangedEvent(7, OrderStatus.PAID, OrderStatus.SHIPPED, NOW)
    assert parse_status_changed(orjson.loads(encode_event(EVENT_ID, ORDER_ID, changed))) == changed
    done = OrderProcessedEvent(NOW)
    assert parse_order_processed(orjson.loads(encode_event(EVENT_ID, ORDER_ID, done))) == done


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("event_type", "new_order"),
        ("new_status", "LOST"),
        ("user_id", "7"),
        ("changed_at", "2024-05-06T07:08:09"),  # no offset
        ("order_id", "not-a-uuid"),
        ("event_id", 1),
        ("order_id", 12),
    ],
)
def test_bad_status_changed_is_an_invalid_event(field: str, value: object) -> None:
    changed = StatusChangedEvent(7, OrderStatus.PENDING, OrderStatus.PAID, NOW)
    data = {**orjson.loads(encode_event(EVENT_ID, ORDER_ID, changed)), field: value}
    with pytest.raises(InvalidEvent):
        parse_status_changed(data)


def test_processed_with_a_numeric_event_id_is_an_invalid_event() -> None:
    data = orjson.loads(encode_event(EVENT_ID, ORDER_ID, OrderProcessedEvent(NOW)))
    with pytest.raises(InvalidEvent):
        parse_order_processed({**data, "event_id": 1})


def test_processed_without_a_time_is_an_invalid_event() -> None:
    data = orjson.loads(encode_event(EVENT_ID, ORDER_ID, OrderProcessedEvent(NOW)))
    del data["processed_at"]
    with pytest.raises(InvalidEvent):
        parse_order_processed(data)
