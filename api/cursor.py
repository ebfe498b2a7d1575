"""The opaque keyset cursor of order lists: the (created_at, id) of a page's last order.

It is 24 bytes, base64url without padding: microseconds since the epoch as a signed
64-bit integer, then the order id's 16 bytes. Every 32-character base64url string is
therefore some position (times beyond what a datetime holds are clamped), so the
document's pattern says exactly which cursors the API accepts.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
from datetime import UTC, datetime, timedelta
from typing import Annotated
from uuid import UUID

from pydantic import BeforeValidator, WithJsonSchema

from usecases.orders import Position

LENGTH = 32
PATTERN = rf"^[A-Za-z0-9_-]{{{LENGTH}}}$"
_PATTERN = re.compile(PATTERN)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MIN = datetime.min.replace(tzinfo=UTC)
_MAX = datetime.max.replace(tzinfo=UTC)
_LAYOUT = struct.Struct(">q16s")


def _micros(at: datetime) -> int:
    return (at - _EPOCH) // timedelta(microseconds=1)


def encode_cursor(position: Position) -> str:
    created_at, order_id = position
    raw = _LAYOUT.pack(_micros(created_at), order_id.bytes)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(value: object) -> Position:
    """The position a cursor names; ValueError (a 422 at the edge) when it names none."""
    if isinstance(value, tuple):
        return value  # already decoded
    if not isinstance(value, str) or len(value) != LENGTH or not _PATTERN.fullmatch(value):
        raise ValueError("invalid cursor")
    try:
        micros, raw_id = _LAYOUT.unpack(base64.urlsafe_b64decode(value))
    except (binascii.Error, struct.error) as exc:
        raise ValueError("invalid cursor") from exc
    clamped = min(max(micros, _micros(_MIN)), _micros(_MAX))
    return (_EPOCH + timedelta(microseconds=clamped), UUID(bytes=raw_id))


Cursor = Annotated[
    Position,
    BeforeValidator(decode_cursor),
    WithJsonSchema({"type": "string", "pattern": PATTERN}),
]
