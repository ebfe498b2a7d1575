"""Orders: a new order, a status change, the list's query, and the order as returned."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.cursor import Cursor
from api.schemas.fields import FORBID, Amount, ProductId, Quantity
from core.lifecycle import OrderStatus
from core.money import MAX_AMOUNT
from core.order import OrderItem, total_of
from core.timeline import TimelineKind


class OrderItemIn(BaseModel):
    model_config = FORBID

    product_id: ProductId
    quantity: Quantity
    price: Amount


class OrderIn(BaseModel):
    """A new order; the server sets its id, owner, status and total."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"items": [{"product_id": 1, "quantity": 3, "price": 19.99}]}]
        },
    )

    items: Annotated[list[OrderItemIn], Field(min_length=1, max_length=100)]

    @model_validator(mode="after")
    def _total_fits(self) -> OrderIn:
        if total_of(self.to_items()) > MAX_AMOUNT:
            raise ValueError(f"total_price must not exceed {MAX_AMOUNT}")
        return self

    def to_items(self) -> tuple[OrderItem, ...]:
        return tuple(OrderItem(i.product_id, i.quantity, i.price) for i in self.items)


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"status": "PAID"}]})

    status: OrderStatus


class UserPath(BaseModel):
    user_id: int  # any integer: one that is not the caller's own is 403


class OrderListQuery(BaseModel):
    """Query parameters of a user's order list (keyset pagination, newest first)."""

    model_config = ConfigDict(extra="ignore")

    limit: Annotated[int, Field(ge=1, le=200, description="page size")] = 50
    status: Annotated[OrderStatus | None, Field(description="only orders in this status")] = None
    cursor: Annotated[
        Cursor | None,
        Field(description="opaque cursor from the previous page's Link header"),
    ] = None


class OrderItemOut(BaseModel):
    product_id: int
    quantity: int
    price: Annotated[float, Field(description="exact decimal amount, at most 2 places")]


class OrderOut(BaseModel):
    """The order, as every route returns it."""

    model_config = ConfigDict(extra="forbid")

    id: UUID
    user_id: int
    items: list[OrderItemOut]
    total_price: Annotated[
        float, Field(description="sum of quantity x price, computed by the server, 2 places")
    ]
    status: OrderStatus
    created_at: datetime
    updated_at: datetime


class TimelineEntryOut(BaseModel):
    """One step of an order's life, read from its Temporal workflow's history."""

    time: datetime
    kind: TimelineKind
    details: dict[str, Any]
