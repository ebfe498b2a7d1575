"""What became of each row the relay handed over, written as soon as its hand-off ends:
relayed, failed (with its own backoff) or parked, in short transactions of their own,
never one held open while Temporal answers.

Rows whose hand-offs end about together are written together, like a group commit: the
first outcome waits a moment (`LINGER_SECONDS`) for others, then they are written in one
statement (or one transaction when outcomes of several kinds are due), so a burst costs
a few writes, not one per row. If PostgreSQL refuses a group, each row is
written alone, so one row's mark never undoes another's. If PostgreSQL cannot be
reached (or is saturated), nothing is written: each row keeps its lease until it runs
out, then a relay hands it over again, which is harmless (every hand-off is idempotent).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final
from uuid import UUID

import asyncpg

from store import outbox_marks
from store.db import BUSY, UNAVAILABLE, Executor
from store.db import FAILURES as DB_FAILURES
from store.outbox_marks import Failure, Parking

log = logging.getLogger(__name__)

Outcome = Failure | Parking | None  # None: handed over

# Nothing to write with: wait for the lease. Any other PostgresError refused what we wrote.
_UNREACHABLE: Final[tuple[type[Exception], ...]] = (*UNAVAILABLE, *BUSY, asyncpg.InterfaceError)

Write = Callable[[Executor], Awaitable[None]]

# How long the first outcome of a group waits for others to be written with it: rows end
# their hand-offs some milliseconds apart, and a write per row would cost more CPU than
# the hand-off itself. A mark only frees the order's next row: a few tens of ms are nothing.
LINGER_SECONDS: Final = 0.05


@dataclass(frozen=True, slots=True)
class Mark:
    row_id: UUID
    outcome: Outcome


class _Group:
    """Marks gathered to be written together; `written` resolves once they are."""

    def __init__(self) -> None:
        self.marks: list[Mark] = []
        self.full = asyncio.Event()
        self.written: asyncio.Future[None] = asyncio.get_running_loop().create_future()


class OutcomeWriter:
    def __init__(
        self, pool: asyncpg.Pool, *, linger_seconds: float = LINGER_SECONDS, group: int = 100
    ) -> None:
        self._pool = pool
        self._linger = linger_seconds
        self._max = group
        self._group: _Group | None = None  # the one gathering marks now

    async def record(self, mark: Mark, *, last: bool = False) -> None:
        """Write `mark` with the others due about now; returns once written (or given up).

        The first mark of a group waits `linger_seconds` for others, then writes them all
        in one go; the others wait for that write. A full group, or the `last` mark due
        (no other hand-off under way), is written at once.
        """
        group = self._group
        if group is not None:
            group.marks.append(mark)
            if last or len(group.marks) >= self._max:
                group.full.set()
            await asyncio.shield(group.written)  # a waiter cancelled cancels not the group
            return
        group = self._group = _Group()
        group.marks.append(mark)
        if last:
            group.full.set()
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._linger):
                    await group.full.wait()
            self._group = None  # later marks gather the next group meanwhile
            await self._write(group.marks)
            group.written.set_result(None)
        finally:
            if self._group is group:
                self._group = None
            if not group.written.done():  # cancelled (the relay stops): so are the others
                group.written.cancel()

    async def _write(self, marks: list[Mark]) -> None:
        writes = _writes(marks)
        try:
            if len(writes) == 1:
                await writes[0](self._pool)  # one statement: its own transaction
            else:
                async with self._pool.acquire() as conn, conn.transaction():
                    for write in writes:
                        await write(conn)
            return
        except _UNREACHABLE as exc:
            log.warning(
                "cannot record %d outbox outcome(s), their rows are handed over again once"
                " their lease runs out error=%r",
                len(marks),
                exc,
            )
            return
        except asyncpg.PostgresError as exc:
            log.warning("recording outcomes together failed, recording row by row error=%r", exc)
        for mark in marks:
            [write] = _writes([mark])
            await self._alone(mark.row_id, write)

    async def _alone(self, row_id: UUID, write: Write) -> None:
        """One row's mark on its own: refused, it leaves the others be."""
        try:
            await write(self._pool)
        except DB_FAILURES as exc:
            log.error(
                "cannot record an outbox row's outcome, it will be handed over again"
                " event_id=%s error=%r",
                row_id,
                exc,
            )


def _writes(marks: list[Mark]) -> list[Write]:
    """The statements that record `marks`, one per kind of outcome present."""
    relayed = [m.row_id for m in marks if m.outcome is None]
    failures = [m.outcome for m in marks if isinstance(m.outcome, Failure)]
    parkings = [m.outcome for m in marks if isinstance(m.outcome, Parking)]
    writes: list[Write] = []
    if relayed:
        writes.append(lambda conn: outbox_marks.mark_relayed(conn, ids=relayed))
    if failures:
        writes.append(lambda conn: outbox_marks.mark_failed(conn, failures=failures))
    if parkings:
        writes.append(lambda conn: outbox_marks.park(conn, parkings=parkings))
    return writes
