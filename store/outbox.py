"""SQL for the outbox: the relay's claims, and the marks left by relay and publisher."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from store.db import Executor

# Rows not yet handed to Temporal, oldest first, skipping rows another relay holds and
# any row whose order still has an earlier row waiting: events of one order keep their order.
_CLAIM = """
SELECT id, aggregate_id, event_type, payload, attempts, correlation_id
FROM outbox AS o
WHERE relayed_at IS NULL AND next_attempt_at <= now()
  AND NOT EXISTS (
      SELECT 1 FROM outbox AS earlier
      WHERE earlier.aggregate_id = o.aggregate_id
        AND earlier.relayed_at IS NULL AND earlier.seq < o.seq)
ORDER BY seq
LIMIT $1
FOR UPDATE SKIP LOCKED
"""
_MARK_RELAYED = "UPDATE outbox SET relayed_at = now() WHERE id = ANY($1::uuid[])"
# Exponential backoff per row, capped at a minute.
_MARK_FAILED = """
UPDATE outbox SET attempts = attempts + 1, last_error = $2,
    next_attempt_at = now() + least(60, 0.25 * power(2, attempts)) * interval '1 second'
WHERE id = ANY($1::uuid[])
"""
_MARK_PUBLISHED = """
UPDATE outbox SET published_at = coalesce(published_at, now()) WHERE id = $1
RETURNING published_at
"""


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: UUID
    aggregate_id: UUID
    event_type: str
    payload: dict[str, Any]
    attempts: int
    correlation_id: str | None = None


def _row(r: asyncpg.Record) -> OutboxRow:
    return OutboxRow(
        r["id"],
        r["aggregate_id"],
        r["event_type"],
        r["payload"],
        r["attempts"],
        r["correlation_id"],
    )


async def claim_batch(conn: Executor, *, limit: int) -> list[OutboxRow]:
    """Lock up to `limit` relayable rows; the caller's transaction must stay open."""
    return [_row(r) for r in await conn.fetch(_CLAIM, limit)]


async def mark_relayed(conn: Executor, *, ids: list[UUID]) -> None:
    if ids:
        await conn.execute(_MARK_RELAYED, ids)


async def mark_failed(conn: Executor, *, ids: list[UUID], error: str) -> None:
    if ids:
        await conn.execute(_MARK_FAILED, ids, error[:1000])


async def mark_published(conn: Executor, *, event_id: UUID) -> datetime | None:
    """Record RabbitMQ's confirm; None when no such row exists."""
    value = await conn.fetchval(_MARK_PUBLISHED, event_id)
    return value if isinstance(value, datetime) else None
