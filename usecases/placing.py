"""Placing an order: the new PENDING order with its total and its `new_order` event, written
in one statement (the order and its outbox row) under the user's cap of PENDING orders.
`Orders.create` and `IdempotentOrders.create` both place orders through it."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import NoReturn
from uuid import uuid4

import asyncpg

from core import audit, correlation
from core.errors import TooManyPendingOrders, UserGone
from core.events import NewOrderEvent
from core.lifecycle import INITIAL_STATUS
from core.order import Order, OrderItem, total_of
from store import orders
from store.db import Executor
from usecases.trace_context import current_traceparent

log = logging.getLogger(__name__)


def new_order(user_id: int, items: tuple[OrderItem, ...]) -> tuple[Order, NewOrderEvent]:
    """A new PENDING order, its total computed here, and its `new_order` event."""
    now = datetime.now(UTC)
    order = Order(
        id=uuid4(),
        user_id=user_id,
        items=items,
        total_price=total_of(items),
        status=INITIAL_STATUS,
        created_at=now,
        updated_at=now,
    )
    return order, NewOrderEvent.for_order(order)


async def insert_new(
    conn: Executor, order: Order, event: NewOrderEvent, *, max_pending: int = 0
) -> None:
    """Write the order and its event; a user that no longer exists is UserGone (401), one
    with `max_pending` PENDING orders already is TooManyPendingOrders (0: no cap)."""
    event_id = uuid4()
    try:
        written = await orders.insert_order(
            conn,
            order=order,
            event_id=event_id,
            event=event,
            correlation_id=correlation.current(),
            traceparent=current_traceparent(),
            max_pending=max_pending,
        )
    except asyncpg.ForeignKeyViolationError as exc:
        raise UserGone("the token's user no longer exists") from exc
    if not written:
        _refused(await orders.pending_orders(conn, user_id=order.user_id), order, max_pending)
    log.info(
        "order created order_id=%s user_id=%s total_price=%s event_id=%s",
        order.id,
        order.user_id,
        order.total_price,
        event_id,
    )


def _refused(pending: int | None, order: Order, max_pending: int) -> NoReturn:
    if pending is None:
        raise UserGone("the token's user no longer exists")
    client = f"user:{order.user_id}"
    audit.rate_limited(
        "pending", client, TooManyPendingOrders.retry_after, pending=pending, limit=max_pending
    )
    raise TooManyPendingOrders(max_pending)
