"""SQL for the outbox: the relay's claims (leases), the marks left by relay and publisher,
parking and re-driving, and the retention's deletes. The one INSERT every writer embeds is in
`store.outbox_insert`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from core.envelope import EventEnvelope
from core.events import NEW_ORDER, ORDER_PROCESSED
from store.db import Connection, Executor

# Rows not yet handed to Temporal, nor parked, nor leased by a relay (a lease that ran out
# counts as none), oldest first, skipping rows another relay is claiming and any row whose
# order still has an earlier row waiting (parked or leased ones included): events of one
# order keep their order. The claim leases them (committed by the caller's short
# transaction), so the hand-off that follows holds no lock.
_CLAIMABLE = """
SELECT id FROM outbox AS o
WHERE relayed_at IS NULL AND parked_at IS NULL AND next_attempt_at <= now()
  AND (leased_until IS NULL OR leased_until <= now())
  AND NOT EXISTS (
      SELECT 1 FROM outbox AS earlier
      WHERE earlier.aggregate_id = o.aggregate_id
        AND earlier.relayed_at IS NULL AND earlier.seq < o.seq)
ORDER BY seq
LIMIT $1
FOR UPDATE SKIP LOCKED
"""
_LEASED = """RETURNING outbox.id, aggregate_id, event_type, payload::text AS payload, attempts,
          created_at, correlation_id, traceparent"""
_CLAIM = f"""
WITH claimable AS ({_CLAIMABLE})
UPDATE outbox SET leased_until = now() + make_interval(secs => $2), lease_owner = $3
FROM claimable WHERE outbox.id = claimable.id
{_LEASED}
"""
# The same claim a row at a time, for when PostgreSQL refuses to update one of them.
_LEASE_ONE = f"""
UPDATE outbox SET leased_until = now() + make_interval(secs => $2), lease_owner = $3
WHERE id = $1
{_LEASED}
"""
# Each claim is planned for the outbox as it is now. A cached generic plan, made while the
# table was small (a fresh deployment, or after a lull), may check each candidate's order
# by scanning every waiting row: a claim then costs (rows claimed) x (rows waiting), and
# nothing replaces that plan until an ANALYZE (tests/integration/store/test_outbox_claim.py).
# Planning costs a fraction of a millisecond, once per batch.
_PLAN_CLAIMS_AFRESH = "SET LOCAL plan_cache_mode = force_custom_plan"
# Relayed is a fact whoever's lease the row is under: the first mark's time stays.
_MARK_RELAYED = """
UPDATE outbox SET relayed_at = coalesce(relayed_at, now()), leased_until = NULL,
    lease_owner = NULL
WHERE id = ANY($1::uuid[])
"""
# Each row its own error and delay (computed by the caller from core.backoff); only while
# the failing claim still holds the row (a claim whose lease ran out was taken over).
_MARK_FAILED = """
UPDATE outbox SET attempts = attempts + 1, last_error = f.error,
    next_attempt_at = now() + make_interval(secs => f.delay), leased_until = NULL,
    lease_owner = NULL
FROM unnest($1::uuid[], $2::text[], $3::float8[], $4::uuid[]) AS f(id, error, delay, lease)
WHERE outbox.id = f.id AND outbox.lease_owner = f.lease AND outbox.relayed_at IS NULL
"""
# A stopping relay gives its rows back at once, instead of after the lease.
_RELEASE = """
UPDATE outbox SET leased_until = NULL, lease_owner = NULL
FROM unnest($1::uuid[], $2::uuid[]) AS l(id, lease)
WHERE outbox.id = l.id AND outbox.lease_owner = l.lease
"""
# What waits: rows not yet handed to Temporal, and rows handed over but not yet confirmed
# by RabbitMQ (order_processed rows are never published: they only signal the workflow).
_BACKLOG = f"""
SELECT
    count(*) FILTER (WHERE relayed_at IS NULL AND parked_at IS NULL) AS unrelayed,
    count(*) FILTER (WHERE published_at IS NULL AND event_type <> '{ORDER_PROCESSED}'
                       AND parked_at IS NULL) AS unpublished,
    count(*) FILTER (WHERE parked_at IS NOT NULL) AS parked,
    coalesce(extract(epoch FROM now() - min(created_at)
                     FILTER (WHERE relayed_at IS NULL AND parked_at IS NULL)), 0)
        AS oldest_unrelayed_seconds
FROM outbox
WHERE relayed_at IS NULL
   OR (published_at IS NULL AND event_type <> '{ORDER_PROCESSED}')
"""
_PARK = """
UPDATE outbox SET attempts = attempts + 1, last_error = p.reason, parked_reason = p.reason,
    parked_at = now(), leased_until = NULL, lease_owner = NULL
FROM unnest($1::uuid[], $2::text[], $3::uuid[]) AS p(id, reason, lease)
WHERE outbox.id = p.id AND outbox.lease_owner = p.lease AND outbox.relayed_at IS NULL
"""
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
    """A claimed row: its event, as every later hop carries it, and its relay attempts."""

    envelope: EventEnvelope
    attempts: int

    @property
    def id(self) -> UUID:
        return UUID(self.envelope.event_id)

    @property
    def aggregate_id(self) -> UUID:
        return UUID(self.envelope.aggregate_id)

    @property
    def event_type(self) -> str:
        return self.envelope.event_type


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
    lease: UUID  # the claim that tried it: the mark applies only while that claim holds it


@dataclass(frozen=True, slots=True)
class Parking:
    """A row the relay stops trying: why."""

    id: UUID
    reason: str
    lease: UUID  # the claim that tried it: the mark applies only while that claim holds it


@dataclass(frozen=True, slots=True)
class ParkedRow:
    id: UUID
    aggregate_id: UUID
    event_type: str
    attempts: int
    parked_at: datetime
    reason: str


def _row(r: asyncpg.Record) -> OutboxRow:
    envelope = EventEnvelope(
        event_id=str(r["id"]),
        event_type=r["event_type"],
        aggregate_id=str(r["aggregate_id"]),
        occurred_at=r["created_at"],
        payload=r["payload"],
        correlation_id=r["correlation_id"] or "",
        traceparent=r["traceparent"] or "",
    )
    return OutboxRow(envelope, r["attempts"])


async def claim_batch(
    conn: Connection, *, limit: int, lease: UUID, lease_seconds: float
) -> list[OutboxRow]:
    """Lease up to `limit` relayable rows to the claim `lease` for `lease_seconds`; run it in
    a short transaction of its own: its commit is the claim."""
    await conn.execute(_PLAN_CLAIMS_AFRESH)
    return [_row(r) for r in await conn.fetch(_CLAIM, limit, lease_seconds, lease)]


async def claim_each(
    conn: Connection, *, limit: int, lease: UUID, lease_seconds: float
) -> tuple[list[OutboxRow], list[tuple[UUID, str]]]:
    """`claim_batch` a row at a time, each in a savepoint, when PostgreSQL refused the batch
    (an UPDATE of one row refused: a trigger, a constraint). The rows leased, and the ids of
    the rows it refused with the reason: they stay where they are, holding back only their
    own order's later rows."""
    await conn.execute(_PLAN_CLAIMS_AFRESH)
    rows: list[OutboxRow] = []
    refused: list[tuple[UUID, str]] = []
    for candidate in await conn.fetch(_CLAIMABLE, limit):
        try:
            async with conn.transaction():
                row = await conn.fetchrow(_LEASE_ONE, candidate["id"], lease_seconds, lease)
        except asyncpg.PostgresError as exc:
            if not refusal(exc):
                raise
            refused.append((candidate["id"], f"{type(exc).__name__}: {exc}"))
            continue
        if row is not None:
            rows.append(_row(row))
    return rows, refused


def refusal(exc: asyncpg.PostgresError) -> bool:
    """PostgreSQL refused the statement itself (a trigger, a constraint), rather than being
    unreachable or too busy to run it: running it again would be refused again."""
    return not isinstance(
        exc,
        asyncpg.PostgresConnectionError
        | asyncpg.QueryCanceledError
        | asyncpg.TooManyConnectionsError
        | asyncpg.CannotConnectNowError,
    )


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
            [f.lease for f in failures],
        )


async def park(conn: Executor, *, parkings: Sequence[Parking]) -> None:
    if parkings:
        await conn.execute(
            _PARK,
            [p.id for p in parkings],
            [p.reason[:1000] for p in parkings],
            [p.lease for p in parkings],
        )


async def release(conn: Executor, *, leases: Sequence[tuple[UUID, UUID]]) -> None:
    """Give (row id, lease) pairs back, claimable at once, where that lease still holds."""
    if leases:
        await conn.execute(_RELEASE, [row for row, _ in leases], [lease for _, lease in leases])


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
