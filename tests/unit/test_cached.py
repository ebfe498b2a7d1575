"""api.cached: one computation shared by every caller, reused for its period."""

from __future__ import annotations

import asyncio

import pytest

from api.cached import Cached


async def test_a_computation_is_shared_and_a_caller_that_leaves_does_not_cancel_it() -> None:
    started = asyncio.Event()
    release = asyncio.Event()
    runs = 0

    async def slow() -> int:
        nonlocal runs
        runs += 1
        started.set()
        await release.wait()
        return runs

    cached: Cached[int] = Cached(slow, seconds=60)
    leaving = asyncio.create_task(cached.get())
    await started.wait()
    staying = asyncio.create_task(cached.get())
    leaving.cancel()
    release.set()
    assert await staying == 1
    assert await cached.get() == 1
    assert runs == 1


async def test_a_value_is_reused_for_its_period_then_computed_again() -> None:
    runs = 0

    async def count() -> int:
        nonlocal runs
        runs += 1
        return runs

    cached: Cached[int] = Cached(count, seconds=60)
    assert [await cached.get() for _ in range(5)] == [1] * 5
    expired: Cached[int] = Cached(count, seconds=0)  # every value is past its period
    assert [await expired.get() for _ in range(3)] == [2, 3, 4]


async def test_a_failure_is_not_cached() -> None:
    runs = 0

    async def flaky() -> int:
        nonlocal runs
        runs += 1
        if runs == 1:
            raise ConnectionError("first")
        return runs

    cached: Cached[int] = Cached(flaky, seconds=60)
    with pytest.raises(ConnectionError):
        await cached.get()
    assert await cached.get() == 2
