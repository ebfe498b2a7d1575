"""Shared resources, each opened and closed by an aiohttp cleanup context."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import redis.asyncio as aioredis
from aiohttp import web
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from api.keys import ORDERS, READINESS
from api.readiness import Probe, Readiness
from service.keys import (
    DB_POOL,
    ORDER_CACHE,
    REDIS,
    SETTINGS,
    TEMPORAL,
    TEMPORAL_CONNECTION,
    TEMPORAL_SETUP,
    TRACER_PROVIDER,
)
from service.temporal import connection, requirements
from service.tracing import temporal_interceptors
from store import db
from store.cache import OrderCache
from usecases.orders import Orders
from workflows.client import serving
from workflows.setup_check import SetupCheck

log = logging.getLogger(__name__)

PROBE_TIMEOUT_SECONDS = 2.0


async def database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    if settings.run_migrations_on_startup:
        from store.migrate import apply_migrations  # psycopg and yoyo: only when migrating

        await asyncio.to_thread(apply_migrations, settings.dsn)
    pool = await db.create_pool(
        settings.dsn,
        min_size=settings.db_pool_min_size,
        max_size=settings.db_pool_max_size,
        command_timeout=settings.db_command_timeout_seconds,
        statement_timeout=settings.db_statement_timeout_seconds,
    )
    app[DB_POOL] = pool
    log.info("postgres pool open max_size=%d", settings.db_pool_max_size)
    yield
    await pool.close()


async def cache(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    # One attempt, bounded once: every caller (the cache, the rate limiter's buckets, the
    # readiness ping) wraps its call in REDIS_TIMEOUT_SECONDS and falls back when Redis
    # fails, so the client retries nothing (redis-py's default is 10 retries with backoff)
    # and sets no socket timeout of its own, which would cost every command a task for
    # its send and a second timer for its read. The connect keeps its own timeout.
    # Where, as whom and over what: REDIS_HOST/PORT/DB, REDIS_USERNAME/PASSWORD, REDIS_TLS.
    client = aioredis.Redis(
        **settings.redis_client_options,
        socket_connect_timeout=settings.redis_timeout_seconds,
        retry=Retry(NoBackoff(), 0),
    )
    app[REDIS] = client
    app[ORDER_CACHE] = order_cache = OrderCache(
        client,
        ttl_seconds=settings.redis_orders_ttl_seconds,
        timeout_seconds=settings.redis_timeout_seconds,
    )
    yield
    await order_cache.close()
    await client.aclose()


async def temporal(app: web.Application) -> AsyncIterator[None]:
    """A lazy client: the service starts, and accepts orders, while Temporal is down. The
    namespace is checked in the background (`temporal_setup` in /ready)."""
    settings = app[SETTINGS]
    app[TEMPORAL_CONNECTION] = connection(settings, temporal_interceptors(app.get(TRACER_PROVIDER)))
    client = app[TEMPORAL] = await app[TEMPORAL_CONNECTION].connect(lazy=True)
    check = app[TEMPORAL_SETUP] = SetupCheck(
        client, requirements(settings), rpc_timeout=timedelta(seconds=PROBE_TIMEOUT_SECONDS)
    )
    task = asyncio.create_task(check.run(), name="temporal-setup-check")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def usecases(app: web.Application) -> AsyncIterator[None]:
    """The order use cases every role shares, and the readiness probes of this process."""
    pool, order_cache, client = app[DB_POOL], app[ORDER_CACHE], app[TEMPORAL]
    settings = app[SETTINGS]
    app[ORDERS] = Orders(
        pool,
        order_cache,
        acquire_timeout=settings.db_acquire_timeout_seconds,
        max_pending=settings.max_pending_orders_per_user,
    )
    app[READINESS] = Readiness(
        [
            Probe("postgres", lambda: db.ping(pool)),
            Probe("redis", order_cache.ping, critical=False),
            Probe("temporal", lambda: serving(client, timeout_seconds=PROBE_TIMEOUT_SECONDS)),
            Probe("temporal_setup", app[TEMPORAL_SETUP].ready),
        ],
        timeout_seconds=PROBE_TIMEOUT_SECONDS + 1.0,
    )
    yield
