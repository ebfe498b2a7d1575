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
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import jwt
import orjson
import redis.asyncio as aioredis
import uvloop
from aiohttp import web

CENT = Decimal("0.01")
TTL_SECONDS = 300

INSERT = """
WITH o AS (
    INSERT INTO orders (id, user_id, items, total_price, status, created_at, updated_at, version)
    VALUES ($1, $2, $3::jsonb, $4, 'PENDING', $5, $5, 1)
    RETURNING id, created_at)
INSERT INTO outbox (id, aggregate_id, event_type, payload, created_at)
SELECT $6, id, 'new_order', $7::jsonb, created_at FROM o
"""
COLUMNS = "id, user_id, items::text AS items, total_price, status, created_at, updated_at"
SELECT_ONE = f"SELECT {COLUMNS} FROM orders WHERE id = $1"
SELECT_BY_USER = f"""
SELECT {COLUMNS} FROM orders WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT 50
"""


@dataclass(frozen=True)
class Config:
    dsn: str
    redis_url: str
    secret_key: str
    issuer: str
    audience: str
    pool_size: int


CONFIG = web.AppKey("config", Config)
DB = web.AppKey("db", asyncpg.Pool)
REDIS = web.AppKey("redis", aioredis.Redis)


def user_id_of(request: web.Request) -> int:
    config = request.app[CONFIG]
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        raise web.HTTPUnauthorized()
    try:
        claims = jwt.decode(
            token,
            config.secret_key,
            algorithms=["HS256"],
            audience=config.audience,
            issuer=config.issuer,
            options={"require": ["sub", "exp", "iat", "iss", "aud", "jti"]},
        )
        return int(claims["sub"])
    except (jwt.PyJWTError, ValueError) as exc:
        raise web.HTTPUnauthorized() from exc


def check_items(items: Any) -> list[dict[str, Any]]:
    if not isinstance(items, list) or not 1 <= len(items) <= 100:
        raise web.HTTPUnprocessableEntity()
    for item in items:
        if not (
            isinstance(item, dict)
            and isinstance(item.get("product_id"), int)
            and isinstance(item.get("quantity"), int)
            and isinstance(item.get("price"), int | float)
            and item["price"] > 0
        ):
            raise web.HTTPUnprocessableEntity()
    return items


def to_public(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "user_id": row["user_id"],
        "items": orjson.loads(row["items"]),
        "total_price": float(row["total_price"]),
        "status": row["status"],
        "created_at": row["created_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(),
    }


async def create_order(request: web.Request) -> web.Response:
    user_id = user_id_of(request)
    items = check_items(orjson.loads(await request.read()).get("items"))
    total = sum((Decimal(str(i["price"])) * i["quantity"] for i in items), Decimal(0))
    total = total.quantize(CENT)
    order_id, event_id, now = uuid4(), uuid4(), datetime.now(UTC)
    items_json = orjson.dumps(items).decode()
    event = {
        "event_id": str(event_id),
        "event_type": "new_order",
        "order_id": str(order_id),
        "user_id": user_id,
        "items": items,
        "total_price": float(total),
        "created_at": now.isoformat(),
    }
    await request.app[DB].execute(
        INSERT, order_id, user_id, items_json, total, now, event_id, orjson.dumps(event).decode()
    )
    body = orjson.dumps(
        {
            "id": str(order_id),
            "user_id": user_id,
            "items": items,
            "total_price": float(total),
            "status": "PENDING",
            "created_at": now.isoformat(),
            "updated_at": now.isoformat(),
        }
    )
    await request.app[REDIS].set(f"bare:order:{order_id}", body, ex=TTL_SECONDS)
    return web.Response(
        status=201,
        body=body,
        content_type="application/json",
        headers={"Location": f"/orders/{order_id}/"},
    )


async def get_order(request: web.Request) -> web.Response:
    user_id = user_id_of(request)
    try:
        order_id = UUID(request.match_info["order_id"])
    except ValueError as exc:
        raise web.HTTPNotFound() from exc
    key = f"bare:order:{order_id}"
    body = await request.app[REDIS].get(key)
    if body is None:
        row = await request.app[DB].fetchrow(SELECT_ONE, order_id)
        if row is None:
            raise web.HTTPNotFound()
        body = orjson.dumps(to_public(row))
        await request.app[REDIS].set(key, body, ex=TTL_SECONDS)
    if orjson.loads(body)["user_id"] != user_id:
        raise web.HTTPForbidden()
    return web.Response(body=body, content_type="application/json")


async def list_orders(request: web.Request) -> web.Response:
    user_id = user_id_of(request)
    if str(user_id) != request.match_info["user_id"]:
        raise web.HTTPForbidden()
    rows = await request.app[DB].fetch(SELECT_BY_USER, user_id)
    return web.Response(
        body=orjson.dumps([to_public(r) for r in rows]), content_type="application/json"
    )


async def health(_: web.Request) -> web.Response:
    return web.Response(body=b'{"status":"ok"}', content_type="application/json")


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
