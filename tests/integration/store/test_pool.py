"""The service's pool: a release costs no round trip, and leaves nothing behind."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, cast

import asyncpg
import pytest

from store.db import create_pool


@pytest.fixture
async def one(migrated_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool of exactly one connection, so every acquire gets the same one."""
    pool = await create_pool(migrated_dsn, min_size=1, max_size=1)
    yield pool
    await pool.close()


def _queries(conn: asyncpg.pool.PoolConnectionProxy) -> int:
    # asyncpg's own count of the statements a connection sent (not public API)
    return int(cast(Any, conn)._con._protocol.queries_count)


async def test_a_release_sends_no_reset_query(one: asyncpg.Pool) -> None:
    async with one.acquire() as conn:
        await conn.fetchval("SELECT 1")
        sent = _queries(conn)
    async with one.acquire() as conn:
        assert _queries(conn) == sent, "the release sent a statement (a reset round trip)"


async def test_a_transaction_left_open_is_rolled_back_on_release(one: asyncpg.Pool) -> None:
    async with one.acquire() as conn:
        await conn.execute("CREATE TEMP TABLE IF NOT EXISTS pool_probe (n int)")
        await conn.execute("BEGIN")
        await conn.execute("INSERT INTO pool_probe VALUES (1)")
    async with one.acquire() as conn:
        assert not conn.is_in_transaction()
        assert await conn.fetchval("SELECT count(*) FROM pool_probe") == 0


async def test_a_transaction_scoped_advisory_lock_ends_with_its_transaction(
    one: asyncpg.Pool, migrated_dsn: str
) -> None:
    """What the idempotency keys rely on, with no reset to release session locks."""
    async with one.acquire() as conn, conn.transaction():
        assert await conn.fetchval("SELECT pg_try_advisory_xact_lock(4242)")
    other = await asyncpg.connect(migrated_dsn)
    try:
        assert await other.fetchval("SELECT pg_try_advisory_xact_lock(4242)")
    finally:
        await other.close()
