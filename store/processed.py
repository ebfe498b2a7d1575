"""SQL for processing orders, run by the Celery task over a synchronous psycopg connection.

A delivery claims the order before its work (a lease in `order_processing`, one
statement): while the lease holds, no other delivery does the work; once it runs out (a
worker killed after claiming) the next delivery takes over. Recording the effect, the
`order_processed` outbox row and the claim's end happen in one statement: a task that
runs twice records once and tells the workflow once. A delivery that finds the order
processed but its `order_processed` row gone writes it again, so the workflow still
learns it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Final
from uuid import UUID

import psycopg

from core.events import ORDER_PROCESSED, OrderProcessedEvent, encode_event
from store.outbox_insert import INSERT_INTO_OUTBOX

if TYPE_CHECKING:  # the Celery worker, which runs the rest, loads no asyncpg
    import asyncpg

Connection = psycopg.Connection[tuple[object, ...]]

# The lease is taken when no one holds one that still runs and the order is not done (a
# claim row marked done, or, for orders processed before claims existed, a processed row).
# A concurrent claim waits for this one's commit, then sees its lease: one winner.
_CLAIM: Final = """
WITH claim AS (
    INSERT INTO order_processing AS p (order_id, lease_owner, leased_until)
    SELECT %(order_id)s, %(owner)s, now() + make_interval(secs => %(lease)s)
    WHERE NOT EXISTS (SELECT 1 FROM processed_orders WHERE order_id = %(order_id)s)
    ON CONFLICT (order_id) DO UPDATE
        SET lease_owner = EXCLUDED.lease_owner, leased_until = EXCLUDED.leased_until,
            claims = p.claims + 1
        WHERE p.done_at IS NULL AND p.leased_until <= now()
    RETURNING claims
)
SELECT (SELECT claims FROM claim),
       EXISTS (SELECT 1 FROM processed_orders WHERE order_id = %(order_id)s),
       (SELECT extract(epoch FROM leased_until - now())::float8
        FROM order_processing WHERE order_id = %(order_id)s)
"""

_RECORD: Final = f"""
WITH processed AS (
    INSERT INTO processed_orders (order_id, event_id, processed_at)
    VALUES (%(order_id)s, %(event_id)s, %(processed_at)s)
    ON CONFLICT (order_id) DO NOTHING
    RETURNING order_id, processed_at
), done AS (
    UPDATE order_processing SET done_at = %(processed_at)s
    WHERE order_id = %(order_id)s AND done_at IS NULL
)
{INSERT_INTO_OUTBOX}
SELECT %(event_id)s, order_id, '{ORDER_PROCESSED}', %(payload)s::jsonb, processed_at,
       %(correlation_id)s, %(traceparent)s
FROM processed
RETURNING aggregate_id
"""

# A processed order, and whether its `order_processed` row is still in the outbox.
_PROCESSED: Final = f"""
SELECT p.event_id, p.processed_at,
       EXISTS (SELECT 1 FROM outbox
               WHERE aggregate_id = p.order_id AND event_type = '{ORDER_PROCESSED}')
FROM processed_orders AS p WHERE p.order_id = %s
"""
# The same event again (its id, its time): the workflow counts a `processed` once.
_TELL_AGAIN: Final = f"""
{INSERT_INTO_OUTBOX}
VALUES (%(event_id)s, %(order_id)s, '{ORDER_PROCESSED}', %(payload)s::jsonb, now(),
        %(correlation_id)s, %(traceparent)s)
ON CONFLICT (id) DO NOTHING
RETURNING id
"""


@dataclass(frozen=True, slots=True)
class Claim:
    """What a delivery found when it claimed an order."""

    won: bool  # this delivery holds the lease: it does the work
    taken_over: bool = False  # ... from a delivery whose lease ran out (its worker died)
    processed: bool = False  # the effect is recorded already: nothing to do
    lease_left_seconds: float = 0.0  # neither: another delivery works, for this long at most


def claim(conn: Connection, *, order_id: UUID, owner: UUID, lease_seconds: float) -> Claim:
    """Claim the order for `lease_seconds` before doing its work.

    Raises psycopg.errors.ForeignKeyViolation when no such order exists.
    """
    row = conn.execute(
        _CLAIM, {"order_id": order_id, "owner": owner, "lease": lease_seconds}
    ).fetchone()
    assert row is not None  # a SELECT without FROM always returns its row
    claims, processed, left = row
    if isinstance(claims, int):
        return Claim(won=True, taken_over=claims > 1)
    left_seconds = float(left) if isinstance(left, float) else lease_seconds
    # At most a lease: the other's expiry less this statement's clock can exceed it by the
    # moments between the two statements (60.0008 s was seen); a retry then is not late.
    left_seconds = min(lease_seconds, max(0.0, left_seconds))
    return Claim(won=False, processed=bool(processed), lease_left_seconds=left_seconds)


def record_processed(
    conn: Connection,
    *,
    order_id: UUID,
    event_id: UUID,
    processed_at: datetime,
    correlation_id: str | None = None,
    traceparent: str | None = None,
) -> bool:
    """True when this call recorded the effect; False when it was recorded before."""
    event = OrderProcessedEvent(processed_at=processed_at)
    with conn.transaction():
        cur = conn.execute(
            _RECORD,
            {
                "order_id": order_id,
                "event_id": event_id,
                "processed_at": processed_at,
                "payload": encode_event(event_id, order_id, event).decode(),
                "correlation_id": correlation_id,
                "traceparent": traceparent,
            },
        )
        return cur.fetchone() is not None


def tell_again(
    conn: Connection,
    *,
    order_id: UUID,
    correlation_id: str | None = None,
    traceparent: str | None = None,
) -> bool:
    """For a processed order whose `order_processed` row is gone (deleted after the outbox
    retention), write it again so the relay signals the workflow. True when written."""
    found = conn.execute(_PROCESSED, (order_id,)).fetchone()
    if found is None:
        return False
    event_id, processed_at, in_outbox = found
    if in_outbox or not isinstance(event_id, UUID) or not isinstance(processed_at, datetime):
        return False
    event = OrderProcessedEvent(processed_at=processed_at)
    cur = conn.execute(
        _TELL_AGAIN,
        {
            "event_id": event_id,
            "order_id": order_id,
            "payload": encode_event(event_id, order_id, event).decode(),
            "correlation_id": correlation_id,
            "traceparent": traceparent,
        },
    )
    return cur.fetchone() is not None


_PROCESSED_AT = "SELECT processed_at FROM processed_orders WHERE order_id = $1"


async def processed_at(
    conn: asyncpg.Pool | asyncpg.Connection, *, order_id: UUID
) -> datetime | None:
    """When `process_order` recorded the order (read by the order's workflow, over asyncpg,
    when no `processed` signal came in time); None when it has not."""
    at: datetime | None = await conn.fetchval(_PROCESSED_AT, order_id)
    return at
