"""A user's count of PENDING orders (users.pending_orders), kept by a trigger whoever writes
orders, and counted from the rows that were there when migration 0009 added it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import asyncpg
import pytest
from yoyo import get_backend, read_migrations

from core.lifecycle import OrderStatus
from core.order import OrderItem
from store import orders, users
from store.migrate import MIGRATIONS_DIR, apply_migrations
from tests.support.databases import drop_database, with_database
from tests.support.settings import TEST_DSN
from usecases.orders import _status_event
from usecases.placing import new_order

ITEMS = (OrderItem(1, 1, Decimal("2.50")),)


async def _user(conn: asyncpg.Connection | asyncpg.Pool) -> int:
    user = await users.insert_user(
        conn, email=f"pending-{uuid.uuid4().hex[:12]}@example.com", password_hash="x"
    )
    assert user is not None
    return user.id


async def _place(pool: asyncpg.Pool, user_id: int, max_pending: int = 0) -> uuid.UUID | None:
    order, event = new_order(user_id, ITEMS)
    written = await orders.insert_order(
        pool, order=order, event_id=uuid.uuid4(), event=event, max_pending=max_pending
    )
    return order.id if written else None


async def _pending(pool: asyncpg.Pool, user_id: int) -> int | None:
    return await orders.pending_orders(pool, user_id=user_id)


async def test_the_count_follows_every_write(pool: asyncpg.Pool) -> None:
    user_id = await _user(pool)
    placed = [await _place(pool, user_id) for _ in range(3)]
    assert await _pending(pool, user_id) == 3
    first, second, third = placed
    assert first is not None
    assert second is not None
    assert third is not None
    event = _status_event(user_id, OrderStatus.PENDING, OrderStatus.PAID)
    assert await orders.set_status(pool, order_id=first, event_id=uuid.uuid4(), event=event)
    assert await _pending(pool, user_id) == 2
    event = _status_event(user_id, OrderStatus.PAID, OrderStatus.SHIPPED)
    assert await orders.set_status(pool, order_id=first, event_id=uuid.uuid4(), event=event)
    assert await _pending(pool, user_id) == 2, "PAID -> SHIPPED changes nothing"
    await pool.execute("UPDATE orders SET status = 'CANCELED' WHERE id = $1", second)
    assert await _pending(pool, user_id) == 1, "a write by hand is counted too"
    await pool.execute("UPDATE orders SET status = 'PENDING' WHERE id = $1", second)
    assert await _pending(pool, user_id) == 2
    await pool.execute("DELETE FROM outbox WHERE aggregate_id = $1", third)
    await pool.execute("DELETE FROM orders WHERE id = $1", third)
    assert await _pending(pool, user_id) == 1


async def test_an_insert_over_the_cap_writes_nothing(pool: asyncpg.Pool) -> None:
    user_id = await _user(pool)
    assert await _place(pool, user_id, max_pending=2) is not None
    assert await _place(pool, user_id, max_pending=2) is not None
    refused = await _place(pool, user_id, max_pending=2)
    assert refused is None
    assert await _pending(pool, user_id) == 2
    count = await pool.fetchval("SELECT count(*) FROM orders WHERE user_id = $1", user_id)
    outbox = await pool.fetchval(
        "SELECT count(*) FROM outbox o JOIN orders r ON r.id = o.aggregate_id WHERE r.user_id = $1",
        user_id,
    )
    assert (count, outbox) == (2, 2), "no order and no event"


async def test_an_unknown_user_has_no_count(pool: asyncpg.Pool) -> None:
    assert await _place(pool, 2**62, max_pending=5) is None
    assert await _pending(pool, 2**62) is None


@pytest.fixture
def unmigrated_dsn() -> Iterator[str]:
    dsn = with_database(TEST_DSN, f"orders_pending_{uuid.uuid4().hex[:8]}")
    yield dsn
    drop_database(dsn)


async def test_the_migration_counts_the_orders_already_there(unmigrated_dsn: str) -> None:
    _apply_all_but("0009_pending_orders", unmigrated_dsn)
    conn = await asyncpg.connect(unmigrated_dsn)
    try:
        user_id = await _user(conn)
        other = await _user(conn)
        now = datetime.now(UTC)
        for status in ("PENDING", "PENDING", "PAID"):
            await conn.execute(
                "INSERT INTO orders (id, user_id, items, total_price, status, created_at,"
                " updated_at) VALUES ($1, $2, '[]', 1, $3, $4, $4)",
                uuid.uuid4(),
                user_id,
                status,
                now,
            )
        assert apply_migrations(unmigrated_dsn) == 1
        counts = {
            r["id"]: r["pending_orders"]
            for r in await conn.fetch("SELECT id, pending_orders FROM users")
        }
        assert counts == {user_id: 2, other: 0}
    finally:
        await conn.close()


def _apply_all_but(last: str, dsn: str) -> None:
    """Every migration but `last`: all applied (creating the database), `last` rolled back."""
    apply_migrations(dsn, MIGRATIONS_DIR)
    backend = get_backend("postgresql+psycopg://" + dsn.split("://", 1)[1])
    try:
        with backend.lock():
            applied = read_migrations(str(MIGRATIONS_DIR)).filter(lambda m: m.id == last)
            backend.rollback_migrations(backend.to_rollback(applied))
    finally:
        backend.connection.close()
