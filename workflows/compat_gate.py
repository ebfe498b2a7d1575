"""Whether a worker or run of version 5 may still read what the relay sends: the switch of
the v5 fields `workflows/compat.py` adds beside each start and signal argument.

A v5 reader may exist while the Worker Deployment's current or ramping version is not
this code's (v5 still current, a rollback to it, none current yet), while visibility
finds open orders pinned to another version (a v5 run not moved yet; which code a build
id holds the relay cannot tell, so any other counts), and whenever it is not known
(Temporal unreachable, an error, before the first check). Otherwise a start and a signal
carry v6's fields alone, and the relay parses no payload for them. An unversioned run
counts for nothing: with a version current, its next task goes to that version.

`CompatGate.run` checks at start-up and then every TEMPORAL_COMPAT_CHECK_INTERVAL, each
check bounded by TEMPORAL_TIMEOUT_SECONDS; the relay reads `needed()` at each hand-off.
A rollback to v5 is seen at the next check: until then a new order started on v5 without
its fields fails its first workflow task (docs/operations.md "Deploying a new version").
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from temporalio.client import Client

from workflows import versions
from workflows.client import TEMPORAL_FAILURES
from workflows.versions import OPEN_ORDERS, VERSION_ATTRIBUTE, Deployment

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Seen:
    """What the deployment and visibility said at one check."""

    current: str | None  # the current version's build id (None: unversioned workers)
    ramping: str | None  # the ramping version's build id (None: none)
    pinned_elsewhere: int  # open orders pinned to a version other than this code's


def v5_may_read(ours: str, seen: Seen | None) -> bool:
    """Whether v5's fields must go beside the arguments; `seen` None: not known."""
    if seen is None or seen.current != ours:
        return True
    if seen.ramping is not None and seen.ramping != ours:
        return True
    return seen.pinned_elsewhere > 0


def pinned_elsewhere_query(deployment: Deployment) -> str:
    """Open orders of the task queue pinned to a version, not this one."""
    return (
        f"{OPEN_ORDERS} AND TaskQueue = '{deployment.task_queue}' AND "
        f"{VERSION_ATTRIBUTE} IS NOT NULL AND {VERSION_ATTRIBUTE} != '{deployment.attribute()}'"
    )


async def look(client: Client, deployment: Deployment) -> Seen:
    """What the deployment's routing and visibility say now."""
    current, ramping = await versions.routing(client, deployment)
    count = await client.count_workflows(pinned_elsewhere_query(deployment))
    return Seen(current, ramping, count.count)


class CompatGate:
    """Keeps the last check's answer; v5's fields are sent until a check says otherwise."""

    def __init__(
        self,
        read: Callable[[], Awaitable[Seen]],
        ours: str,
        *,
        interval_seconds: float,
        timeout_seconds: float,
    ) -> None:
        self._read = read  # `look`, bound to the client and this code's deployment version
        self._ours = ours  # this code's build id
        self._interval = interval_seconds
        self._timeout = timeout_seconds
        self._needed = True  # not known yet
        self._failing = False  # the last check failed (logged once per streak)

    def needed(self) -> bool:
        """Whether a v5 reader may exist, as last checked (True before any check)."""
        return self._needed

    async def check(self) -> bool:
        """Read the deployment and visibility once, bounded; any failure: not known."""
        seen: Seen | None = None
        try:
            async with asyncio.timeout(self._timeout):
                seen = await self._read()
        except TEMPORAL_FAILURES as exc:
            if not self._failing:
                log.warning("v5 readers not known, v5 fields sent error=%r", exc)
        self._failing = seen is None
        needed = v5_may_read(self._ours, seen)
        if needed != self._needed:
            state = "sent" if needed else "dropped"
            log.info("v5 fields %s build_id=%s seen=%s", state, self._ours, seen)
        self._needed = needed
        return needed

    async def run(self) -> None:
        """Check at once, then every interval, until cancelled."""
        while True:
            await self.check()
            await asyncio.sleep(self._interval)
