"""argon2id password hashing on an executor of its own, with a bounded queue.

Each hash costs tens of milliseconds of CPU. The work runs on a small thread pool that
nothing else uses, and at most `queue` requests wait for it: past that, the request is
refused at once with PasswordHashingBusy (503 with Retry-After) instead of waiting, so a
flood of logins cannot delay the rest of the process or pile up without bound.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from core.errors import PasswordHashingBusy

# OWASP's floor for argon2id: m=19 MiB, t=2, p=1.
OWASP_MEMORY_KIB = 19 * 1024
OWASP_TIME_COST = 2
THREAD_PREFIX = "password-hash"

T = TypeVar("T")


class Passwords:
    def __init__(
        self,
        *,
        memory_kib: int = OWASP_MEMORY_KIB,
        time_cost: int = OWASP_TIME_COST,
        workers: int = 2,
        queue: int = 32,
    ) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=1, type=Type.ID
        )
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=THREAD_PREFIX)
        self._slots = workers + queue  # running plus waiting
        self._taken = 0

    @functools.cached_property
    def _dummy_hash(self) -> str:
        # Verified against when the email is unknown, so both cases cost the same.
        return self._hasher.hash("not a real password, only for timing")

    async def _run(self, work: Callable[[], T]) -> T:
        if self._taken >= self._slots:
            raise PasswordHashingBusy()
        self._taken += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, work)
        finally:
            self._taken -= 1

    async def hash(self, password: str) -> str:
        return await self._run(functools.partial(self._hasher.hash, password))

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True when `password` matches; with no hash, spend the same time and say False."""
        return await self._run(functools.partial(self._verify, password_hash, password))

    def _verify(self, password_hash: str | None, password: str) -> bool:
        try:
            ok = self._hasher.verify(password_hash or self._dummy_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        return ok and password_hash is not None

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
