"""Order use cases: create, read, change status, list, expire; ownership is checked here.

A new order is placed by `usecases.placing` (the order, its event, the pending cap)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from uuid import UUID, uuid4

import asyncpg

from core import correlation
from core.errors import (
    Forbidden,
    OrderNotFound,
    PreconditionFailed,
)
from core.events import StatusChangedEvent
from core.lifecycle import OrderStatus, check_transition
from core.order import Order, OrderItem, OrderPage, OrderView, view_of
from store import orders
from store.cache import OrderCache
from store.db import Executor
from usecases.guard import database_guarded
from usecases.placing import insert_new, new_order
from usecases.trace_context import current_traceparent

log = logging.getLogger(__name__)

Position = tuple[datetime, UUID]  # a keyset cursor: (created_at, id) of a page's last order


class Orders:
    def __init__(
        self,
        pool: asyncpg.Pool,
        cache: OrderCache,
        *,
        acquire_timeout: float | None,
        max_pending: int,
    ) -> None:
        """`acquire_timeout`: how long to wait for a pooled connection (DB_ACQUIRE_TIMEOUT_SECONDS;
        None: as long as it takes); `max_pending`: the PENDING orders a user may have at once
        (MAX_PENDING_ORDERS_PER_USER; 0: no cap). The service passes both from its settings."""
        self._pool = pool
        self._cache = cache
        self._acquire_timeout = acquire_timeout
        self._max_pending = max_pending

    def _connection(self) -> asyncpg.pool.PoolAcquireContext:
        """A pooled connection, waited for at most `acquire_timeout` (then DatabaseBusy)."""
        return self._pool.acquire(timeout=self._acquire_timeout)

    @database_guarded
    async def create(self, *, user_id: int, items: tuple[OrderItem, ...]) -> OrderView:
        """Write the order and its `new_order` event in one statement, then cache it."""
        order, event = new_order(user_id, items)
        async with self._connection() as conn:
            await insert_new(conn, order, event, max_pending=self._max_pending)
        view = view_of(order)
        await self._cache.put(view)
        return view

    @database_guarded
    async def get(self, *, order_id: UUID, user_id: int) -> OrderView:
        """The caller's order: from the cache, else PostgreSQL; another user's is Forbidden."""
        view = await self._cache.get(order_id)
        if view is None:
            async with self._connection() as conn:
                order = await orders.get_order(conn, order_id=order_id)
            if order is None:
                raise OrderNotFound(order_id)
            view = view_of(order)
            await self._cache.put(view)
        if view.user_id != user_id:
            raise Forbidden()
        return view

    @database_guarded
    async def change_status(
        self,
        *,
        order_id: UUID,
        user_id: int,
        new: OrderStatus,
        if_version: tuple[int, ...] | None = None,
    ) -> OrderView:
        """Apply a client's status change; the same status is a no-op, a forbidden one raises.

        `if_version` (from If-Match): the change happens only while the order still has
        one of these versions; PreconditionFailed, and nothing changed, otherwise.
        """
        async with self._connection() as conn, conn.transaction():
            order = await orders.lock_order(conn, order_id=order_id)
            if order is None:
                raise OrderNotFound(order_id)
            if order.user_id != user_id:
                raise Forbidden()
            if if_version is not None and order.version not in if_version:
                raise PreconditionFailed(order.version)
            if not check_transition(order.status, new):
                return view_of(order)
            updated = await _set_status(conn, order_id, user_id, order.status, new)
        # The row was locked, so the conditional update cannot have missed.
        assert updated is not None
        log.info("order status changed order_id=%s %s->%s", order_id, order.status, new)
        view = view_of(updated)
        await self._cache.put(view)
        return view

    @database_guarded
    async def expire(self, *, order_id: UUID, user_id: int) -> Order | None:
        """Cancel an order still PENDING; None when it is no longer PENDING (a PAID wins)."""
        async with self._connection() as conn:
            updated = await _set_status(
                conn, order_id, user_id, OrderStatus.PENDING, OrderStatus.CANCELED
            )
        if updated is None:
            log.info("order not expired, no longer PENDING order_id=%s", order_id)
            return None
        log.info("order expired unpaid order_id=%s", order_id)
        await self._cache.put(view_of(updated))
        return updated

    @database_guarded
    async def list_for(
        self,
        *,
        caller_id: int,
        owner_id: int,
        limit: int,
        status: OrderStatus | None = None,
        before: Position | None = None,
    ) -> OrderPage:
        """The owner's orders, newest first; only the owner may list them."""
        if owner_id != caller_id:
            raise Forbidden()
        async with self._connection() as conn:
            return await orders.list_by_user(
                conn, user_id=owner_id, limit=limit, status=status, before=before
            )


async def _set_status(
    conn: Executor,
    order_id: UUID,
    user_id: int,
    old: OrderStatus,
    new: OrderStatus,
) -> Order | None:
    """`old` -> `new` and its `order_status_changed` event (a new event id, this request's
    correlation id and trace) in one statement; None when the order is no longer `old`."""
    return await orders.set_status(
        conn,
        order_id=order_id,
        event_id=uuid4(),
        event=_status_event(user_id, old, new),
        correlation_id=correlation.current(),
        traceparent=current_traceparent(),
    )


def _status_event(user_id: int, old: OrderStatus, new: OrderStatus) -> StatusChangedEvent:
    return StatusChangedEvent(
        user_id=user_id, old_status=old, new_status=new, changed_at=datetime.now(UTC)
    )
