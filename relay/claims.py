"""The relay's claims: leases on outbox rows, committed before any hand-off, and given
back when the relay stops.

A claim is one short transaction (store.outbox.claim_batch) under an id of its own, the
lease: the rows are the relay's until `lease_seconds` run out, and no lock is held after
the commit. When PostgreSQL refuses the claim's UPDATE (a trigger or a constraint
refusing one row), the batch is claimed again row by row, each in a savepoint: the rows
it refuses are skipped (logged at ERROR once each) and hold back only their own order.
"""

from __future__ import annotations

import asyncio
import logging
from uuid import UUID, uuid4

import asyncpg

from store import outbox
from store.db import FAILURES as DB_FAILURES
from store.outbox import OutboxRow

log = logging.getLogger(__name__)

REFUSED_REMEMBERED = 1000  # rows refused a lease, logged once each (then forgotten)


class Claims:
    def __init__(self, pool: asyncpg.Pool, *, lease_seconds: float, db_timeout: float) -> None:
        self._pool = pool
        self._lease_seconds = lease_seconds
        self._db_timeout = db_timeout
        self._refused: set[UUID] = set()

    async def claim(self, limit: int) -> tuple[list[OutboxRow], UUID]:
        """Lease up to `limit` rows to a new claim; its rows and its lease."""
        lease = uuid4()
        async with self._pool.acquire() as conn:
            try:
                async with conn.transaction():
                    rows = await outbox.claim_batch(
                        conn, limit=limit, lease=lease, lease_seconds=self._lease_seconds
                    )
            except asyncpg.PostgresError as exc:
                if not outbox.refusal(exc):
                    raise
                log.debug("claiming a batch was refused, claiming row by row error=%r", exc)
                async with conn.transaction():
                    rows, refused = await outbox.claim_each(
                        conn, limit=limit, lease=lease, lease_seconds=self._lease_seconds
                    )
                self._log_refused(refused)
        return rows, lease

    async def release(self, leases: list[tuple[UUID, UUID]]) -> None:
        """Give (row id, lease) pairs back, claimable at once; on failure they wait out
        their lease."""
        if not leases:
            return
        try:
            async with asyncio.timeout(self._db_timeout):
                await outbox.release(self._pool, leases=leases)
        except DB_FAILURES as exc:
            log.warning(
                "cannot give back %d leased outbox row(s), they wait out their lease error=%r",
                len(leases),
                exc,
            )

    def _log_refused(self, refused: list[tuple[UUID, str]]) -> None:
        for row_id, error in refused:
            if row_id in self._refused:
                continue
            if len(self._refused) >= REFUSED_REMEMBERED:
                self._refused.clear()
            self._refused.add(row_id)
            log.error(
                "PostgreSQL refuses to lease an outbox row, it holds back its order's later"
                " rows until fixed event_id=%s error=%s",
                row_id,
                error,
            )
