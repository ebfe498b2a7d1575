"""The order's one JSON shape and its cache entry: encode and decode round trip."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import orjson

from core.lifecycle import OrderStatus
from core.order import (
    Order,
    OrderItem,
    decode_cache_entry,
    encode_cache_entry,
    encode_order,
    items_from_json,
    items_to_json,
    public_items,
    public_order,
    total_of,
    view_of,
)

ITEMS = (OrderItem(1, 3, Decimal("19.99")), OrderItem(2, 1, Decimal("0.01")))


def _order(**changes: Any) -> Order:
    created = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    order = Order(
        id=uuid.uuid4(),
        user_id=42,
        items=ITEMS,
        total_price=total_of(ITEMS),
        status=OrderStatus.PAID,
        created_at=created,
        updated_at=created + timedelta(seconds=5),
        version=3,
    )
    return replace(order, **changes)


def test_public_shape_is_the_contracts() -> None:
    order = _order()
    data = orjson.loads(encode_order(order))
    assert data == {
        "id": str(order.id),
        "user_id": 42,
        "items": [
            {"product_id": 1, "quantity": 3, "price": 19.99},
            {"product_id": 2, "quantity": 1, "price": 0.01},
        ],
        "total_price": 59.98,
        "status": "PAID",
        "created_at": "2024-05-06T07:08:09.123456+00:00",
        "updated_at": "2024-05-06T07:08:14.123456+00:00",
    }
    assert b'"total_price":59.98' in encode_order(order)


def test_a_row_in_the_public_shape_is_byte_for_byte_the_orders() -> None:
    """The list builds each order from its row (items as stored, the amount as a double),
    not from an Order: the bytes must be those of the order itself."""
    order = _order()
    stored_items = orjson.loads(items_to_json(order.items))
    stored_items = [dict(reversed(i.items())) for i in stored_items]  # jsonb's key order
    row = public_order(
        str(order.id),
        order.user_id,
        public_items(stored_items),
        float(order.total_price),
        order.status.value,
        order.created_at,
        order.updated_at,
    )
    assert orjson.dumps(row) == encode_order(order)


def test_datetimes_are_written_as_isoformat_writes_them() -> None:
    for at in (
        datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),
        datetime(2024, 5, 6, 7, 8, 9, 1000, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=-5))),
    ):
        order = _order(created_at=at, updated_at=at)
        data = orjson.loads(encode_order(order))
        assert data["created_at"] == data["updated_at"] == at.isoformat()
        assert data["id"] == str(order.id)


def test_cache_entry_round_trips_the_view() -> None:
    order = _order()
    view = view_of(order)
    raw = encode_cache_entry(view)
    assert raw.startswith(b"3 42\n")
    assert decode_cache_entry(order.id, raw) == view
    assert view.body == encode_order(order)


def test_cache_entry_of_another_shape_is_refused() -> None:
    order = _order()
    previous = orjson.dumps({**order.to_public(), "version": 3})  # the release before's
    for raw in (previous, b"", b"3 42", b"3\n{}", b"x y\n{}", b"3 42 1\n{}"):
        try:
            decode_cache_entry(order.id, raw)
        except ValueError:
            continue
        raise AssertionError(f"accepted {raw!r}")


def test_items_json_round_trip() -> None:
    assert items_from_json(orjson.loads(items_to_json(ITEMS))) == ITEMS


def test_total_of_items() -> None:
    assert total_of(ITEMS) == Decimal("59.98")
