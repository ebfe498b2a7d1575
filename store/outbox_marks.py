"""SQL for the outbox: the marks a row's hand-off leaves (relayed, failed with its backoff,
parked), each only while the claim that tried it still holds the row, and RabbitMQ's
confirm (published)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from store.db import Executor

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

_PARK = """
UPDATE outbox SET attempts = attempts + 1, last_error = p.reason, parked_reason = p.reason,
    parked_at = now(), leased_until = NULL, lease_owner = NULL
FROM unnest($1::uuid[], $2::text[], $3::uuid[]) AS p(id, reason, lease)
WHERE outbox.id = p.id AND outbox.lease_owner = p.lease AND outbox.relayed_at IS NULL
"""

_MARK_PUBLISHED = """
UPDATE outbox SET published_at = coalesce(published_at, now()) WHERE id = $1
RETURNING published_at
"""


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


async def mark_published(conn: Executor, *, event_id: UUID) -> datetime | None:
    """Record RabbitMQ's confirm; None when no such row exists."""
    value = await conn.fetchval(_MARK_PUBLISHED, event_id)
    return value if isinstance(value, datetime) else None
