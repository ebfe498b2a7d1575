"""SQL for the outbox: the one INSERT every writer uses, the relay's claims, and the marks
left by relay and publisher."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from store.db import Executor

# Every outbox row is written through this column list (store.orders, store.processed):
# followed by a VALUES or SELECT of id, order id, event type, payload, time, correlation id,
# trace context (the writer's W3C traceparent, or NULL).
INSERT_INTO_OUTBOX = (
    "INSERT INTO outbox"
    " (id, aggregate_id, event_type, payload, created_at, correlation_id, traceparent)"
)

# Rows not yet handed to Temporal, oldest first, skipping rows another relay holds and
# any row whose order still has an earlier row waiting: events of one order keep their order.
_CLAIM = """
SELECT id, aggregate_id, event_type, payload::text AS payload, attempts, correlation_id,
       traceparent
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
# Each row its own error and delay (computed by the caller from core.backoff).
_MARK_FAILED = """
UPDATE outbox SET attempts = attempts + 1, last_error = f.error,
    next_attempt_at = now() + make_interval(secs => f.delay)
FROM unnest($1::uuid[], $2::text[], $3::float8[]) AS f(id, error, delay)
WHERE outbox.id = f.id
"""
# What waits: rows not yet handed to Temporal, and rows handed over but not yet confirmed
# by RabbitMQ (order_processed rows are never published: they only signal the workflow).
_BACKLOG = """
SELECT
    count(*) FILTER (WHERE relayed_at IS NULL) AS unrelayed,
    count(*) FILTER (WHERE published_at IS NULL AND event_type <> 'order_processed')
        AS unpublished,
    coalesce(extract(epoch FROM now() - min(created_at) FILTER (WHERE relayed_at IS NULL)), 0)
        AS oldest_unrelayed_seconds
FROM outbox
WHERE relayed_at IS NULL
   OR (published_at IS NULL AND event_type <> 'order_processed')
"""
_MARK_PUBLISHED = """
UPDATE outbox SET published_at = coalesce(published_at, now()) WHERE id = $1
RETURNING published_at
"""


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: UUID
    aggregate_id: UUID  # the order's id
    event_type: str
    payload: str  # the event's JSON text, as stored
    attempts: int
    correlation_id: str | None = None
    traceparent: str | None = None  # the writer's trace context (W3C), when traced


@dataclass(frozen=True, slots=True)
class Backlog:
    unrelayed: int  # not yet handed to Temporal
    unpublished: int  # not yet confirmed by RabbitMQ
    oldest_unrelayed_seconds: float  # age of the oldest row still waiting for the relay


@dataclass(frozen=True, slots=True)
class Failure:
    """A row that could not be relayed this time: why, and how long until its next try."""

    id: UUID
    error: str
    delay_seconds: float


def _row(r: asyncpg.Record) -> OutboxRow:
    return OutboxRow(
        r["id"],
        r["aggregate_id"],
        r["event_type"],
        r["payload"],
        r["attempts"],
        r["correlation_id"],
        r["traceparent"],
    )


async def claim_batch(conn: Executor, *, limit: int) -> list[OutboxRow]:
    """Lock up to `limit` relayable rows; the caller's transaction must stay open."""
    return [_row(r) for r in await conn.fetch(_CLAIM, limit)]


async def mark_relayed(conn: Executor, *, ids: Sequence[UUID]) -> None:
    if ids:
        await conn.execute(_MARK_RELAYED, list(ids))


async def mark_failed(conn: Executor, *, failures: Sequence[Failure]) -> None:
    if failures:
        await conn.execute(
            _MARK_FAILED,
            [f.id for f in failures],
            [f.error[:1000] for f in failures],
            [f.delay_seconds for f in failures],
        )


async def mark_published(conn: Executor, *, event_id: UUID) -> datetime | None:
    """Record RabbitMQ's confirm; None when no such row exists."""
    value = await conn.fetchval(_MARK_PUBLISHED, event_id)
    return value if isinstance(value, datetime) else None


async def backlog(conn: Executor) -> Backlog:
    row = await conn.fetchrow(_BACKLOG)
    assert row is not None  # an aggregate always returns one row
    return Backlog(row["unrelayed"], row["unpublished"], float(row["oldest_unrelayed_seconds"]))
