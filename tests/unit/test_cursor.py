"""The keyset cursor of order lists: opaque, round-trips, refuses anything else."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.cursor import PATTERN, decode_cursor, encode_cursor

NOW = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
ANY_ID = uuid.UUID("fd1ef776-dcc7-49ec-abd0-bd6ebc29c40e")


def test_cursor_round_trips_the_position_of_the_last_order() -> None:
    position = (NOW, uuid.uuid4())
    cursor = encode_cursor(position)
    assert "=" not in cursor  # URL-safe, no padding
    assert decode_cursor(cursor) == position


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "not base64 at all!",
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        # No UTC offset. A fixed id: under `pytest -n` every worker collects the same tests.
        base64.urlsafe_b64encode(b'["2026-01-02T03:04:05", "%s"]' % str(ANY_ID).encode())
        .decode()
        .rstrip("="),
        base64.urlsafe_b64encode(b'["2026-01-02T03:04:05+00:00", "nope"]').decode(),
        42,
    ],
)
def test_anything_else_is_an_invalid_cursor(bad: object) -> None:
    with pytest.raises(ValueError, match="cursor"):
        decode_cursor(bad)


@given(st.from_regex(PATTERN, fullmatch=True))
def test_every_string_the_document_allows_is_a_position(cursor: str) -> None:
    created_at, order_id = decode_cursor(cursor)
    assert created_at.tzinfo is not None
    assert isinstance(order_id, uuid.UUID)


def test_a_time_beyond_what_a_datetime_holds_is_clamped() -> None:
    far = base64.urlsafe_b64encode(b"\x7f" + b"\xff" * 7 + b"\x00" * 16).decode().rstrip("=")
    created_at, _ = decode_cursor(far)
    assert created_at.year == 9999
