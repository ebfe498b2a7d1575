"""The outbox backlog as gauges: how many rows wait for the relay and for RabbitMQ, and how
old the oldest waiting row is. Sampled by the relay role every few seconds."""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from relay.metrics import OLDEST, ROWS
from store import outbox_backlog
from store.db import FAILURES as DB_FAILURES

log = logging.getLogger(__name__)


class BacklogMonitor:
    def __init__(self, pool: asyncpg.Pool, *, interval_seconds: float = 5.0) -> None:
        self._pool = pool
        self._interval = interval_seconds

    async def sample(self) -> outbox_backlog.Backlog:
        backlog = await outbox_backlog.backlog(self._pool)
        ROWS.labels("unrelayed").set(backlog.unrelayed)
        ROWS.labels("unpublished").set(backlog.unpublished)
        ROWS.labels("parked").set(backlog.parked)
        OLDEST.set(backlog.oldest_unrelayed_seconds)
        return backlog

    async def run(self) -> None:
        """Sample until cancelled; PostgreSQL down leaves the last values and logs once."""
        failing = False
        while True:
            try:
                await self.sample()
                failing = False
            except DB_FAILURES as exc:
                if not failing:
                    log.warning("outbox backlog cannot be sampled error=%r", exc)
                failing = True
            await asyncio.sleep(self._interval)
