"""The Redis read cache of orders, and the fall back to PostgreSQL when Redis fails."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

import asyncpg
import orjson
import pytest
import redis.asyncio as aioredis

from core.order import decode_cache_entry
from store.cache import cache_key
from tests.support.api_client import ITEMS, MakeClient, User, create_order, register
from tests.support.faults import closed_port, hung_server

TTL = 123


def key_id(key: str) -> uuid.UUID:
    return uuid.UUID(key.rpartition(":")[2])


async def _cached(redis_client: aioredis.Redis, key: str) -> bytes | None:
    raw = await redis_client.get(key)
    assert raw is None or isinstance(raw, bytes)
    return raw


async def test_get_fills_the_cache_with_the_ttl(
    make_client: MakeClient, redis_client: aioredis.Redis
) -> None:
    client = await make_client(redis_orders_ttl_seconds=TTL)
    user = await register(client)
    order = await create_order(client, user)
    key = cache_key(uuid.UUID(order["id"]))
    await redis_client.delete(key)
    resp = await client.get(f"/orders/{order['id']}/", headers=user.headers)
    assert resp.status == 200
    raw = await _cached(redis_client, key)
    assert raw is not None
    assert orjson.loads(decode_cache_entry(key_id(key), raw).body) == order
    assert 0 < await redis_client.ttl(key) <= TTL


async def test_get_reads_the_cache_first(
    make_client: MakeClient, redis_client: aioredis.Redis
) -> None:
    client = await make_client()
    user = await register(client)
    order = await create_order(client, user)
    key = cache_key(uuid.UUID(order["id"]))
    raw = await _cached(redis_client, key)
    assert raw is not None, "creating an order caches it"
    # Only the cache says SHIPPED: a GET that answers SHIPPED read Redis, not PostgreSQL.
    await redis_client.set(key, raw.replace(b'"PENDING"', b'"SHIPPED"'), ex=60)
    resp = await client.get(f"/orders/{order['id']}/", headers=user.headers)
    assert (await resp.json())["status"] == "SHIPPED"


async def test_patch_refreshes_the_cache(
    make_client: MakeClient, redis_client: aioredis.Redis
) -> None:
    client = await make_client(redis_orders_ttl_seconds=TTL)
    user = await register(client)
    order = await create_order(client, user)
    assert (await client.get(f"/orders/{order['id']}/", headers=user.headers)).status == 200
    resp = await client.patch(
        f"/orders/{order['id']}/", json={"status": "PAID"}, headers=user.headers
    )
    assert resp.status == 200
    key = cache_key(uuid.UUID(order["id"]))
    raw = await _cached(redis_client, key)
    assert raw is not None
    cached = decode_cache_entry(key_id(key), raw)
    assert cached.version == 2
    assert orjson.loads(cached.body) == await resp.json()
    assert orjson.loads(cached.body)["status"] == "PAID"
    assert 0 < await redis_client.ttl(key) <= TTL
    resp = await client.get(f"/orders/{order['id']}/", headers=user.headers)
    assert (await resp.json())["status"] == "PAID"


async def _create_read_change(client: Any, user: User) -> None:
    resp = await client.post("/orders/", json={"items": ITEMS}, headers=user.headers)
    assert resp.status == 201, await resp.text()
    order = await resp.json()
    for _ in range(2):
        resp = await client.get(f"/orders/{order['id']}/", headers=user.headers)
        assert resp.status == 200
        assert await resp.json() == order
    resp = await client.patch(
        f"/orders/{order['id']}/", json={"status": "PAID"}, headers=user.headers
    )
    assert resp.status == 200


async def test_redis_down_falls_back_to_postgres(make_client: MakeClient) -> None:
    client = await make_client(redis_port=closed_port())
    user = await register(client)
    await _create_read_change(client, user)


async def test_reads_with_redis_down_come_from_postgres(
    make_client: MakeClient, pool: asyncpg.Pool, caplog: pytest.LogCaptureFixture
) -> None:
    """A change made in PostgreSQL behind the service's back shows at once: no cache served it."""
    caplog.set_level(logging.WARNING, logger="store.cache")
    client = await make_client(redis_port=closed_port())
    user = await register(client)
    order = await create_order(client, user)
    await pool.execute("UPDATE orders SET status = 'PAID' WHERE id = $1", uuid.UUID(order["id"]))
    resp = await client.get(f"/orders/{order['id']}/", headers=user.headers)
    assert resp.status == 200
    assert (await resp.json())["status"] == "PAID"
    assert "falling back to PostgreSQL" in caplog.text


async def test_hung_redis_falls_back_quickly(make_client: MakeClient) -> None:
    async with hung_server() as port:
        client = await make_client(redis_port=port)
        user = await register(client)
        started = time.monotonic()
        await _create_read_change(client, user)
        assert time.monotonic() - started < 2.0


async def test_an_unreadable_cache_entry_is_a_miss(
    make_client: MakeClient, redis_client: aioredis.Redis
) -> None:
    client = await make_client()
    user = await register(client)
    order = await create_order(client, user)
    key = cache_key(uuid.UUID(order["id"]))
    await redis_client.set(key, b'{"id": "garbage"', ex=60)
    resp = await client.get(f"/orders/{order['id']}/", headers=user.headers)
    assert resp.status == 200
    assert await resp.json() == order
    raw = await _cached(redis_client, key)
    assert raw is not None, "refilled"
    assert orjson.loads(decode_cache_entry(key_id(key), raw).body) == order


async def test_a_cached_read_serves_the_cached_bytes_as_they_are(
    make_client: MakeClient, redis_client: aioredis.Redis
) -> None:
    """No decode and re-encode: the entry's JSON is the response body, byte for byte."""
    client = await make_client()
    user = await register(client)
    order = await create_order(client, user)
    key = cache_key(uuid.UUID(order["id"]))
    raw = await _cached(redis_client, key)
    assert raw is not None
    header, _, body = raw.partition(b"\n")
    marked = body.replace(b'"status":"PENDING"', b'"status":"PENDING" ,"cached":true')
    await redis_client.set(key, header + b"\n" + marked, ex=60)
    resp = await client.get(f"/orders/{order['id']}/", headers=user.headers)
    assert resp.status == 200
    assert await resp.read() == marked
    assert resp.headers["ETag"] == '"1"'


async def test_a_cached_read_checks_the_owner_in_the_entry(
    make_client: MakeClient, redis_client: aioredis.Redis
) -> None:
    client = await make_client()
    owner, other = await register(client), await register(client)
    order = await create_order(client, owner)
    key = cache_key(uuid.UUID(order["id"]))
    assert await _cached(redis_client, key) is not None
    resp = await client.get(f"/orders/{order['id']}/", headers=other.headers)
    assert resp.status == 403
    assert (await client.get(f"/orders/{order['id']}/", headers=owner.headers)).status == 200
