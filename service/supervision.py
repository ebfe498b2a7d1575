"""Supervision of the background roles: a role that fails is logged and restarted.

Each role (the Temporal worker, the outbox relay, the RabbitMQ consumer) runs as one
asyncio task under `Supervisor.start`. An exception nobody expected ends the role's run:
it is logged with its traceback, the role is `restarting` (down, so /ready answers 503)
for a delay from core.backoff, then runs again. A role that ran long enough before it
failed starts again from the shortest delay. Its state, restarts and last error are in
/ready's details.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from core.backoff import RECONNECT, Backoff, BackoffPolicy

log = logging.getLogger(__name__)

# A role that ran this long before failing counts as having recovered: backoff from scratch.
HEALTHY_AFTER_SECONDS = 60.0


class RoleState(StrEnum):
    RUNNING = "running"
    RESTARTING = "restarting"  # failed; waiting for its backoff before running again
    STOPPED = "stopped"  # returned: shut down


@dataclass
class Role:
    name: str
    state: RoleState = RoleState.RUNNING
    restarts: int = 0
    last_error: str | None = None

    async def up(self) -> bool:
        return self.state is RoleState.RUNNING

    def details(self) -> dict[str, Any]:
        return {"state": self.state.value, "restarts": self.restarts, "last_error": self.last_error}


async def supervise(
    role: Role,
    run: Callable[[], Awaitable[None]],
    *,
    policy: BackoffPolicy = RECONNECT,
    healthy_after: float = HEALTHY_AFTER_SECONDS,
) -> None:
    """Run `run()` until it returns or is cancelled, restarting it whenever it fails."""
    backoff = Backoff(policy)
    while True:
        role.state = RoleState.RUNNING
        started = time.monotonic()
        try:
            await run()
        except Exception as exc:  # the roles' boundary: logged with its traceback, restarted
            if time.monotonic() - started >= healthy_after:
                backoff.reset()
            delay = backoff.next()
            role.state = RoleState.RESTARTING
            role.last_error = f"{type(exc).__name__}: {exc}"
            log.exception("role %s failed, restarting in %.1f s", role.name, delay)
        else:
            role.state = RoleState.STOPPED
            log.info("role %s stopped", role.name)
            return
        await asyncio.sleep(delay)
        role.restarts += 1
        log.info("role %s restarting (restart %d)", role.name, role.restarts)


class Supervisor:
    """The process's supervised roles."""

    def __init__(self) -> None:
        self.roles: dict[str, Role] = {}

    def start(self, name: str, run: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
        role = self.roles[name] = Role(name)
        return asyncio.create_task(supervise(role, run), name=f"role-{name}")

    async def details(self) -> dict[str, Any]:
        return {name: role.details() for name, role in self.roles.items()}
