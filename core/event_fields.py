"""Reading an event's JSON: the object it must be and its typed fields, each refused with
its name (InvalidEvent). The parsers of core.events use these."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson


class InvalidEvent(ValueError):
    """A message that cannot be parsed or does not have the event's shape."""


def json_object(raw: bytes | str) -> Mapping[str, Any]:
    """The JSON object `raw` holds; InvalidEvent when it holds none."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidEvent(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidEvent("not a JSON object")
    return data


def expect_type(data: Mapping[str, Any], event_type: str) -> None:
    if data.get("event_type") != event_type:
        raise InvalidEvent(f"event_type is {data.get('event_type')!r}, not {event_type!r}")


def int_field(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidEvent(f"{name} is not an integer")
    return value


def list_field(value: Any, name: str) -> list[Any]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise InvalidEvent(f"{name} is not a list of objects")
    return value


def uuid_field(value: Any, name: str) -> UUID:
    # UUID() of a number raises AttributeError, not ValueError: check the type first.
    if not isinstance(value, str):
        raise InvalidEvent(f"{name} is not a string")
    return UUID(value)


def timestamp_field(value: Any, name: str) -> datetime:
    if not isinstance(value, str):
        raise InvalidEvent(f"{name} is not a string")
    at = datetime.fromisoformat(value)
    if at.tzinfo is None:
        raise InvalidEvent(f"{name} has no UTC offset")
    return at
