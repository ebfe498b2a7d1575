"""Migrations: several processes starting at once apply the schema exactly once."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ProcessPoolExecutor

import asyncpg

from store.migrate import MIGRATIONS_DIR, apply_migrations
from tests.support.databases import drop_database, with_database
from tests.support.settings import TEST_DSN


async def test_concurrent_starts_apply_each_migration_once() -> None:
    dsn = with_database(TEST_DSN, f"orders_migrate_{uuid.uuid4().hex[:8]}")
    try:
        loop = asyncio.get_running_loop()
        with ProcessPoolExecutor(max_workers=4) as pool:
            applied = await asyncio.gather(
                *(loop.run_in_executor(pool, apply_migrations, dsn) for _ in range(4))
            )
        migrations = len(list(MIGRATIONS_DIR.glob("*[0-9]_*.sql"))) - len(
            list(MIGRATIONS_DIR.glob("*.rollback.sql"))
        )
        # One process applied everything; the others found nothing left to do.
        assert sorted(applied) == [0, 0, 0, migrations]
        conn = await asyncpg.connect(dsn)
        try:
            tables = {
                r["tablename"]
                for r in await conn.fetch(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                )
            }
            assert {"users", "orders", "outbox", "processed_orders"} <= tables
            assert await conn.fetchval("SELECT count(*) FROM _yoyo_migration") == migrations
        finally:
            await conn.close()
    finally:
        drop_database(dsn)
