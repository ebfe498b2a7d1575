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

The hand-offs under way are at most the relay's window (relay.window): grown while Temporal
answers quickly and halved when its answers slow down or fail, so a large backlog is fed
to the engine at the pace it completes orders instead of flooding it with starts.

Each row fails alone: a retryable failure waits with its own backoff (core.backoff); a row
that cannot be handed over at all (an unparseable payload, an unknown event type) or that
failed more than `max_attempts` times is parked with its reason, logged at ERROR, and
holds back only its own order's later rows until it is re-driven (usecases.outbox).

Woken by LISTEN/NOTIFY, with polling as the fallback; it claims again (paced as above)
while claims come back full. While Temporal is unreachable rows wait with backoff, orders are
still accepted, and the relay catches up when Temporal returns. It also deletes old rows
(relay.retention).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Protocol
from uuid import UUID

import asyncpg

from core.backoff import RETRY
from core.events import InvalidEvent
from relay.claims import Claims
from relay.listener import OutboxListener
from relay.marks import Mark, Outcome, OutcomeWriter
from relay.metrics import HANDOFF_SECONDS, HANDOFFS, WINDOW
from relay.retention import OutboxRetention
from relay.window import HandoffWindow, WindowPolicy
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


@dataclass(slots=True)
class _Batch:
    """A claim's rows on their way: how many, how many left, for the window and pacing."""

    size: int
    room: int  # what the window had room for when it was claimed
    epoch: int  # the window's epoch then
    started: float = field(default_factory=time.monotonic)
    left: int = field(init=False)  # rows whose hand-off has not ended yet

    def __post_init__(self) -> None:
        self.left = self.size


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
    batch_size: int = 100  # the window's maximum: rows in flight at once
    min_batch_size: int = 8  # the window's minimum
    latency_tolerance: float = 2.0  # a batch slower than this times the baseline shrinks it
    latency_target_seconds: float = 0.25  # ... and slower than this
    poll_interval_seconds: float = 1.0
    db_timeout_seconds: float = 10.0
    max_attempts: int = 1440  # about a day of failures at RETRY's 60 s cap
    # How long a claimed row is this relay's: a hand-off is cut off after it, and a row
    # whose relay died is claimable again after it. Above the hand-off's own timeout.
    lease_seconds: float = 30.0


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
        self._wake = asyncio.Event()  # a NOTIFY (the listener): rows to claim
        self._progress = asyncio.Event()  # a row handed over and recorded
        self._latest: _Batch | None = None  # the batch claimed last
        self._listener = OutboxListener(config.dsn, self._wake, timeout=config.db_timeout_seconds)
        self._claims = Claims(
            pool, lease_seconds=config.lease_seconds, db_timeout=config.db_timeout_seconds
        )
        self._marks = OutcomeWriter(pool)
        self._handing = 0  # hand-offs under way: what the window bounds
        self._leases: dict[UUID, UUID] = {}  # row id -> its lease: claimed, not yet recorded
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
        """The most hand-offs under way at once, now: a claim takes what is left of it."""
        return self._window.size

    @property
    def listening(self) -> asyncio.Event:
        """Set while the LISTEN connection is up (tests wait for it)."""
        return self._listener.connected

    async def run(self) -> None:
        """Relay until cancelled; a stopped relay gives back the rows it had in flight."""
        listener = asyncio.create_task(self._listener.run(), name="outbox-listener")
        try:
            async with asyncio.TaskGroup() as batches:
                while True:
                    hold = self._hold_seconds()
                    if hold > 0:  # paced: until a hand-off ends, or the hold runs out
                        self._progress.clear()
                        await _until(self._progress, hold)
                        continue
                    self._wake.clear()  # before claiming: a NOTIFY meanwhile wakes us again
                    full = await self._claim_into(batches)
                    if self._retention is not None:
                        await self._retention.prune_if_due()
                    if full and not self._failing:
                        continue
                    await _until(self._wake, self._config.poll_interval_seconds)
        except ExceptionGroup as group:  # a batch's bug: the role fails with it, not its group
            raise group.exceptions[0] from None
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
            await self._release()

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
        batch = self._latest = _Batch(len(rows), room, epoch)
        return await self._relay(rows, lease, batch)

    def _hold_seconds(self) -> float:
        """How long the next claim waits (0: claim now). Claims are paced by the batches
        they start, about as before leases, when each claim waited for its whole batch: a
        claim waits until half the window is free and half the latest batch is handed
        over, or, when that batch is slow, `latency_target_seconds` since it started, so a
        slow hand-off holds no other row back for longer."""
        room = self._window.size - self._handing
        if room <= 0 or 2 * room < self._window.size:
            return self._config.poll_interval_seconds  # until hand-offs end
        latest = self._latest
        if latest is None or 2 * latest.left <= latest.size:
            return 0.0
        return max(0.0, latest.started + self._config.latency_target_seconds - time.monotonic())

    async def _claim_into(self, batches: asyncio.TaskGroup) -> bool:
        """Claim what the window has room for and start handing it over; True when the
        claim came back full (more may wait)."""
        room = self._window.size - self._handing
        epoch = self._window.epoch
        try:
            rows, lease = await self._claim(room)
        except DB_FAILURES as exc:
            self._report(0, (f"PostgreSQL: {exc!r}",))
            return False
        if rows:
            batch = self._latest = _Batch(len(rows), room, epoch)
            batches.create_task(self._relay(rows, lease, batch))
        return len(rows) >= room

    async def _claim(self, limit: int) -> tuple[list[OutboxRow], UUID]:
        rows, lease = await self._claims.claim(limit)
        for row in rows:
            self._leases[row.id] = lease
        self._handing += len(rows)
        return rows, lease

    async def _relay(self, rows: list[OutboxRow], lease: UUID, batch: _Batch) -> BatchResult:
        """Hand a claimed batch over, each row recorded as soon as its hand-off ends."""
        timed = await asyncio.gather(*(self._relay_row(row, lease, batch) for row in rows))
        outcomes = [outcome for outcome, _ in timed]
        latencies = [seconds for outcome, seconds in timed if outcome is None]
        relayed = sum(1 for o in outcomes if o is None)
        failures = [o for o in outcomes if isinstance(o, Failure)]
        parked = sum(1 for o in outcomes if isinstance(o, Parking))
        for seconds in latencies:
            HANDOFF_SECONDS.observe(seconds)
        self._window.observe(
            claimed=len(rows),
            latencies=latencies,
            failed=len(failures),
            room=batch.room,
            epoch=batch.epoch,
        )
        WINDOW.set(self._window.size)
        HANDOFFS.labels("relayed").inc(relayed)
        HANDOFFS.labels("failed").inc(len(failures))
        HANDOFFS.labels("parked").inc(parked)
        errors = tuple(f.error for f in failures)
        self._report(len(rows), errors)
        return BatchResult(len(rows), relayed, errors, parked, len(rows) >= batch.room)

    async def _relay_row(self, row: OutboxRow, lease: UUID, batch: _Batch) -> tuple[Outcome, float]:
        started = time.monotonic()
        try:
            outcome = await self._attempt(row, lease)
        finally:
            self._handing -= 1
            batch.left -= 1
        seconds = time.monotonic() - started
        await self._marks.record(Mark(row.id, outcome), last=self._handing == 0)
        # Not in a `finally`: a row cancelled before its mark stays, for `_release`.
        del self._leases[row.id]
        self._progress.set()  # after the mark: its order's next row is claimable now
        return outcome, seconds

    async def _attempt(self, row: OutboxRow, lease: UUID) -> Outcome:
        """Hand one row over, within its lease; what to record for it."""
        try:
            async with asyncio.timeout(self._config.lease_seconds):
                await self._handoff.hand_over(row)
        except InvalidEvent as exc:
            return self._park(row, lease, f"cannot be relayed: {exc}")
        except self._handoff.errors as exc:
            error = f"{type(exc).__name__}: {exc}"
        except TimeoutError:
            error = f"the hand-off outlasted its lease of {self._config.lease_seconds:g} s"
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
            return self._park(row, lease, f"failed {attempts} times, last error: {error}")
        log.debug("relay failed order_id=%s event_id=%s error=%s", row.aggregate_id, row.id, error)
        return Failure(row.id, error, RETRY.delay(row.attempts), lease)

    def _park(self, row: OutboxRow, lease: UUID, reason: str) -> Parking:
        log.error(
            "outbox row parked, its order waits for a re-drive order_id=%s event_id=%s"
            " event_type=%s attempts=%d reason=%s",
            row.aggregate_id,
            row.id,
            row.event_type,
            row.attempts + 1,
            reason,
        )
        return Parking(row.id, reason, lease)

    async def _release(self) -> None:
        """Give the rows still in flight back (a stop mid-hand-off), claimable at once."""
        leases, self._leases = list(self._leases.items()), {}
        await self._claims.release(leases)

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


async def _until(event: asyncio.Event, seconds: float) -> None:
    """Until `event` is set, or `seconds` passed."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
