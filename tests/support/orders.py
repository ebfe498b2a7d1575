"""Real orders for the pipeline tests: placed by the real use case with their `new_order`
outbox row, relayed until every row of the order was handed to Temporal, and processed as
the Celery task records it."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from decimal import Decimal

import asyncpg

from core.lifecycle import OrderStatus
from core.order import Order, OrderItem, OrderView
from processing.connection import WorkerConnection
from processing.order import process, simulated_work
from relay.outbox import OutboxRelay
from service.settings import setting_default
from store import orders, users
from store.cache import OrderCache
from tests.support.outbox import outbox_rows
from tests.support.waiting import eventually
from usecases.orders import Orders


def order_usecases(pool: asyncpg.Pool, cache: OrderCache) -> Orders:
    """The order use cases as the pipeline tests drive them: a pooled connection waited for
    as long as it takes, no cap on a user's pending orders (their own tests set both)."""
    return Orders(pool, cache, acquire_timeout=None, max_pending=0)


@dataclass(frozen=True)
class PlacedOrder:
    order: Order
    event_id: uuid.UUID  # the id of its `new_order` outbox row

    @property
    def id(self) -> uuid.UUID:
        return self.order.id


async def place_order(
    pool: asyncpg.Pool, cache: OrderCache, *, relayed: bool = False
) -> PlacedOrder:
    """A new user's order, written by the real use case with its `new_order` outbox row.

    `relayed=True` marks the row as handed over already: for tests that start the
    workflow themselves, so no relay run by another test starts it a second way.
    """
    user = await users.insert_user(
        pool, email=f"pipeline-{uuid.uuid4().hex[:12]}@example.com", password_hash="x"
    )
    assert user is not None
    items = (OrderItem(1, 2, Decimal("9.99")), OrderItem(7, 1, Decimal("0.01")))
    view = await order_usecases(pool, cache).create(user_id=user.id, items=items)
    order = await orders.get_order(pool, order_id=view.id)
    assert order is not None
    event_id = await pool.fetchval(
        "SELECT id FROM outbox WHERE aggregate_id = $1 AND event_type = 'new_order'", order.id
    )
    if relayed:
        await pool.execute("UPDATE outbox SET relayed_at = now() WHERE id = $1", event_id)
    return PlacedOrder(order, event_id)


async def change_status(
    pool: asyncpg.Pool, cache: OrderCache, placed: PlacedOrder, new: OrderStatus
) -> OrderView:
    """The order's owner changes its status, as through the API (its event in the outbox)."""
    return await order_usecases(pool, cache).change_status(
        order_id=placed.id, user_id=placed.order.user_id, new=new
    )


async def relay_all(relay: OutboxRelay, pool: asyncpg.Pool, placed: PlacedOrder) -> None:
    """Run the relay until every outbox row of this order was handed to Temporal."""

    async def probe() -> bool:
        await relay.relay_once()
        return all(row.relayed for row in await outbox_rows(pool, placed.id))

    await eventually(probe, what="the order's outbox rows to be relayed")


# process_order's claim in these tests: PROCESS_ORDER_LEASE_SECONDS's default.
LEASE_SECONDS: float = setting_default("process_order_lease_seconds")


async def record_processed(dsn: str, placed: PlacedOrder) -> None:
    """process_order's effect, as the Celery task records it (its `order_processed` outbox
    row too), with no work to do."""
    connection = WorkerConnection(dsn)
    try:
        await asyncio.to_thread(
            process,
            connection,
            order_id=str(placed.id),
            work=simulated_work(0),
            lease_seconds=LEASE_SECONDS,
        )
    finally:
        connection.close()
