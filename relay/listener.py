"""LISTEN 'outbox' on a dedicated connection: a wake-up hint for the relay.

A notification is only a hint (a listener that was away misses it), so the relay polls
too; on every (re)connect the listener wakes the relay once to cover what it missed.
A dropped connection is noticed (termination, or a failed periodic check) and reopened.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

import asyncpg

from core.backoff import Backoff
from store.db import FAILURES as DB_FAILURES

log = logging.getLogger(__name__)

CHANNEL: Final = "outbox"
APPLICATION_NAME: Final = "orders-outbox-listener"


class OutboxListener:
    def __init__(
        self, dsn: str, wake: asyncio.Event, *, timeout: float, check_interval: float = 30.0
    ) -> None:
        self._dsn = dsn
        self._wake = wake
        self._timeout = timeout
        self._check_interval = check_interval
        self.connected = asyncio.Event()

    async def run(self) -> None:
        backoff = Backoff()
        while True:
            try:
                conn = await asyncpg.connect(
                    self._dsn,
                    timeout=self._timeout,
                    server_settings={"application_name": APPLICATION_NAME},
                )
            except DB_FAILURES as exc:
                if backoff.failures == 0:
                    log.warning("outbox listener cannot connect, relay keeps polling error=%r", exc)
                await asyncio.sleep(backoff.next())
                continue
            backoff.reset()
            try:
                await self._listen(conn)
            except DB_FAILURES as exc:
                log.warning("outbox listener connection lost, reconnecting error=%r", exc)
            finally:
                self.connected.clear()
                conn.terminate()

    async def _listen(self, conn: asyncpg.Connection) -> None:
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        await conn.add_listener(CHANNEL, self._notified)
        self.connected.set()
        self._wake.set()  # whatever was committed while we were away
        log.info("outbox listener connected channel=%s", CHANNEL)
        while not lost.is_set():
            try:
                async with asyncio.timeout(self._check_interval):
                    await lost.wait()
            except TimeoutError:
                await conn.execute("SELECT 1", timeout=self._timeout)
        raise ConnectionResetError("listener connection terminated")

    def _notified(self, *_args: object) -> None:
        self._wake.set()
