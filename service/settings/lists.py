"""Comma-separated environment values (`A,B, C`) as tuples."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic_settings import NoDecode

CommaList = Annotated[tuple[str, ...], NoDecode]


def split_commas(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value
