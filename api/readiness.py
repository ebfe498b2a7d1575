"""What /ready asks: one probe per dependency and per background role, each bounded, run
at once, and details worth an operator's eye (each role's state, parked outbox rows).

A critical probe down makes the process not ready (503); a non-critical one (the Redis
cache, which only degrades reads) makes it "degraded". The probes and details come from
the adapters and the roles' supervisor (`store.db.ping`, `OrderCache.ping`,
`workflows.client.serving`, the RabbitMQ connections, `service.supervision`), wired by
the composition root. A report is reused for CACHE_SECONDS (`api.cached`): however many
ask, the probes run about once a second. The public /ready shows its states, the
operator listener its details too (`api.health`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from api.cached import Cached

log = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 2.0
CACHE_SECONDS = 1.0
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
    details: dict[str, object] = field(default_factory=dict)

    @property
    def status(self) -> Literal["ok", "degraded", "down"]:
        if self.down:
            return "down"
        return "ok" if all(state == "ok" for state in self.checks.values()) else "degraded"


class Readiness:
    def __init__(
        self,
        probes: Sequence[Probe],
        *,
        timeout_seconds: float = CHECK_TIMEOUT_SECONDS,
        cache_seconds: float = CACHE_SECONDS,
    ):
        self._probes = list(probes)
        self._details: dict[str, Callable[[], Awaitable[object]]] = {}
        self._timeout = timeout_seconds
        self._cached = Cached(self._fresh_report, seconds=cache_seconds)

    def add(self, probe: Probe) -> None:
        """One more probe (a background role, a broker), added as the process starts it."""
        self._probes.append(probe)

    def add_detail(self, name: str, fetch: Callable[[], Awaitable[object]]) -> None:
        """Something reported beside the checks; `fetch` answers None when it cannot tell."""
        self._details[name] = fetch

    async def _detail(self, name: str) -> object:
        try:
            async with asyncio.timeout(self._timeout):
                return await self._details[name]()
        except TimeoutError:
            log.warning("readiness: %s did not answer within %.1fs", name, self._timeout)
            return None

    async def _state(self, probe: Probe) -> State:
        try:
            async with asyncio.timeout(self._timeout):
                return "ok" if await probe.check() else "down"
        except TimeoutError:
            log.warning("readiness: %s did not answer within %.1fs", probe.name, self._timeout)
            return "down"

    async def report(self) -> Report:
        """The last report, if younger than `cache_seconds`; else one fresh run of every
        probe, shared by every caller that asks meanwhile."""
        return await self._cached.get()

    async def _fresh_report(self) -> Report:
        probes, names = list(self._probes), list(self._details)
        states, values = await asyncio.gather(
            asyncio.gather(*(self._state(p) for p in probes)),
            asyncio.gather(*(self._detail(n) for n in names)),
        )
        checks = {p.name: s for p, s in zip(probes, states, strict=True)}
        down = tuple(p.name for p in probes if p.critical and checks[p.name] == "down")
        return Report(checks, down, dict(zip(names, values, strict=True)))
