"""Order use cases: create, read, change status, list, expire."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from uuid import UUID, uuid4

import asyncpg

from core import correlation
from core.errors import Forbidden, OrderNotFound
from core.events import NewOrderEvent, StatusChangedEvent
from core.lifecycle import INITIAL_STATUS, OrderStatus, check_transition
from core.order import Order, OrderItem, total_of
from store import orders
from store.cache import OrderCache
from store.db import Executor

log = logging.getLogger(__name__)


async def create_order(
    db: Executor, cache: OrderCache, *, user_id: int, items: tuple[OrderItem, ...]
) -> Order:
    """Write the order and its `new_order` event in one transaction, then cache it."""
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
    event = NewOrderEvent.for_order(uuid4(), order)
    await orders.insert_order(db, order=order, event=event, correlation_id=correlation.current())
    log.info(
        "order created order_id=%s user_id=%s total_price=%s event_id=%s",
        order.id,
        user_id,
        order.total_price,
        event.event_id,
    )
    await cache.put(order)
    return order


async def get_order(db: Executor, cache: OrderCache, *, order_id: UUID, user_id: int) -> Order:
    order = await cache.get(order_id)
    if order is None:
        order = await orders.get_order(db, order_id=order_id)
        if order is None:
            raise OrderNotFound(order_id)
        await cache.put(order)
    if order.user_id != user_id:
        raise Forbidden()
    return order


async def change_status(
    pool: asyncpg.Pool, cache: OrderCache, *, order_id: UUID, user_id: int, new: OrderStatus
) -> Order:
    """Apply a client's status change; the same status is a no-op, a forbidden one raises."""
    async with pool.acquire() as conn, conn.transaction():
        order = await orders.lock_order(conn, order_id=order_id)
        if order is None:
            raise OrderNotFound(order_id)
        if order.user_id != user_id:
            raise Forbidden()
        if not check_transition(order.status, new):
            return order
        event = _status_event(order_id, user_id, order.status, new)
        updated = await orders.set_status(conn, event=event, correlation_id=correlation.current())
    # The row was locked, so the conditional update cannot have missed.
    assert updated is not None
    log.info("order status changed order_id=%s %s->%s", order_id, order.status, new)
    await cache.put(updated)
    return updated


async def expire_order(
    db: Executor, cache: OrderCache, *, order_id: UUID, user_id: int
) -> Order | None:
    """Cancel an order still PENDING; None when it is no longer PENDING (a PAID wins)."""
    event = _status_event(order_id, user_id, OrderStatus.PENDING, OrderStatus.CANCELED)
    updated = await orders.set_status(db, event=event, correlation_id=correlation.current())
    if updated is None:
        log.info("order not expired, no longer PENDING order_id=%s", order_id)
        return None
    log.info("order expired unpaid order_id=%s", order_id)
    await cache.put(updated)
    return updated


async def list_orders(
    db: Executor,
    *,
    user_id: int,
    limit: int,
    status: OrderStatus | None = None,
    before: tuple[datetime, UUID] | None = None,
) -> list[Order]:
    return await orders.list_by_user(db, user_id=user_id, limit=limit, status=status, before=before)


def _status_event(
    order_id: UUID, user_id: int, old: OrderStatus, new: OrderStatus
) -> StatusChangedEvent:
    return StatusChangedEvent(
        event_id=uuid4(),
        order_id=order_id,
        user_id=user_id,
        old_status=old,
        new_status=new,
        changed_at=datetime.now(UTC),
    )
