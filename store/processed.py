"""SQL for processed orders, run by the Celery task over a synchronous psycopg connection.

Recording the effect and writing the `order_processed` outbox row happen in one
statement: a task that runs twice records once and tells the workflow once.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

import psycopg

from core.events import ORDER_PROCESSED, OrderProcessedEvent, encode_event
from store.outbox_insert import INSERT_INTO_OUTBOX

if TYPE_CHECKING:  # the Celery worker, which runs the rest, loads no asyncpg
    import asyncpg

_RECORD = f"""
WITH processed AS (
    INSERT INTO processed_orders (order_id, event_id, processed_at)
    VALUES (%(order_id)s, %(event_id)s, %(processed_at)s)
    ON CONFLICT (order_id) DO NOTHING
    RETURNING order_id, processed_at
)
{INSERT_INTO_OUTBOX}
SELECT %(event_id)s, order_id, '{ORDER_PROCESSED}', %(payload)s::jsonb, processed_at,
       %(correlation_id)s, %(traceparent)s
FROM processed
RETURNING aggregate_id
"""


def record_processed(
    conn: psycopg.Connection[tuple[object, ...]],
    *,
    order_id: UUID,
    event_id: UUID,
    processed_at: datetime,
    correlation_id: str | None = None,
    traceparent: str | None = None,
) -> bool:
    """True when this call recorded the effect; False when it was recorded before."""
    event = OrderProcessedEvent(event_id=event_id, order_id=order_id, processed_at=processed_at)
    with conn.transaction():
        cur = conn.execute(
            _RECORD,
            {
                "order_id": order_id,
                "event_id": event_id,
                "processed_at": processed_at,
                "payload": encode_event(event).decode(),
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
