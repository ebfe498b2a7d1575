"""Password hashing runs on an executor of its own, and refuses work past its queue."""

from __future__ import annotations

import asyncio
import threading

import pytest

from core.errors import PasswordHashingBusy
from usecases.passwords import THREAD_PREFIX, Passwords


async def test_hashing_runs_on_its_own_threads() -> None:
    passwords = Passwords(memory_kib=8, time_cost=1, workers=1, queue=0)
    seen: list[str] = []
    hasher = passwords._hasher

    class Spy:
        def hash(self, password: str) -> str:
            seen.append(threading.current_thread().name)
            return hasher.hash(password)

        def verify(self, password_hash: str, password: str) -> bool:
            seen.append(threading.current_thread().name)
            return hasher.verify(password_hash, password)

    passwords._hasher = Spy()  # type: ignore[assignment]  # observe where the work runs
    try:
        assert await passwords.verify(await passwords.hash("secret words"), "secret words")
    finally:
        passwords.close()
    assert seen
    assert all(name.startswith(THREAD_PREFIX) for name in seen)


async def test_past_the_queue_work_is_refused_at_once() -> None:
    passwords = Passwords(workers=1, queue=1)  # the real cost: tens of ms each
    try:
        started = asyncio.get_running_loop().time()
        results = await asyncio.gather(
            *(passwords.hash(f"password {i}") for i in range(6)), return_exceptions=True
        )
    finally:
        passwords.close()
    busy = [r for r in results if isinstance(r, PasswordHashingBusy)]
    hashed = [r for r in results if isinstance(r, str)]
    assert (len(hashed), len(busy)) == (2, 4)
    assert asyncio.get_running_loop().time() - started < 2.0


async def test_the_default_executor_stays_free_while_hashing_is_saturated() -> None:
    passwords = Passwords(workers=1, queue=4)
    try:
        hashing = [asyncio.ensure_future(passwords.hash(f"p{i}")) for i in range(5)]
        await asyncio.sleep(0)
        started = asyncio.get_running_loop().time()
        await asyncio.to_thread(lambda: None)  # other thread work does not queue behind
        assert asyncio.get_running_loop().time() - started < 0.05
        await asyncio.gather(*hashing)
    finally:
        passwords.close()


@pytest.mark.parametrize("queue", [0, 3])
async def test_slots_are_given_back(queue: int) -> None:
    passwords = Passwords(memory_kib=8, time_cost=1, workers=1, queue=queue)
    try:
        for _ in range(3):
            await asyncio.gather(*(passwords.hash("x") for _ in range(queue + 1)))
    finally:
        passwords.close()
