"""The asyncpg pool: one per process, with jsonb carried as JSON text."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
import orjson

log = logging.getLogger(__name__)


def _encode_json(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec(
        "jsonb", encoder=_encode_json, decoder=orjson.loads, schema="pg_catalog"
    )


async def _keep_session(conn: asyncpg.Connection) -> None:
    """What the pool does to a connection on release, beyond asyncpg's own client-side part
    (an open transaction is rolled back, listeners dropped): nothing.

    asyncpg's default sends `pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`,
    one more round trip for every acquire. This service leaves no session state on a
    pooled connection to undo: its advisory locks are transaction-scoped, its cursors live
    inside transactions, it LISTENs on a connection of its own (relay.listener) and sets
    its settings when it connects (`server_settings`), never with SET. Keep it that way,
    or reset here what you leave behind (tests/integration/store/test_pool.py).
    """


async def create_pool(
    dsn: str,
    *,
    min_size: int = 2,
    max_size: int = 10,
    command_timeout: float = 10.0,
    statement_timeout: float | None = None,
) -> asyncpg.Pool:
    """The pool; `statement_timeout` (seconds) makes PostgreSQL itself cancel long statements."""
    server_settings = {}
    if statement_timeout is not None:
        server_settings["statement_timeout"] = str(max(1, round(statement_timeout * 1000)))
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        command_timeout=command_timeout,
        init=_init_connection,
        reset=_keep_session,
        server_settings=server_settings,
    )
    assert pool is not None
    return pool


# Anything that runs a query: a pool (one implicit transaction per call) or a connection.
Executor = asyncpg.Pool | asyncpg.Connection | asyncpg.pool.PoolConnectionProxy
# One connection, for what must run inside the caller's transaction.
Connection = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy

# What asyncpg raises when PostgreSQL cannot be reached or drops the connection: the
# edge answers these with 503, since retrying later can succeed.
UNAVAILABLE: tuple[type[Exception], ...] = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.ConnectionDoesNotExistError,
)

# PostgreSQL reachable but saturated: no pooled connection in time (TimeoutError), a
# statement over `statement_timeout` (QueryCanceledError), no connection slot left.
BUSY: tuple[type[Exception], ...] = (
    TimeoutError,
    asyncpg.QueryCanceledError,
    asyncpg.TooManyConnectionsError,
)

# Any failure of a database call: unreachable, dropped, timed out, or refused by the server.
FAILURES: tuple[type[Exception], ...] = (
    *UNAVAILABLE,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)


async def ping(pool: asyncpg.Pool) -> bool:
    """True when a pooled connection answers `SELECT 1`."""
    try:
        async with pool.acquire() as conn:
            await conn.fetchval("SELECT 1")
    except FAILURES as exc:
        log.warning("readiness: postgres down error=%r", exc)
        return False
    return True
