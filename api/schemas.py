"""Request and response models: they validate input and feed the OpenAPI document.

Responses are serialized by the core's codec (`core.order.encode_order`); the response
models here document that shape, and the tests check the two agree.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from api.cursor import Cursor
from core.emails import SPECIAL_USE_PATTERN, normalize_email
from core.lifecycle import OrderStatus
from core.money import MAX_AMOUNT
from core.order import OrderItem, total_of
from core.timeline import TimelineKind

_FORBID = ConfigDict(extra="forbid")

MAX_INT64 = 2**63 - 1


def _not_bool_or_text(value: object) -> object:
    # JSON true is not 1, and "7" is not 7: only JSON numbers are integers here.
    if isinstance(value, bool | str):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


# An amount as a decimal string: > 0, at most 10 digits before the point and 2 after.
AMOUNT_PATTERN = r"^([1-9][0-9]{0,9}(\.[0-9]{1,2})?|0?\.(0[1-9]|[1-9][0-9]?))$"
_AMOUNT_TEXT = re.compile(AMOUNT_PATTERN)


def _amount_input(value: object) -> object:
    if isinstance(value, bool):
        raise PydanticCustomError("decimal_type", "Input should be a valid number")
    if isinstance(value, str) and not _AMOUNT_TEXT.fullmatch(value):
        raise PydanticCustomError(
            "decimal_parsing", "Input should be a decimal number > 0 with at most 2 decimals"
        )
    return value


# JSON integers (bigint in PostgreSQL). The constraints come before the validator, so
# the document shows them as minimum / maximum.
ProductId = Annotated[int, Field(ge=1, le=MAX_INT64), BeforeValidator(_not_bool_or_text)]
Quantity = Annotated[int, Field(ge=1, le=10000), BeforeValidator(_not_bool_or_text)]

# numeric(12,2): > 0, at most 2 decimals, at most MAX_AMOUNT; a JSON number or its text.
Amount = Annotated[
    Decimal,
    Field(gt=0, le=MAX_AMOUNT, decimal_places=2),
    BeforeValidator(_amount_input),
    WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "number",
                    "exclusiveMinimum": 0,
                    "maximum": float(MAX_AMOUNT),
                    "multipleOf": 0.01,
                },
                {"type": "string", "pattern": AMOUNT_PATTERN},
            ],
            "description": "a positive amount with at most 2 decimals",
        }
    ),
]

# An address in its one normalised spelling (`core.emails`).
Email = Annotated[
    str,
    Field(max_length=1000),
    AfterValidator(normalize_email),
    WithJsonSchema(
        {
            "type": "string",
            "format": "email",
            "maxLength": 320,
            "not": {"pattern": SPECIAL_USE_PATTERN},
            "description": "an address outside the special-use domains (.test, .local, ...)",
        }
    ),
]


# Accounts


class RegisterIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"email": "ada@example.com", "password": "correct horse"}]},
    )

    email: Email
    password: Annotated[str, Field(min_length=8, max_length=256)]


class UserOut(BaseModel):
    id: int
    email: str


class TokenForm(BaseModel):
    """OAuth2 password flow: `application/x-www-form-urlencoded` fields."""

    model_config = ConfigDict(extra="ignore")

    username: Annotated[str, Field(description="the account's email")]
    password: str
    grant_type: Literal["password"] | None = None
    scope: str = ""


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: Annotated[int, Field(description="seconds until the token expires")]


# Orders


class OrderItemIn(BaseModel):
    model_config = _FORBID

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


# Health


class HealthOut(BaseModel):
    status: Literal["ok"]


class ReadyOut(BaseModel):
    status: Literal["ok", "degraded", "down"]
    checks: dict[str, Literal["ok", "down"]]
    details: Annotated[
        dict[str, Any] | None,
        Field(description="background roles' state and parked outbox rows (when it runs roles)"),
    ] = None
    detail: Annotated[str | None, Field(description="why not ready (503 only)")] = None


# Errors


class HTTPError(BaseModel):
    detail: str


class ValidationErrorItem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class HTTPValidationError(BaseModel):
    detail: list[ValidationErrorItem]
