"""The outbox relay: the only way an order reaches Temporal.

It claims a batch of rows with a lease (relay.claims: one short transaction that commits
`leased_until` and the claim's id; FOR UPDATE SKIP LOCKED, so several relays share the
work; per-order ordering is in the claim), hands every row to Temporal concurrently,
holding no lock and no connection, and records each row's outcome once its hand-off ends
(relay.marks: short transactions of their own). So nothing waits on a row while Temporal
answers (the publish activity's `published` mark least of all), and a slow hand-off holds
back only its own row: the next claim waits for half the latest batch (and half the
window), not for the whole batch, and for `latency_target_seconds` at most when that
batch is slow. A hand-off is bounded by the lease; a relay killed mid-hand-off leaves its
rows leased until the lease runs out, then any relay takes them (a hand-off is
idempotent); a relay stopped gracefully gives them back at once.

The hand-offs under way are at most the relay's window (relay.window), so a backlog is
fed to the engine at the pace it completes orders. Each row fails alone, with its own
backoff, or is parked (relay.handoff); relay.batch holds a claim's rows and the pacing.

Woken by LISTEN/NOTIFY while it waits for work, with polling as the fallback; it claims
again (paced as above) while claims come back full, and writers send no NOTIFY meanwhile
(relay.wakeups). While Temporal is unreachable rows wait with backoff, orders are
still accepted, and the relay catches up when Temporal returns. It also deletes old rows
(relay.retention).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from uuid import UUID

import asyncpg

from relay.batch import Batch, BatchResult, FailureBurst, RelayConfig, hold_seconds
from relay.claims import Claims
from relay.handoff import Handoff, RowHandoff
from relay.marks import Mark, Outcome, OutcomeWriter
from relay.metrics import WINDOW, observe
from relay.retention import OutboxRetention
from relay.wakeups import WakeUps, until
from relay.window import HandoffWindow
from store.db import FAILURES as DB_FAILURES
from store.outbox import OutboxRow
from store.outbox_marks import Failure, Parking

__all__ = ["BatchResult", "Handoff", "OutboxRelay", "RelayConfig"]


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
        self._row_handoff = RowHandoff(handoff, config.lease_seconds, config.max_attempts)
        self._config = config
        self._retention = retention
        self._progress = asyncio.Event()  # a row handed over and recorded
        self._latest: Batch | None = None  # the batch claimed last
        self._wakeups = WakeUps(pool, config.dsn, timeout=config.db_timeout_seconds)
        self._claims = Claims(
            pool, lease_seconds=config.lease_seconds, db_timeout=config.db_timeout_seconds
        )
        self._marks = OutcomeWriter(pool)
        self._handing = 0  # hand-offs under way: what the window bounds
        self._leases: dict[UUID, UUID] = {}  # row id -> its lease: claimed, not yet recorded
        self._burst = FailureBurst()
        self._window = HandoffWindow(config.window_policy())
        WINDOW.set(self._window.size)

    @property
    def window(self) -> int:
        """The most hand-offs under way at once, now: a claim takes what is left of it."""
        return self._window.size

    @property
    def listening(self) -> asyncio.Event:
        """Set while the LISTEN connection is up (tests wait for it)."""
        return self._wakeups.connected

    async def run(self) -> None:
        """Relay until cancelled; a stopped relay gives back the rows it had in flight."""
        listener = asyncio.create_task(self._wakeups.run_listener(), name="outbox-listener")
        try:
            async with asyncio.TaskGroup() as batches:
                while True:
                    hold = self._hold_seconds()
                    if hold > 0:  # paced: until a hand-off ends, or the hold runs out
                        self._progress.clear()
                        await until(self._progress, hold)
                        continue
                    self._wakeups.clear()  # before claiming: a NOTIFY meanwhile wakes us again
                    full = await self._claim_into(batches)
                    if self._retention is not None:
                        await self._retention.prune_if_due()
                    if full and not self._burst.failing:
                        await self._wakeups.busy()
                        continue
                    if await self._wakeups.listen():
                        continue  # rows committed before it sent no NOTIFY: claim once more
                    await self._wakeups.wait(self._config.poll_interval_seconds)
        except ExceptionGroup as group:  # a batch's bug: the role fails with it, not its group
            raise group.exceptions[0] from None
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
            await self._release()
            await self._wakeups.stop()

    async def relay_once(self) -> BatchResult:
        """Claim one batch (as many rows as the window has room for), hand it to Temporal,
        and return once every row's outcome is recorded."""
        room = self._window.size - self._handing
        if room <= 0:
            return BatchResult(0, 0)
        epoch = self._window.epoch
        rows, lease = await self._claim(room)
        if not rows:
            return BatchResult(0, 0)
        batch = self._latest = Batch(len(rows), room, epoch)
        return await self._relay(rows, lease, batch)

    def _hold_seconds(self) -> float:
        """How long the next claim waits (0: claim now): relay.batch.hold_seconds."""
        return hold_seconds(
            window=self._window.size,
            handing=self._handing,
            latest=self._latest,
            poll_interval=self._config.poll_interval_seconds,
            latency_target=self._config.latency_target_seconds,
        )

    async def _claim_into(self, batches: asyncio.TaskGroup) -> bool:
        """Claim what the window has room for and start handing it over; True when the
        claim came back full (more may wait)."""
        room = self._window.size - self._handing
        epoch = self._window.epoch
        try:
            rows, lease = await self._claim(room)
        except DB_FAILURES as exc:
            self._burst.report(0, (f"PostgreSQL: {exc!r}",))
            return False
        if rows:
            batch = self._latest = Batch(len(rows), room, epoch)
            batches.create_task(self._relay(rows, lease, batch))
        return len(rows) >= room

    async def _claim(self, limit: int) -> tuple[list[OutboxRow], UUID]:
        rows, lease = await self._claims.claim(limit)
        for row in rows:
            self._leases[row.id] = lease
        self._handing += len(rows)
        return rows, lease

    async def _relay(self, rows: list[OutboxRow], lease: UUID, batch: Batch) -> BatchResult:
        """Hand a claimed batch over, each row recorded as soon as its hand-off ends."""
        timed = await asyncio.gather(*(self._relay_row(row, lease, batch) for row in rows))
        latencies = [seconds for outcome, seconds in timed if outcome is None]
        failures = [o for o, _ in timed if isinstance(o, Failure)]
        relayed, parked = len(latencies), sum(1 for o, _ in timed if isinstance(o, Parking))
        self._window.observe(
            claimed=len(rows),
            latencies=latencies,
            failed=len(failures),
            room=batch.room,
            epoch=batch.epoch,
        )
        observe(self._window.size, latencies, len(failures), parked)
        errors = tuple(f.error for f in failures)
        self._burst.report(len(rows), errors)
        return BatchResult(len(rows), relayed, errors, parked, len(rows) >= batch.room)

    async def _relay_row(self, row: OutboxRow, lease: UUID, batch: Batch) -> tuple[Outcome, float]:
        started = time.monotonic()
        try:
            outcome = await self._row_handoff.attempt(row, lease)
        finally:
            self._handing -= 1
            batch.left -= 1
        seconds = time.monotonic() - started
        await self._marks.record(Mark(row.id, outcome), last=self._handing == 0)
        # Not in a `finally`: a row cancelled before its mark stays, for `_release`.
        del self._leases[row.id]
        self._progress.set()  # after the mark: its order's next row is claimable now
        return outcome, seconds

    async def _release(self) -> None:
        """Give the rows still in flight back (a stop mid-hand-off), claimable at once."""
        leases, self._leases = list(self._leases.items()), {}
        await self._claims.release(leases)
