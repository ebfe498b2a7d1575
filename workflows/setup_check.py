"""Each process's start-up check of its Temporal namespace.

On a server that lacks the namespace or a search attribute, every new order's start fails
(INVALID_ARGUMENT: unregistered search attribute). So a process checks at start-up and
says what is missing and how to fix it (an ERROR line), is not ready (`ready`, /ready's
`temporal_setup` probe), and its relay holds new orders back in the outbox (`problem`,
asked by the hand-off) instead of having Temporal refuse them. It checks again every few
seconds until the namespace is set up, then stops asking: the process needs no restart
after `orders temporal setup`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from core.backoff import RECONNECT, Backoff
from workflows.client import TEMPORAL_FAILURES
from workflows.namespace import FIX, Findings, Requirements, duration, inspect

log = logging.getLogger(__name__)

RECHECK_SECONDS = 5.0
# A server started beside this process (temporal-dev/start.sh under `make run`) is set up a
# moment after it answers: something missing is an ERROR only once it lasts this long.
GRACE_SECONDS = 3.0


class SetupCheck:
    def __init__(
        self,
        client: Client,
        needs: Requirements,
        *,
        rpc_timeout: timedelta,
        recheck_seconds: float = RECHECK_SECONDS,
        grace_seconds: float = GRACE_SECONDS,
    ) -> None:
        self._client = client
        self._needs = needs
        self._timeout = rpc_timeout
        self._recheck = recheck_seconds
        self._grace = grace_seconds
        self._missing_since: float | None = None
        self._reported: list[str] = []  # the problems last logged
        self._findings: Findings | None = None  # the last answer; None: none yet
        self._verified = False  # set up (or not ours to check): asked no more
        self._lock = asyncio.Lock()

    @property
    def problem(self) -> str | None:
        """What the namespace lacks, when known; None when set up or not known yet."""
        found = self._findings
        if found is None or found.ready:
            return None
        return f"Temporal namespace not set up: {'; '.join(found.problems())}; {FIX}"

    async def ready(self) -> bool:
        """The readiness probe: True once the namespace was seen set up."""
        if not self._verified:
            await self.check()
        return self._verified

    async def run(self) -> None:
        """Check until the namespace is set up: with backoff while Temporal does not answer
        (its own probe says so), every few seconds while something is missing."""
        backoff = Backoff(RECONNECT)
        while not self._verified:
            found = await self.check()
            if self._verified:
                return
            await asyncio.sleep(backoff.next() if found is None else self._recheck)

    async def check(self) -> Findings | None:
        """Ask the server once; None when it did not answer."""
        async with self._lock:
            if self._verified:
                return self._findings
            seconds = self._timeout.total_seconds()
            try:
                async with asyncio.timeout(seconds + 0.5):  # a lazy client's connect too
                    found = await inspect(self._client, self._needs, rpc_timeout=self._timeout)
            except RPCError as exc:
                if exc.status in (RPCStatusCode.PERMISSION_DENIED, RPCStatusCode.UNIMPLEMENTED):
                    self._unverifiable(exc)
                    return None
                log.debug("temporal setup check: no answer error=%r", exc)
                return None
            except TEMPORAL_FAILURES as exc:  # unreachable: the `temporal` probe
                log.debug("temporal setup check: no answer error=%r", exc)
                return None
            self._record(found)
            return found

    def _record(self, found: Findings) -> None:
        self._findings = found
        namespace = self._needs.namespace
        if not found.ready:
            now = time.monotonic()
            if self._missing_since is None:
                self._missing_since = now
            lasting = now - self._missing_since >= self._grace
            if lasting and self._reported != found.problems():
                self._reported = found.problems()
                log.error(
                    "Temporal namespace %s is not set up for this service: %s; %s "
                    "(not ready, new orders wait in the outbox until then)",
                    namespace,
                    "; ".join(self._reported),
                    FIX,
                )
            return
        self._verified = True
        log.info("temporal namespace %s is set up for this service", namespace)
        if found.retention_differs and found.retention is not None:
            log.warning(
                "Temporal namespace %s keeps closed workflows for %s, TEMPORAL_RETENTION is "
                "%s (/history/ answers 410 past it): %s",
                namespace,
                duration(found.retention),
                duration(self._needs.retention),
                FIX,
            )

    def _unverifiable(self, exc: RPCError) -> None:
        self._verified = True
        log.warning(
            "cannot check Temporal namespace %s (%s: %s), assuming it is set up",
            self._needs.namespace,
            exc.status.name,
            exc,
        )
