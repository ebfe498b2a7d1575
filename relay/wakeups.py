"""How the relay is woken: by a NOTIFY while it waits for work, by nothing while it is busy.

It owns the relay's LISTEN connection (relay.listener) and the wake-up it sets, and says
whether the outbox's writers should send a NOTIFY at all.

A NOTIFY costs every writer: PostgreSQL serializes the commits of the transactions that
send one (migrations/0011_relays_listening.sql), so under a burst of orders each POST
waited its turn. The outbox's trigger notifies only while a relay is listening. A relay
stops listening when its claim comes back full (more waits: it claims again without a
NOTIFY) and listens again when it runs out of work; starting to listen waits for every
writer that found no listener, so the claim made right after it sees their rows. A
listening relay refreshes its row every REFRESH_SECONDS (a relay gone for 5 minutes is
no listener: the trigger's bound). A failed write leaves the state unknown: the relay
still polls, and tries again at its next turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Final
from uuid import uuid4

import asyncpg

from relay.listener import OutboxListener
from store import relays_listening
from store.db import FAILURES as DB_FAILURES

log = logging.getLogger(__name__)

REFRESH_SECONDS: Final = 60.0  # well under the trigger's 5 minutes


class WakeUps:
    def __init__(self, pool: asyncpg.Pool, dsn: str, *, timeout: float) -> None:
        self._pool = pool
        self._timeout = timeout
        self._wake = asyncio.Event()  # a NOTIFY (the listener): rows to claim
        self._listener = OutboxListener(dsn, self._wake, timeout=timeout)
        self.relay_id = uuid4()
        self._listening: bool | None = None  # None: unknown (not yet said, or a failed write)
        self._said_at = 0.0

    @property
    def connected(self) -> asyncio.Event:
        """Set while the LISTEN connection is up."""
        return self._listener.connected

    async def run_listener(self) -> None:
        """Keep the LISTEN connection up until cancelled."""
        await self._listener.run()

    def clear(self) -> None:
        """Before a claim: a NOTIFY from then on wakes the next wait."""
        self._wake.clear()

    async def wait(self, seconds: float) -> None:
        """Until a NOTIFY (since the last `clear`), or `seconds` passed: the poll."""
        await until(self._wake, seconds)

    @property
    def listening(self) -> bool | None:
        return self._listening

    async def listen(self) -> bool:
        """Ask the writers for a NOTIFY (again, once REFRESH_SECONDS passed); True when this
        relay was not listening: rows committed before then sent none, claim once more."""
        now = time.monotonic()
        if self._listening and now - self._said_at < REFRESH_SECONDS:
            return False
        try:
            async with asyncio.timeout(self._timeout):
                await relays_listening.listen(self._pool, self.relay_id)
        except DB_FAILURES as exc:
            self._failed("listen", exc)
            return False
        started, self._listening, self._said_at = not self._listening, True, now
        return started

    async def busy(self) -> None:
        """No NOTIFY needed: the relay claims again without one."""
        if self._listening is False:
            return
        try:
            async with asyncio.timeout(self._timeout):
                await relays_listening.stop_listening(self._pool, self.relay_id)
        except DB_FAILURES as exc:
            self._failed("stop listening", exc)
            return
        self._listening = False

    async def stop(self) -> None:
        """The relay stops: its row goes (else it is ignored after 5 minutes)."""
        if self._listening is not False:
            await self.busy()

    def _failed(self, what: str, exc: BaseException) -> None:
        if self._listening is not None:
            log.warning("relay cannot %s for NOTIFY, polling error=%r", what, exc)
        self._listening = None


async def until(event: asyncio.Event, seconds: float) -> None:
    """Until `event` is set, or `seconds` passed."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
