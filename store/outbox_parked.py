"""SQL for the outbox's parked rows: listed, counted, re-driven to the relay, discarded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from store.db import Executor

# Parked rows back to the relay's work list, as if new (the last error is kept).
_REDRIVE = """
UPDATE outbox SET parked_at = NULL, parked_reason = NULL, attempts = 0, next_attempt_at = now()
WHERE parked_at IS NOT NULL
  AND ($1::uuid IS NULL OR aggregate_id = $1) AND ($2::uuid[] IS NULL OR id = ANY($2))
RETURNING id
"""

# Parked rows thrown away for good (an operator's `orders outbox discard`): only parked
# ones, never a row waiting or leased. The order's later rows are then claimable.
_DISCARD = """
DELETE FROM outbox
WHERE parked_at IS NOT NULL
  AND ($1::uuid IS NULL OR aggregate_id = $1) AND ($2::uuid[] IS NULL OR id = ANY($2))
RETURNING id, aggregate_id, event_type, attempts, parked_at, parked_reason
"""

_PARKED = """
SELECT id, aggregate_id, event_type, attempts, parked_at, parked_reason FROM outbox
WHERE parked_at IS NOT NULL ORDER BY parked_at LIMIT $1
"""

_COUNT_PARKED = "SELECT count(*) FROM outbox WHERE parked_at IS NOT NULL"


@dataclass(frozen=True, slots=True)
class ParkedRow:
    id: UUID
    aggregate_id: UUID
    event_type: str
    attempts: int
    parked_at: datetime
    reason: str


async def redrive(
    conn: Executor, *, order_id: UUID | None = None, event_ids: Sequence[UUID] | None = None
) -> list[UUID]:
    """Un-park rows (all, an order's, or the given ones); returns their ids."""
    rows = await conn.fetch(_REDRIVE, order_id, list(event_ids) if event_ids is not None else None)
    return [r["id"] for r in rows]


def _parked_row(r: asyncpg.Record) -> ParkedRow:
    return ParkedRow(
        r["id"],
        r["aggregate_id"],
        r["event_type"],
        r["attempts"],
        r["parked_at"],
        r["parked_reason"],
    )


async def parked(conn: Executor, *, limit: int = 100) -> list[ParkedRow]:
    return [_parked_row(r) for r in await conn.fetch(_PARKED, limit)]


async def discard(
    conn: Executor, *, order_id: UUID | None = None, event_ids: Sequence[UUID] | None = None
) -> list[ParkedRow]:
    """Delete parked rows (all, an order's, or the given ones); returns what they were."""
    ids = list(event_ids) if event_ids is not None else None
    return [_parked_row(r) for r in await conn.fetch(_DISCARD, order_id, ids)]


async def count_parked(conn: Executor) -> int:
    n: int = await conn.fetchval(_COUNT_PARKED)
    return n
