"""After Redis trouble the cache never serves a version older than PostgreSQL's.

A change whose cache write could not reach Redis (a stall, a cut, or the moment the cache
is bypassed after a failure) leaves the entry it meant to replace in Redis. Once Redis
answers again that entry is invalidated, so neither this process nor a replica reading
the same Redis serves the old order and its old ETag. Redis is reached through a TCP
proxy the test pauses or cuts; the shared Redis itself is never paused.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from core.order import decode_cache_entry
from store.cache import cache_key
from tests.support.api_client import Client, MakeClient, User, create_order, register
from tests.support.faults import TcpProxy, tcp_proxy
from tests.support.waiting import eventually

TIMEOUT = 0.1  # REDIS_TIMEOUT_SECONDS: a stalled Redis costs a request this much


@pytest.fixture
def redis_proxy() -> Iterator[TcpProxy]:
    with tcp_proxy("127.0.0.1", 6379) as proxy:
        yield proxy


async def _cached_version(redis_client: aioredis.Redis, order_id: str) -> int | None:
    raw = await redis_client.get(cache_key(uuid.UUID(order_id)))
    if raw is None:
        return None
    assert isinstance(raw, bytes)
    return decode_cache_entry(uuid.UUID(order_id), raw).version


async def _read(client: Client, user: User, order_id: str) -> tuple[str, str]:
    resp = await client.get(f"/orders/{order_id}/", headers=user.headers)
    assert resp.status == 200, await resp.text()
    return (await resp.json())["status"], resp.headers["ETag"]


async def _cached_order(client: Client, redis_client: aioredis.Redis) -> tuple[User, str]:
    user = await register(client)
    order: dict[str, Any] = await create_order(client, user)
    assert await _read(client, user, order["id"]) == ("PENDING", '"1"')
    assert await _cached_version(redis_client, order["id"]) == 1
    return user, order["id"]


async def _no_stale_entry_once_redis_answers(
    client: Client, replica: Client, user: User, order_id: str, redis_client: aioredis.Redis
) -> None:
    async def fresh() -> bool:
        version = await _cached_version(redis_client, order_id)
        return version is None or version >= 2

    await eventually(fresh, what="the version-1 entry invalidated", deadline_s=5)
    for reader in (client, replica, client):  # the second read of `client` is a cached one
        assert await _read(reader, user, order_id) == ("PAID", '"2"')
    # A client following the ETag it was given gets its change through, not a 412 loop.
    resp = await client.patch(
        f"/orders/{order_id}/",
        json={"status": "SHIPPED"},
        headers={**user.headers, "If-Match": '"2"'},
    )
    assert resp.status == 200, await resp.text()


async def test_a_change_made_while_redis_stalls_is_not_hidden_by_the_old_entry(
    make_client: MakeClient, redis_proxy: TcpProxy, redis_client: aioredis.Redis
) -> None:
    client = await make_client(redis_port=redis_proxy.port, redis_timeout_seconds=TIMEOUT)
    replica = await make_client()  # another process on the same Redis, reached directly
    user, order_id = await _cached_order(client, redis_client)
    redis_proxy.pause()
    try:
        resp = await client.patch(
            f"/orders/{order_id}/", json={"status": "PAID"}, headers=user.headers
        )
        assert resp.status == 200, "PostgreSQL committed the change; Redis only stalled"
    finally:
        redis_proxy.resume()
    await _no_stale_entry_once_redis_answers(client, replica, user, order_id, redis_client)


async def test_a_change_made_while_redis_is_cut_off_is_not_hidden_by_the_old_entry(
    make_client: MakeClient, redis_proxy: TcpProxy, redis_client: aioredis.Redis
) -> None:
    client = await make_client(redis_port=redis_proxy.port, redis_timeout_seconds=TIMEOUT)
    replica = await make_client()
    user, order_id = await _cached_order(client, redis_client)
    redis_proxy.cut()
    try:
        resp = await client.patch(
            f"/orders/{order_id}/", json={"status": "PAID"}, headers=user.headers
        )
        assert resp.status == 200
    finally:
        redis_proxy.restore()
    await _no_stale_entry_once_redis_answers(client, replica, user, order_id, redis_client)


async def test_a_change_made_while_the_cache_is_bypassed_is_not_lost(
    make_client: MakeClient, redis_proxy: TcpProxy, redis_client: aioredis.Redis
) -> None:
    """After a failure the cache is skipped for a moment; a change in that moment, with
    Redis already fine again, must not leave the old entry behind either."""
    client = await make_client(redis_port=redis_proxy.port, redis_timeout_seconds=TIMEOUT)
    replica = await make_client()
    user, order_id = await _cached_order(client, redis_client)
    other = await create_order(client, user)
    redis_proxy.cut()
    try:  # a read that fails on Redis (answered from PostgreSQL) starts the bypass
        assert await _read(client, user, other["id"]) == ("PENDING", '"1"')
    finally:
        redis_proxy.restore()
    resp = await client.patch(f"/orders/{order_id}/", json={"status": "PAID"}, headers=user.headers)
    assert resp.status == 200
    await _no_stale_entry_once_redis_answers(client, replica, user, order_id, redis_client)
