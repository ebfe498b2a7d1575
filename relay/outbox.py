"""The outbox relay: the only way an order reaches Temporal.

In one transaction it claims a batch of rows (FOR UPDATE SKIP LOCKED, so several relays
share the work; per-order ordering is in the claim), hands every row to Temporal
concurrently, records each row's outcome and commits. The batch's size is the relay's
window (relay.window): the starts and signals in flight, grown while Temporal answers
quickly and halved when its answers slow down or fail, so a large backlog is fed to the
engine at the pace it completes orders instead of flooding it with starts.

Each row fails alone: a retryable failure waits with its own backoff (core.backoff); a row
that cannot be handed over at all (an unparseable payload, an unknown event type) or that
failed more than `max_attempts` times is parked with its reason, logged at ERROR, and
holds back only its own order's later rows until it is re-driven (usecases.outbox). The
outcomes are written in one savepoint, and row by row if that fails, so one row's mark
never undoes another's.

Woken by LISTEN/NOTIFY, with polling as the fallback; it loops at once while batches come
back full. While Temporal is unreachable rows wait with backoff, orders are still
accepted, and the relay catches up when Temporal returns. It also deletes old rows
(relay.retention).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Protocol
from uuid import UUID

import asyncpg

from core.backoff import RETRY
from core.events import InvalidEvent
from relay.listener import OutboxListener
from relay.metrics import HANDOFF_SECONDS, HANDOFFS, WINDOW
from relay.retention import OutboxRetention
from relay.window import HandoffWindow, WindowPolicy
from store import outbox
from store.db import FAILURES as DB_FAILURES
from store.outbox import Failure, OutboxRow, Parking

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BatchResult:
    claimed: int
    relayed: int
    errors: tuple[str, ...] = ()
    parked: int = 0
    full: bool = False  # as many rows as the window asked for: more may wait


class Handoff(Protocol):
    """Hands one row to the workflow engine (`workflows.starter.TemporalHandoff`)."""

    @property
    def errors(self) -> tuple[type[Exception], ...]:
        """What `hand_over` raises for a row to try again later."""
        ...

    async def hand_over(self, row: OutboxRow) -> None:
        """Raises one of `errors` to retry later, InvalidEvent when it never can succeed."""
        ...


@dataclass(frozen=True, slots=True)
class RelayConfig:
    dsn: str  # for the LISTEN connection
    batch_size: int = 100  # the window's maximum: rows claimed, and handed over, at once
    min_batch_size: int = 8  # the window's minimum
    latency_tolerance: float = 2.0  # a batch slower than this times the baseline shrinks it
    latency_target_seconds: float = 0.25  # ... and slower than this
    poll_interval_seconds: float = 1.0
    db_timeout_seconds: float = 10.0
    max_attempts: int = 1440  # about a day of failures at RETRY's 60 s cap


Outcome = Failure | Parking | None  # None: handed over


class OutboxRelay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        handoff: Handoff,
        config: RelayConfig,
        retention: OutboxRetention | None = None,
    ) -> None:
        self._pool = pool
        self._handoff = handoff
        self._config = config
        self._retention = retention
        self._wake = asyncio.Event()
        self._listener = OutboxListener(config.dsn, self._wake, timeout=config.db_timeout_seconds)
        self._failing = False
        self._window = HandoffWindow(
            WindowPolicy(
                minimum=min(config.min_batch_size, config.batch_size),
                maximum=config.batch_size,
                tolerance=config.latency_tolerance,
                latency_target_seconds=config.latency_target_seconds,
            )
        )
        WINDOW.set(self._window.size)

    @property
    def window(self) -> int:
        """The rows the next batch claims: the hand-offs it will have in flight."""
        return self._window.size

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
                if self._retention is not None:
                    await self._retention.prune_if_due()
                if result.full and not result.errors:
                    continue
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._config.poll_interval_seconds):
                        await self._wake.wait()
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener

    async def relay_once(self) -> BatchResult:
        """Claim one batch, hand it to Temporal, record each row's outcome; one transaction."""
        limit = self._window.size
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await outbox.claim_batch(conn, limit=limit)
            if not rows:
                return BatchResult(0, 0)
            timed = await asyncio.gather(*(self._timed_attempt(row) for row in rows))
            outcomes = [outcome for outcome, _ in timed]
            relayed = [row.id for row, o in zip(rows, outcomes, strict=True) if o is None]
            failures = [o for o in outcomes if isinstance(o, Failure)]
            parkings = [o for o in outcomes if isinstance(o, Parking)]
            await self._record(conn, relayed, failures, parkings)
        latencies = [seconds for outcome, seconds in timed if outcome is None]
        for seconds in latencies:
            HANDOFF_SECONDS.observe(seconds)
        self._window.observe(claimed=len(rows), latencies=latencies, failed=len(failures))
        WINDOW.set(self._window.size)
        HANDOFFS.labels("relayed").inc(len(relayed))
        HANDOFFS.labels("failed").inc(len(failures))
        HANDOFFS.labels("parked").inc(len(parkings))
        errors = tuple(f.error for f in failures)
        self._report(len(rows), errors)
        return BatchResult(len(rows), len(relayed), errors, len(parkings), len(rows) >= limit)

    async def _timed_attempt(self, row: OutboxRow) -> tuple[Outcome, float]:
        started = time.monotonic()
        outcome = await self._attempt(row)
        return outcome, time.monotonic() - started

    async def _attempt(self, row: OutboxRow) -> Outcome:
        """Hand one row over; what to record for it."""
        try:
            await self._handoff.hand_over(row)
        except InvalidEvent as exc:
            return self._park(row, f"cannot be relayed: {exc}")
        except self._handoff.errors as exc:
            error = f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # one row's bug must not stop the others: logged, retried
            log.exception(
                "relay failed unexpectedly order_id=%s event_id=%s", row.aggregate_id, row.id
            )
            error = f"unexpected {type(exc).__name__}: {exc}"
        else:
            log.debug("relayed order_id=%s event_id=%s", row.aggregate_id, row.id)
            return None
        attempts = row.attempts + 1
        if attempts > self._config.max_attempts:
            return self._park(row, f"failed {attempts} times, last error: {error}")
        log.debug("relay failed order_id=%s event_id=%s error=%s", row.aggregate_id, row.id, error)
        return Failure(row.id, error, RETRY.delay(row.attempts))

    def _park(self, row: OutboxRow, reason: str) -> Parking:
        log.error(
            "outbox row parked, its order waits for a re-drive order_id=%s event_id=%s"
            " event_type=%s attempts=%d reason=%s",
            row.aggregate_id,
            row.id,
            row.event_type,
            row.attempts + 1,
            reason,
        )
        return Parking(row.id, reason)

    async def _record(
        self,
        conn: asyncpg.pool.PoolConnectionProxy,
        relayed: list[UUID],
        failures: list[Failure],
        parkings: list[Parking],
    ) -> None:
        """Write the batch's outcomes in one savepoint; row by row if PostgreSQL refuses."""
        try:
            async with conn.transaction():
                await outbox.mark_relayed(conn, ids=relayed)
                await outbox.mark_failed(conn, failures=failures)
                await outbox.park(conn, parkings=parkings)
            return
        except asyncpg.PostgresError as exc:
            log.warning("recording the batch failed, recording row by row error=%r", exc)
        for row_id in relayed:
            await _alone(conn, row_id, partial(outbox.mark_relayed, conn, ids=[row_id]))
        for failure in failures:
            await _alone(conn, failure.id, partial(outbox.mark_failed, conn, failures=[failure]))
        for parking in parkings:
            await _alone(conn, parking.id, partial(outbox.park, conn, parkings=[parking]))

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


async def _alone(
    conn: asyncpg.pool.PoolConnectionProxy, row_id: UUID, mark: Callable[[], Awaitable[None]]
) -> None:
    """One row's mark in a savepoint of its own: refused, it leaves the others be."""
    try:
        async with conn.transaction():
            await mark()
    except asyncpg.PostgresError as exc:
        log.error(
            "cannot record an outbox row's outcome, it will be handed over again"
            " event_id=%s error=%r",
            row_id,
            exc,
        )
