"""The outbox relay: the only way an order reaches Temporal.

In one transaction it claims a batch of rows (FOR UPDATE SKIP LOCKED, so several relays
share the work; per-order ordering is in the claim), hands every row to Temporal
concurrently, marks the successes relayed and the failures for a later retry (backoff from
core.backoff), and commits. Woken by LISTEN/NOTIFY, with polling as the fallback; it loops at once
while batches come back full. While Temporal is unreachable rows wait with backoff,
orders are still accepted, and the relay catches up when Temporal returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Protocol

import asyncpg

from core.backoff import RETRY
from relay.listener import OutboxListener
from store import outbox
from store.db import FAILURES as DB_FAILURES
from store.outbox import Failure, OutboxRow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BatchResult:
    claimed: int
    relayed: int
    errors: tuple[str, ...] = ()


class Handoff(Protocol):
    """Hands one row to the workflow engine (`workflows.starter.TemporalHandoff`)."""

    @property
    def errors(self) -> tuple[type[Exception], ...]:
        """What `hand_over` raises for a row to try again later."""
        ...

    async def hand_over(self, row: OutboxRow) -> None: ...


@dataclass(frozen=True, slots=True)
class RelayConfig:
    dsn: str  # for the LISTEN connection
    batch_size: int = 100
    poll_interval_seconds: float = 1.0
    db_timeout_seconds: float = 10.0


class OutboxRelay:
    def __init__(self, pool: asyncpg.Pool, handoff: Handoff, config: RelayConfig) -> None:
        self._pool = pool
        self._handoff = handoff
        self._config = config
        self._wake = asyncio.Event()
        self._listener = OutboxListener(config.dsn, self._wake, timeout=config.db_timeout_seconds)
        self._failing = False

    @property
    def listening(self) -> asyncio.Event:
        """Set while the LISTEN connection is up (tests wait for it)."""
        return self._listener.connected

    async def run(self) -> None:
        """Relay until cancelled."""
        listener = asyncio.create_task(self._listener.run(), name="outbox-listener")
        try:
            while True:
                self._wake.clear()  # before claiming: a NOTIFY during the batch wakes us again
                result = await self._relay_guarded()
                if result.claimed >= self._config.batch_size and not result.errors:
                    continue
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._config.poll_interval_seconds):
                        await self._wake.wait()
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener

    async def relay_once(self) -> BatchResult:
        """Claim one batch, hand it to Temporal, record the outcome; one transaction."""
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await outbox.claim_batch(conn, limit=self._config.batch_size)
            if not rows:
                return BatchResult(0, 0)
            outcomes = await asyncio.gather(*(self._hand_over(row) for row in rows))
            relayed = [row.id for row, error in zip(rows, outcomes, strict=True) if error is None]
            failures = [
                Failure(row.id, error, RETRY.delay(row.attempts))
                for row, error in zip(rows, outcomes, strict=True)
                if error is not None
            ]
            errors = tuple(f.error for f in failures)
            await outbox.mark_relayed(conn, ids=relayed)
            await outbox.mark_failed(conn, failures=failures)
        self._report(len(rows), errors)
        return BatchResult(len(rows), len(relayed), errors)

    async def _hand_over(self, row: OutboxRow) -> str | None:
        """None on success, else the error (the row is retried later)."""
        try:
            await self._handoff.hand_over(row)
        except self._handoff.errors as exc:
            log.debug(
                "relay failed order_id=%s event_id=%s event_type=%s attempts=%d error=%r",
                row.aggregate_id,
                row.id,
                row.event_type,
                row.attempts,
                exc,
            )
            return f"{type(exc).__name__}: {exc}"
        log.debug(
            "relayed order_id=%s event_id=%s event_type=%s",
            row.aggregate_id,
            row.id,
            row.event_type,
        )
        return None

    async def _relay_guarded(self) -> BatchResult:
        try:
            return await self.relay_once()
        except DB_FAILURES as exc:
            self._report(0, (f"PostgreSQL: {exc!r}",))
            return BatchResult(0, 0, (repr(exc),))

    def _report(self, claimed: int, errors: tuple[str, ...]) -> None:
        """One warning per failure burst, one info line when it ends; never one per row."""
        if errors and not self._failing:
            self._failing = True
            log.warning(
                "outbox relay failing, rows stay queued with backoff: %d of %d failed, error=%s",
                len(errors),
                claimed,
                errors[0],
            )
        elif claimed and not errors and self._failing:
            self._failing = False
            log.info("outbox relay recovered, relaying again")
