"""A result computed at most once per period, whoever asks and however often.

What /ready and /metrics answer costs real work (a pooled connection, a Redis PING and a
Temporal RPC; rendering every series and scraping the Temporal SDK's exporter), and
anyone who reaches the port may ask. So each is computed once, shared by every request
that arrives while it runs, and served from memory for `seconds` after it finished: a
flood costs one computation a second, and answers as cheaply as /health.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Cached(Generic[T]):
    def __init__(self, compute: Callable[[], Awaitable[T]], *, seconds: float) -> None:
        self._compute = compute
        self._seconds = seconds
        self._value: T | None = None
        self._computed_at = float("-inf")
        self._running: asyncio.Task[T] | None = None

    async def get(self) -> T:
        loop = asyncio.get_running_loop()
        if self._value is not None and loop.time() - self._computed_at < self._seconds:
            return self._value
        if self._running is None:
            self._running = loop.create_task(self._run())
        # A caller that goes away does not cancel the computation the others wait for.
        return await asyncio.shield(self._running)

    async def _run(self) -> T:
        try:
            value = await self._compute()
            self._value, self._computed_at = value, asyncio.get_running_loop().time()
            return value
        finally:
            self._running = None
