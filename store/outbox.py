"""SQL for the outbox: the relay's claims, the marks left by relay and publisher, parking and
re-driving, and the retention's deletes. The one INSERT every writer embeds is in
`store.outbox_insert`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from core.events import NEW_ORDER, ORDER_PROCESSED
from store.db import Connection, Executor

# Rows not yet handed to Temporal nor parked, oldest first, skipping rows another relay
# holds and any row whose order still has an earlier row waiting (parked ones included):
# events of one order keep their order.
_CLAIM = """
SELECT id, aggregate_id, event_type, payload::text AS payload, attempts, correlation_id,
       traceparent
FROM outbox AS o
WHERE relayed_at IS NULL AND parked_at IS NULL AND next_attempt_at <= now()
  AND NOT EXISTS (
      SELECT 1 FROM outbox AS earlier
      WHERE earlier.aggregate_id = o.aggregate_id
        AND earlier.relayed_at IS NULL AND earlier.seq < o.seq)
ORDER BY seq
LIMIT $1
FOR UPDATE SKIP LOCKED
"""
# Each claim is planned for the outbox as it is now. A cached generic plan, made while the
# table was small (a fresh deployment, or after a lull), may check each candidate's order
# by scanning every waiting row: a claim then costs (rows claimed) x (rows waiting), and
# nothing replaces that plan until an ANALYZE (tests/integration/store/test_outbox_claim.py).
# Planning costs a fraction of a millisecond, once per batch.
_PLAN_CLAIMS_AFRESH = "SET LOCAL plan_cache_mode = force_custom_plan"
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
    count(*) FILTER (WHERE relayed_at IS NULL AND parked_at IS NULL) AS unrelayed,
    count(*) FILTER (WHERE published_at IS NULL AND event_type <> 'order_processed'
                       AND parked_at IS NULL) AS unpublished,
    count(*) FILTER (WHERE parked_at IS NOT NULL) AS parked,
    coalesce(extract(epoch FROM now() - min(created_at)
                     FILTER (WHERE relayed_at IS NULL AND parked_at IS NULL)), 0)
        AS oldest_unrelayed_seconds
FROM outbox
WHERE relayed_at IS NULL
   OR (published_at IS NULL AND event_type <> 'order_processed')
"""
_PARK = """
UPDATE outbox SET attempts = attempts + 1, last_error = p.reason, parked_reason = p.reason,
    parked_at = now()
FROM unnest($1::uuid[], $2::text[]) AS p(id, reason)
WHERE outbox.id = p.id
"""
# Parked rows back to the relay's work list, as if new (the last error is kept).
_REDRIVE = """
UPDATE outbox SET parked_at = NULL, parked_reason = NULL, attempts = 0, next_attempt_at = now()
WHERE parked_at IS NOT NULL
  AND ($1::uuid IS NULL OR aggregate_id = $1) AND ($2::uuid[] IS NULL OR id = ANY($2))
RETURNING id
"""
_PARKED = """
SELECT id, aggregate_id, event_type, attempts, parked_at, parked_reason FROM outbox
WHERE parked_at IS NOT NULL ORDER BY parked_at LIMIT $1
"""
_COUNT_PARKED = "SELECT count(*) FROM outbox WHERE parked_at IS NOT NULL"
_MARK_PUBLISHED = """
UPDATE outbox SET published_at = coalesce(published_at, now()) WHERE id = $1
RETURNING published_at
"""
# Whether the order's `new_order` row was handed over (or deleted after the retention).
_HANDED_OVER = f"""
SELECT NOT EXISTS (
    SELECT 1 FROM outbox
    WHERE aggregate_id = $1 AND event_type = '{NEW_ORDER}' AND relayed_at IS NULL)
"""
# Done with: relayed, and published (an `order_processed` event is only ever relayed, as
# a signal), both longer ago than the retention. Never a row still waiting or parked.
_DELETE_EXPIRED = f"""
DELETE FROM outbox WHERE id IN (
    SELECT id FROM outbox
    WHERE relayed_at < now() - $1::interval AND parked_at IS NULL
      AND (published_at < now() - $1::interval OR event_type = '{ORDER_PROCESSED}')
    LIMIT $2
    FOR UPDATE SKIP LOCKED)
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
    parked: int  # given up on, with a reason: waiting for an operator
    oldest_unrelayed_seconds: float  # age of the oldest row still waiting for the relay


@dataclass(frozen=True, slots=True)
class Failure:
    """A row that could not be relayed this time: why, and how long until its next try."""

    id: UUID
    error: str
    delay_seconds: float


@dataclass(frozen=True, slots=True)
class Parking:
    """A row the relay stops trying: why."""

    id: UUID
    reason: str


@dataclass(frozen=True, slots=True)
class ParkedRow:
    id: UUID
    aggregate_id: UUID
    event_type: str
    attempts: int
    parked_at: datetime
    reason: str


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


async def claim_batch(conn: Connection, *, limit: int) -> list[OutboxRow]:
    """Lock up to `limit` relayable rows; the caller's transaction must stay open."""
    await conn.execute(_PLAN_CLAIMS_AFRESH)
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


async def park(conn: Executor, *, parkings: Sequence[Parking]) -> None:
    if parkings:
        await conn.execute(_PARK, [p.id for p in parkings], [p.reason[:1000] for p in parkings])


async def redrive(
    conn: Executor, *, order_id: UUID | None = None, event_ids: Sequence[UUID] | None = None
) -> list[UUID]:
    """Un-park rows (all, an order's, or the given ones); returns their ids."""
    rows = await conn.fetch(_REDRIVE, order_id, list(event_ids) if event_ids is not None else None)
    return [r["id"] for r in rows]


async def parked(conn: Executor, *, limit: int = 100) -> list[ParkedRow]:
    rows = await conn.fetch(_PARKED, limit)
    return [
        ParkedRow(
            r["id"],
            r["aggregate_id"],
            r["event_type"],
            r["attempts"],
            r["parked_at"],
            r["parked_reason"],
        )
        for r in rows
    ]


async def count_parked(conn: Executor) -> int:
    n: int = await conn.fetchval(_COUNT_PARKED)
    return n


async def mark_published(conn: Executor, *, event_id: UUID) -> datetime | None:
    """Record RabbitMQ's confirm; None when no such row exists."""
    value = await conn.fetchval(_MARK_PUBLISHED, event_id)
    return value if isinstance(value, datetime) else None


async def backlog(conn: Executor) -> Backlog:
    row = await conn.fetchrow(_BACKLOG)
    assert row is not None  # an aggregate always returns one row
    return Backlog(
        row["unrelayed"],
        row["unpublished"],
        row["parked"],
        float(row["oldest_unrelayed_seconds"]),
    )


async def handed_over(conn: Executor, *, order_id: UUID) -> bool:
    """True once the order's `new_order` row was relayed (or deleted after the retention)."""
    return bool(await conn.fetchval(_HANDED_OVER, order_id))


async def delete_expired(conn: Executor, *, older_than: timedelta, limit: int) -> int:
    """Delete up to `limit` rows done with for longer than `older_than`; how many went."""
    status = await conn.execute(_DELETE_EXPIRED, older_than, limit)
    return int(status.split()[-1])
