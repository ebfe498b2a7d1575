"""The order aggregate and its one JSON shape (API responses and cache entries)."""

from __future__ import annotations

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
        return {
            "product_id": self.product_id,
            "quantity": self.quantity,
            "price": to_json_number(self.price),
        }

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
        return {
            "id": str(self.id),
            "user_id": self.user_id,
            "items": [i.to_dict() for i in self.items],
            "total_price": to_json_number(self.total_price),
            "status": self.status.value,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


def encode_order(order: Order) -> bytes:
    return orjson.dumps(order.to_public())


def encode_orders(orders: list[Order]) -> bytes:
    return orjson.dumps([o.to_public() for o in orders])


def encode_cache_entry(order: Order) -> bytes:
    """The Redis cache entry: the public shape plus the version."""
    return orjson.dumps({**order.to_public(), "version": order.version})


def decode_cache_entry(raw: bytes) -> Order:
    data = orjson.loads(raw)
    return Order(
        id=UUID(data["id"]),
        user_id=int(data["user_id"]),
        items=items_from_json(data["items"]),
        total_price=quantize(Decimal(str(data["total_price"]))),
        status=OrderStatus(data["status"]),
        created_at=datetime.fromisoformat(data["created_at"]),
        updated_at=datetime.fromisoformat(data["updated_at"]),
        version=int(data["version"]),
    )
