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
    encode_orders,
    items_from_json,
    items_to_json,
    total_of,
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


def test_encode_orders_is_a_list_of_the_same_shape() -> None:
    orders = [_order(), _order(status=OrderStatus.PENDING)]
    assert orjson.loads(encode_orders(orders)) == [orjson.loads(encode_order(o)) for o in orders]
    assert encode_orders([]) == b"[]"


def test_cache_entry_round_trips_with_version() -> None:
    order = _order()
    assert decode_cache_entry(encode_cache_entry(order)) == order
    assert orjson.loads(encode_cache_entry(order))["version"] == 3


def test_cache_entry_keeps_offsets_and_exact_amounts() -> None:
    tz = timezone(timedelta(hours=-5))
    order = _order(
        created_at=datetime(2024, 1, 1, tzinfo=tz),
        updated_at=datetime(2024, 1, 2, tzinfo=tz),
        items=(OrderItem(7, 3, Decimal("0.10")),),
        total_price=Decimal("0.30"),
    )
    decoded = decode_cache_entry(encode_cache_entry(order))
    assert decoded == order
    assert decoded.created_at.utcoffset() == timedelta(hours=-5)
    assert decoded.total_price == Decimal("0.30")


def test_items_json_round_trip() -> None:
    assert items_from_json(orjson.loads(items_to_json(ITEMS))) == ITEMS


def test_total_of_items() -> None:
    assert total_of(ITEMS) == Decimal("59.98")
