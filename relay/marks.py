"""What became of each row the relay handed over, written as soon as its hand-off ends:
relayed, failed (with its own backoff) or parked, in short transactions of their own,
never one held open while Temporal answers.

Rows whose hand-offs end together are written together, like a group commit: the first
to end writes its own outcome, whatever ended meanwhile is written next, in one
statement (or one transaction when outcomes of several kinds are due), and so on, so a
batch costs a few writes, not one per row. If PostgreSQL refuses a group, each row is
written alone, so one row's mark never undoes another's. If PostgreSQL cannot be
reached (or is saturated), nothing is written: each row keeps its lease until it runs
out, then a relay hands it over again, which is harmless (every hand-off is idempotent).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final
from uuid import UUID

import asyncpg

from store import outbox
from store.db import BUSY, UNAVAILABLE, Executor
from store.db import FAILURES as DB_FAILURES
from store.outbox import Failure, Parking

log = logging.getLogger(__name__)

Outcome = Failure | Parking | None  # None: handed over

# Nothing to write with: wait for the lease. Any other PostgresError refused what we wrote.
_UNREACHABLE: Final[tuple[type[Exception], ...]] = (*UNAVAILABLE, *BUSY, asyncpg.InterfaceError)

Write = Callable[[Executor], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Mark:
    row_id: UUID
    outcome: Outcome


class OutcomeWriter:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._pending: list[Mark] = []
        self._writing = asyncio.Lock()

    async def record(self, mark: Mark) -> None:
        """Write `mark`, with any others due; returns once it was written (or given up)."""
        self._pending.append(mark)
        async with self._writing:
            if not self._pending:
                return  # written with the group before ours
            marks, self._pending = self._pending, []
            await self._write(marks)

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
        writes.append(lambda conn: outbox.mark_relayed(conn, ids=relayed))
    if failures:
        writes.append(lambda conn: outbox.mark_failed(conn, failures=failures))
    if parkings:
        writes.append(lambda conn: outbox.park(conn, parkings=parkings))
    return writes
