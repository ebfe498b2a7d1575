"""Outbox retention: rows done with are deleted, a small batch at a time, by the relay.

A row is done with once it was relayed and published (an `order_processed` row is only
ever relayed) longer than the retention ago. Rows waiting, unpublished or parked are never
deleted. Several relays may prune at once (SKIP LOCKED); a full batch prunes again on the
relay's next pass, else after `interval_seconds`.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import asyncpg

from store import outbox_backlog
from store.db import FAILURES as DB_FAILURES

log = logging.getLogger(__name__)


class OutboxRetention:
    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        keep: timedelta,
        batch_size: int = 500,
        interval_seconds: float = 60.0,
    ) -> None:
        self._pool = pool
        self._keep = keep
        self._batch_size = batch_size
        self._interval = interval_seconds
        self._next = 0.0  # monotonic time of the next prune

    async def prune_if_due(self) -> int:
        """Delete one batch if it is time; how many rows went."""
        now = time.monotonic()
        if now < self._next:
            return 0
        try:
            deleted = await outbox_backlog.delete_expired(
                self._pool, older_than=self._keep, limit=self._batch_size
            )
        except DB_FAILURES as exc:
            log.warning("outbox retention could not delete, trying later error=%r", exc)
            deleted = 0
        self._next = now if deleted >= self._batch_size else now + self._interval
        if deleted:
            log.info("outbox retention deleted %d rows older than %s", deleted, self._keep)
        return deleted
