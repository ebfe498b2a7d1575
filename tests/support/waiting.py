"""Waiting for an asynchronous outcome: poll with a deadline, never a bare sleep."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

T = TypeVar("T")


@overload
async def eventually(
    probe: Callable[[], Awaitable[T | None]],
    *,
    what: str,
    deadline_s: float = 30.0,
    every_s: float = 0.05,
) -> T: ...


@overload
async def eventually(
    probe: Callable[[], T | None], *, what: str, deadline_s: float = 30.0, every_s: float = 0.05
) -> T: ...


async def eventually(
    probe: Callable[[], Any], *, what: str, deadline_s: float = 30.0, every_s: float = 0.05
) -> Any:
    """Poll `probe` (sync or async) until it returns something truthy, or fail at the deadline."""
    end = time.monotonic() + deadline_s
    last: Any = None
    while time.monotonic() < end:
        result = probe()
        last = await result if inspect.isawaitable(result) else result
        if last:
            return last
        await asyncio.sleep(every_s)
    raise AssertionError(f"timed out after {deadline_s}s waiting for {what}; last={last!r}")
