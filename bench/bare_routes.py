"""The BARE baseline's handlers (bench/bare_server.py serves them): each benchmarked
route's essential work and nothing else, no validation models, no middleware, no layers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import jwt
import orjson
import redis.asyncio as aioredis
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
