"""What /ready asks: one probe per dependency, each bounded, run at once.

A critical dependency down makes the process not ready (503); a non-critical one (the
Redis cache, which only degrades reads) makes it "degraded". The probes themselves come
from the adapters (`store.db.ping`, `OrderCache.ping`, `workflows.client.serving`),
wired by the composition root.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Literal

log = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 2.0
State = Literal["ok", "down"]


@dataclass(frozen=True, slots=True)
class Probe:
    name: str
    check: Callable[[], Awaitable[bool]]
    critical: bool = True


@dataclass(frozen=True, slots=True)
class Report:
    checks: dict[str, State]
    down: tuple[str, ...]  # critical dependencies that are down

    @property
    def status(self) -> Literal["ok", "degraded", "down"]:
        if self.down:
            return "down"
        return "ok" if all(state == "ok" for state in self.checks.values()) else "degraded"


class Readiness:
    def __init__(self, probes: Sequence[Probe], *, timeout_seconds: float = CHECK_TIMEOUT_SECONDS):
        self._probes = tuple(probes)
        self._timeout = timeout_seconds

    async def _state(self, probe: Probe) -> State:
        try:
            async with asyncio.timeout(self._timeout):
                return "ok" if await probe.check() else "down"
        except TimeoutError:
            log.warning("readiness: %s did not answer within %.1fs", probe.name, self._timeout)
            return "down"

    async def report(self) -> Report:
        states = await asyncio.gather(*(self._state(p) for p in self._probes))
        checks = {p.name: s for p, s in zip(self._probes, states, strict=True)}
        down = tuple(p.name for p in self._probes if p.critical and checks[p.name] == "down")
        return Report(checks, down)
