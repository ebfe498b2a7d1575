"""SQL for the outbox, by purpose. Here: the relay's claims (leases) and giving them back.
The marks the relay and the publisher leave: `store.outbox_marks`; parked rows and what an
operator does with them: `store.outbox_parked`; what waits, and the retention's deletes:
`store.outbox_backlog`. The one INSERT every writer embeds: `store.outbox_insert`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from core.envelope import EventEnvelope
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

# A stopping relay gives its rows back at once, instead of after the lease.
_RELEASE = """
UPDATE outbox SET leased_until = NULL, lease_owner = NULL
FROM unnest($1::uuid[], $2::uuid[]) AS l(id, lease)
WHERE outbox.id = l.id AND outbox.lease_owner = l.lease
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


async def release(conn: Executor, *, leases: Sequence[tuple[UUID, UUID]]) -> None:
    """Give (row id, lease) pairs back, claimable at once, where that lease still holds."""
    if leases:
        await conn.execute(_RELEASE, [row for row, _ in leases], [lease for _, lease in leases])
