"""SQL for the orders aggregate. Each write also writes its outbox row, in one statement."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from core.events import NEW_ORDER, STATUS_CHANGED, NewOrderEvent, StatusChangedEvent, encode_event
from core.lifecycle import OrderStatus
from core.order import Order, OrderPage, items_from_json, items_to_json, public_items, public_order
from store.db import Executor
from store.outbox_insert import INSERT_INTO_OUTBOX

_COLUMNS = "id, user_id, items, total_price, status, created_at, updated_at, version"

# One statement, so one round trip and one implicit transaction: the order and its event,
# written only while the user has fewer than $11 PENDING orders (0: no cap). The user's row
# is locked first, so concurrent creates of one user queue here and each sees the count
# the one before it left (users.pending_orders, kept by a trigger: migration 0009).
_INSERT_WITH_EVENT = f"""
WITH slot AS (
    SELECT id FROM users
    WHERE id = $2 AND ($11::integer = 0 OR pending_orders < $11)
    FOR NO KEY UPDATE
), new_order AS (
    INSERT INTO orders ({_COLUMNS})
    SELECT $1, id, $3, $4, $5, $6, $6, 1 FROM slot
    RETURNING id, created_at
)
{INSERT_INTO_OUTBOX}
SELECT $7, id, '{NEW_ORDER}', $8, created_at, $9, $10 FROM new_order
"""

_PENDING_OF = "SELECT pending_orders FROM users WHERE id = $1"

_GET = f"SELECT {_COLUMNS} FROM orders WHERE id = $1"
_LOCK = f"SELECT {_COLUMNS} FROM orders WHERE id = $1 FOR UPDATE"

# Conditional on the current status: a concurrent change makes it update nothing.
_SET_STATUS_WITH_EVENT = f"""
WITH changed AS (
    UPDATE orders SET status = $3, updated_at = $4, version = version + 1
    WHERE id = $1 AND status = $2
    RETURNING {_COLUMNS}
), event AS (
    {INSERT_INTO_OUTBOX}
    SELECT $5, id, '{STATUS_CHANGED}', $6, $4, $7, $8 FROM changed
)
SELECT {_COLUMNS} FROM changed
"""

# The list reads only what the public shape shows, the amount already a double (numeric(12,2)
# converts to the nearest double, as float(Decimal) does), and builds no Order per row.
_LIST_BY_USER = """
SELECT id::text AS id, user_id, items, total_price::float8 AS total_price, status,
       created_at, updated_at
FROM orders
WHERE user_id = $1
  AND ($2::text IS NULL OR status = $2)
  AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4::uuid))
ORDER BY created_at DESC, id DESC
LIMIT $5
"""


def _order(row: asyncpg.Record) -> Order:
    return Order(
        id=row["id"],
        user_id=row["user_id"],
        items=items_from_json(row["items"]),
        total_price=row["total_price"],
        status=OrderStatus(row["status"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        version=row["version"],
    )


async def insert_order(
    conn: Executor,
    *,
    order: Order,
    event_id: UUID,
    event: NewOrderEvent,
    correlation_id: str | None = None,
    traceparent: str | None = None,
    max_pending: int = 0,
) -> bool:
    """Write a new order and its `new_order` outbox row atomically; False, and nothing
    written, when the user has `max_pending` PENDING orders already (0: no cap) or is gone."""
    status = await conn.execute(
        _INSERT_WITH_EVENT,
        order.id,
        order.user_id,
        items_to_json(order.items),
        order.total_price,
        order.status.value,
        order.created_at,
        event_id,
        encode_event(event_id, order.id, event).decode(),
        correlation_id,
        traceparent,
        max_pending,
    )
    return status != "INSERT 0 0"


async def pending_orders(conn: Executor, *, user_id: int) -> int | None:
    """The user's PENDING orders; None when there is no such user."""
    count: int | None = await conn.fetchval(_PENDING_OF, user_id)
    return count


async def get_order(conn: Executor, *, order_id: UUID) -> Order | None:
    row = await conn.fetchrow(_GET, order_id)
    return _order(row) if row else None


async def lock_order(conn: Executor, *, order_id: UUID) -> Order | None:
    """The order, locked until the caller's transaction ends."""
    row = await conn.fetchrow(_LOCK, order_id)
    return _order(row) if row else None


async def set_status(
    conn: Executor,
    *,
    order_id: UUID,
    event_id: UUID,
    event: StatusChangedEvent,
    correlation_id: str | None = None,
    traceparent: str | None = None,
) -> Order | None:
    """Apply `event` if the order still has `event.old_status`; None when it has not."""
    row = await conn.fetchrow(
        _SET_STATUS_WITH_EVENT,
        order_id,
        event.old_status.value,
        event.new_status.value,
        event.changed_at,
        event_id,
        encode_event(event_id, order_id, event).decode(),
        correlation_id,
        traceparent,
    )
    return _order(row) if row else None


async def list_by_user(
    conn: Executor,
    *,
    user_id: int,
    limit: int,
    status: OrderStatus | None = None,
    before: tuple[datetime, UUID] | None = None,
) -> OrderPage:
    """A user's orders, newest first; `before` is a keyset cursor (created_at, id)."""
    rows = await conn.fetch(
        _LIST_BY_USER,
        user_id,
        status.value if status else None,
        before[0] if before else None,
        before[1] if before else None,
        limit,
    )
    page = [
        public_order(
            r["id"],
            r["user_id"],
            public_items(r["items"]),
            r["total_price"],
            r["status"],
            r["created_at"],
            r["updated_at"],
        )
        for r in rows
    ]
    last = (rows[-1]["created_at"], UUID(rows[-1]["id"])) if rows else None
    return OrderPage(page, last)
