"""Liveness (/health) and readiness (/ready) of the process and its dependencies.

/ready checks PostgreSQL, Redis and Temporal at once, each bounded by a short timeout.
PostgreSQL or Temporal down is 503 (the service cannot take orders through); Redis down
only degrades the cache, so it stays 200 with status "degraded".
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Literal

import asyncpg
from aiohttp import web
from temporalio.client import Client
from temporalio.service import RPCError

from api.operations import Operation, add_routes
from api.responses import json_response
from api.schemas import HealthOut, ReadyOut
from service.keys import DB_POOL, ORDER_CACHE, TEMPORAL
from store.cache import OrderCache
from store.db import FAILURES as DB_FAILURES

log = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 2.0
State = Literal["ok", "down"]


async def _postgres(pool: asyncpg.Pool) -> State:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS), pool.acquire() as conn:
            await conn.fetchval("SELECT 1")
    except DB_FAILURES as exc:
        log.warning("readiness: postgres down error=%r", exc)
        return "down"
    return "ok"


async def _redis(cache: OrderCache) -> State:
    return "ok" if await cache.ping() else "down"


async def _temporal(client: Client) -> State:
    timeout = timedelta(seconds=CHECK_TIMEOUT_SECONDS)
    try:
        # The client is lazy: the first call connects, so bound the whole call too.
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS + 0.5):
            serving = await client.service_client.check_health(timeout=timeout)
    except (RuntimeError, RPCError, TimeoutError) as exc:
        log.warning("readiness: temporal down error=%r", exc)
        return "down"
    return "ok" if serving else "down"


async def health(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def ready(request: web.Request) -> web.Response:
    app = request.app
    postgres, redis, temporal = await asyncio.gather(
        _postgres(app[DB_POOL]), _redis(app[ORDER_CACHE]), _temporal(app[TEMPORAL])
    )
    checks = {"postgres": postgres, "redis": redis, "temporal": temporal}
    if down := [name for name in ("postgres", "temporal") if checks[name] == "down"]:
        detail = f"not ready: {', '.join(down)} unreachable"
        return json_response({"status": "down", "checks": checks, "detail": detail}, status=503)
    status = "ok" if redis == "ok" else "degraded"
    return json_response({"status": status, "checks": checks})


OPERATIONS = [
    Operation(
        "GET", "/health", health, "health", "The process is alive", "health", response=HealthOut
    ),
    Operation(
        "GET",
        "/ready",
        ready,
        "ready",
        "Dependencies' state (Redis down: degraded)",
        "health",
        response=ReadyOut,
        also=(503,),
    ),
]


def setup_health(app: web.Application) -> None:
    add_routes(app, OPERATIONS)
