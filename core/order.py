"""The order aggregate and its one JSON shape (API responses, list pages and cache entries)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson

from core.lifecycle import OrderStatus
from core.money import order_total, quantize, to_json_number


@dataclass(frozen=True, slots=True)
class OrderItem:
    product_id: int
    quantity: int
    price: Decimal

    def to_dict(self) -> dict[str, Any]:
        return public_item(self.product_id, self.quantity, to_json_number(self.price))

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> OrderItem:
        return cls(
            product_id=int(raw["product_id"]),
            quantity=int(raw["quantity"]),
            price=quantize(Decimal(str(raw["price"]))),
        )


def total_of(items: tuple[OrderItem, ...]) -> Decimal:
    return order_total((i.quantity, i.price) for i in items)


def items_to_json(items: tuple[OrderItem, ...]) -> str:
    return orjson.dumps([i.to_dict() for i in items]).decode()


def items_from_json(raw: list[dict[str, Any]]) -> tuple[OrderItem, ...]:
    return tuple(OrderItem.from_dict(i) for i in raw)


@dataclass(frozen=True, slots=True)
class Order:
    id: UUID
    user_id: int
    items: tuple[OrderItem, ...]
    total_price: Decimal
    status: OrderStatus
    created_at: datetime
    updated_at: datetime
    version: int = 1

    def to_public(self) -> dict[str, Any]:
        """The order as every route returns it (the contract's shape)."""
        return public_order(
            str(self.id),
            self.user_id,
            [i.to_dict() for i in self.items],
            to_json_number(self.total_price),
            self.status.value,
            self.created_at,
            self.updated_at,
        )


def public_item(product_id: int, quantity: int, price: float) -> dict[str, Any]:
    """One line of an order in the contract's shape."""
    return {"product_id": product_id, "quantity": quantity, "price": price}


def public_order(
    order_id: str,
    user_id: int,
    items: list[dict[str, Any]],
    total_price: float,
    status: str,
    created_at: datetime,
    updated_at: datetime,
) -> dict[str, Any]:
    """The contract's shape, the one place it is spelled. orjson writes the datetimes as
    `isoformat()` would (tests/unit/test_order_codec.py)."""
    return {
        "id": order_id,
        "user_id": user_id,
        "items": items,
        "total_price": total_price,
        "status": status,
        "created_at": created_at,
        "updated_at": updated_at,
    }


def public_items(stored: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored items (as `items_to_json` wrote them, keys in any order) in the public shape."""
    return [public_item(i["product_id"], i["quantity"], float(i["price"])) for i in stored]


@dataclass(frozen=True, slots=True)
class OrderView:
    """An order as its owner reads it: the public JSON, encoded once, and what the edge
    needs beside it (the owner for the ownership check, the version for the ETag)."""

    id: UUID
    user_id: int
    version: int
    body: bytes


@dataclass(frozen=True, slots=True)
class OrderPage:
    """A page of a user's orders, newest first: each in the public shape (`public_order`),
    and the keyset position (created_at, id) of the last, for the next page's cursor."""

    orders: list[dict[str, Any]]
    last: tuple[datetime, UUID] | None


def view_of(order: Order) -> OrderView:
    return OrderView(order.id, order.user_id, order.version, encode_order(order))


def encode_order(order: Order) -> bytes:
    return orjson.dumps(order.to_public())


# The Redis cache entry: a header line "<version> <user_id>" and the public JSON as it is
# served, so a cached read checks the owner and answers without decoding the JSON.
def encode_cache_entry(view: OrderView) -> bytes:
    return b"%d %d\n%s" % (view.version, view.user_id, view.body)


def decode_cache_entry(order_id: UUID, raw: bytes) -> OrderView:
    """The cached view; ValueError for an entry of another shape (an older release's)."""
    header, found, body = raw.partition(b"\n")
    if not found or not body.startswith(b"{"):
        raise ValueError("not an order cache entry")
    version, user_id = header.split(b" ")
    return OrderView(order_id, int(user_id), int(version), body)
