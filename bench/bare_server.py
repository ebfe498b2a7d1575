"""The BARE baseline: the least code that does each benchmarked route's essential work.

aiohttp + uvloop + asyncpg + redis and nothing else: no validation models, no middleware,
no layers. `make bench` runs it beside the service, in the same run and on the same
database tables, and quotes the service's figures as ratios to it.

Same paths, same Bearer tokens (HS256, same secret, issuer, audience and required claims):
  POST /orders/            insert the order and its `new_order` outbox row in one statement
                           (one transaction, one round trip), then write it through to Redis
  GET  /orders/{id}/       read Redis (primary-key SELECT on a miss), check the owner
  GET  /orders/user/{id}/  the user's newest 50 orders (the service's default page)
  GET  /health

    python -m bench.bare_server --port 18101 --dsn postgresql://... --redis-url redis://...
The JWT secret comes from the SECRET_KEY environment variable (never the command line).
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import AsyncIterator

import asyncpg
import redis.asyncio as aioredis
import uvloop
from aiohttp import web

from bench.bare_routes import (
    CONFIG,
    DB,
    REDIS,
    Config,
    create_order,
    get_order,
    health,
    list_orders,
)


async def resources(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    pool = await asyncpg.create_pool(
        config.dsn, min_size=config.pool_size, max_size=config.pool_size
    )
    assert pool is not None
    app[DB] = pool
    app[REDIS] = aioredis.Redis.from_url(config.redis_url)
    yield
    await app[REDIS].aclose()
    await pool.close()


def create_app(config: Config) -> web.Application:
    app = web.Application()
    app[CONFIG] = config
    app.cleanup_ctx.append(resources)
    app.router.add_get("/health", health)
    app.router.add_post("/orders/", create_order)
    app.router.add_get("/orders/user/{user_id}/", list_orders)
    app.router.add_get("/orders/{order_id}/", get_order)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18101)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--issuer", default="orders")
    parser.add_argument("--audience", default="orders-api")
    parser.add_argument("--pool-size", type=int, default=10)
    args = parser.parse_args()
    config = Config(
        dsn=args.dsn,
        redis_url=args.redis_url,
        secret_key=os.environ["SECRET_KEY"],
        issuer=args.issuer,
        audience=args.audience,
        pool_size=args.pool_size,
    )
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    web.run_app(create_app(config), host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
