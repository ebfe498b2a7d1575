"""`sslmode` in DATABASE_URL reaches every PostgreSQL client of the service: the asyncpg
pool, yoyo's migrations (psycopg) and the Celery worker's psycopg connections. The local
server runs with or without SSL; either way `require` must be honoured, not dropped."""

from __future__ import annotations

import psycopg
import pytest

from processing.connection import WorkerConnection
from store.db import create_pool
from store.migrate import apply_migrations
from tests.support.settings import TEST_DSN


def _with(dsn: str, sslmode: str) -> str:
    return f"{dsn}{'&' if '?' in dsn else '?'}sslmode={sslmode}"


@pytest.fixture(scope="module")
def server_ssl(migrated_dsn: str) -> bool:
    with psycopg.connect(_with(migrated_dsn, "disable")) as conn:
        row = conn.execute("SHOW ssl").fetchone()
    assert row is not None
    return bool(row[0] == "on")


async def test_the_pool_honours_sslmode(migrated_dsn: str, server_ssl: bool) -> None:
    query = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
    pool = await create_pool(_with(migrated_dsn, "disable"), min_size=1, max_size=1)
    try:
        assert await pool.fetchval(query) is False
    finally:
        await pool.close()
    required = _with(migrated_dsn, "require")
    if not server_ssl:
        with pytest.raises(ConnectionError, match="SSL"):
            await create_pool(required, min_size=1, max_size=1)
        return
    pool = await create_pool(required, min_size=1, max_size=1)
    try:
        assert await pool.fetchval(query) is True
    finally:
        await pool.close()


def test_migrations_and_the_celery_worker_honour_sslmode(
    migrated_dsn: str, server_ssl: bool
) -> None:
    apply_migrations(_with(TEST_DSN, "disable"))
    worker = WorkerConnection(_with(migrated_dsn, "require"))
    if server_ssl:
        apply_migrations(_with(TEST_DSN, "require"))
        row = worker.get().execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        assert row.fetchone() == (True,)
        worker.close()
        return
    with pytest.raises(psycopg.OperationalError, match="SSL"):
        apply_migrations(_with(TEST_DSN, "require"))
    with pytest.raises(psycopg.OperationalError, match="SSL"):
        worker.get()
