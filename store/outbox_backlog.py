"""SQL for what the outbox holds: the backlog by state, whether an order was handed over,
and the retention's deletes of rows done with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from core.events import NEW_ORDER
from core.registry import EVENT_TYPES
from store.db import Executor

# The types the registry never publishes (they only signal a workflow, as order_processed
# does): their rows are done once relayed. Bound as $1 of the two statements that need it.
_UNPUBLISHED_TYPES: list[str] = sorted(t.name for t in EVENT_TYPES.values() if not t.published)

# What waits: rows not yet handed to Temporal, and rows handed over but not yet confirmed
# by RabbitMQ (of a type that is published at all).
_BACKLOG = """
SELECT
    count(*) FILTER (WHERE relayed_at IS NULL AND parked_at IS NULL) AS unrelayed,
    count(*) FILTER (WHERE published_at IS NULL AND event_type <> ALL($1::text[])
                       AND parked_at IS NULL) AS unpublished,
    count(*) FILTER (WHERE parked_at IS NOT NULL) AS parked,
    coalesce(extract(epoch FROM now() - min(created_at)
                     FILTER (WHERE relayed_at IS NULL AND parked_at IS NULL)), 0)
        AS oldest_unrelayed_seconds
FROM outbox
WHERE relayed_at IS NULL
   OR (published_at IS NULL AND event_type <> ALL($1::text[]))
"""

# Whether the order's `new_order` row was handed over (or deleted after the retention).
_HANDED_OVER = f"""
SELECT NOT EXISTS (
    SELECT 1 FROM outbox
    WHERE aggregate_id = $1 AND event_type = '{NEW_ORDER}' AND relayed_at IS NULL)
"""

# Done with: relayed, and published (a type that is never published is only ever relayed,
# as a signal), both longer ago than the retention. Never a row still waiting or parked.
_DELETE_EXPIRED = """
DELETE FROM outbox WHERE id IN (
    SELECT id FROM outbox
    WHERE relayed_at < now() - $1::interval AND parked_at IS NULL
      AND (published_at < now() - $1::interval OR event_type = ANY($3::text[]))
    LIMIT $2
    FOR UPDATE SKIP LOCKED)
"""


@dataclass(frozen=True, slots=True)
class Backlog:
    unrelayed: int  # not yet handed to Temporal
    unpublished: int  # not yet confirmed by RabbitMQ
    parked: int  # given up on, with a reason: waiting for an operator
    oldest_unrelayed_seconds: float  # age of the oldest row still waiting for the relay


async def backlog(conn: Executor) -> Backlog:
    row = await conn.fetchrow(_BACKLOG, _UNPUBLISHED_TYPES)
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
    status = await conn.execute(_DELETE_EXPIRED, older_than, limit, _UNPUBLISHED_TYPES)
    return int(status.split()[-1])
