"""The opaque keyset cursor of order lists: base64url of (created_at, id) of a page's last order."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated
from uuid import UUID

import orjson
from pydantic import BeforeValidator, WithJsonSchema

from core.order import Order
from usecases.orders import Position


def encode_cursor(order: Order) -> str:
    raw = orjson.dumps([order.created_at.isoformat(), str(order.id)])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(value: object) -> Position:
    """The position a cursor names; ValueError (a 422 at the edge) when it names none."""
    if isinstance(value, tuple):
        return value  # already decoded
    if not isinstance(value, str):
        raise ValueError("cursor must be a string")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        created_at, order_id = orjson.loads(raw)
        position = (datetime.fromisoformat(created_at), UUID(order_id))
    except (binascii.Error, orjson.JSONDecodeError, TypeError, ValueError) as exc:
        raise ValueError("invalid cursor") from exc
    if position[0].tzinfo is None:
        raise ValueError("invalid cursor")
    return position


Cursor = Annotated[
    Position,
    BeforeValidator(decode_cursor),
    WithJsonSchema({"type": "string", "format": "base64url"}),
]
