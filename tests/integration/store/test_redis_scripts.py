"""The Lua scripts against a real Redis: the buckets agree with the core's arithmetic, a
cache fill never overwrites a newer version of the order, and the repair after a failed
write drops only older entries."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import orjson
import pytest
import redis.asyncio as aioredis

from core.lifecycle import OrderStatus
from core.order import Order, OrderItem, decode_cache_entry, view_of
from core.ratelimit import LocalBuckets, Policy
from store.cache import OrderCache, cache_key
from store.cache_repair import StaleEntries
from store.ratelimit import RedisBuckets, bucket_key
from tests.support.waiting import eventually


@pytest.fixture
async def redis_client() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis(host="127.0.0.1", port=6379)
    yield client
    await client.aclose()


async def test_the_script_and_the_local_buckets_decide_alike(
    redis_client: aioredis.Redis,
) -> None:
    policy = Policy("agree", 7, 0.001)
    shared = RedisBuckets(redis_client, prefix=f"rl.{uuid.uuid4().hex}", timeout_seconds=1.0)
    local = LocalBuckets()
    remote = [(await shared.take([("client", policy)]))[0] for _ in range(9)]
    here = [local.take("client", policy) for _ in range(9)]
    assert [d.allowed for d in remote] == [d.allowed for d in here] == [True] * 7 + [False] * 2
    assert [d.remaining for d in remote] == [d.remaining for d in here]


async def test_several_buckets_pay_together_or_not_at_all_and_tokens_come_back(
    redis_client: aioredis.Redis,
) -> None:
    big, small = Policy("big", 10, 0.001), Policy("small", 2, 0.001)
    shared = RedisBuckets(redis_client, prefix=f"rl.{uuid.uuid4().hex}", timeout_seconds=1.0)
    local = LocalBuckets()
    claims = [("client", big), ("client", small)]
    local_claims = [("client:big", big), ("client:small", small)]
    for _ in range(3):
        remote = await shared.take(claims)
        here = local.take_all(local_claims)
        assert [(d.allowed, d.remaining) for d in remote] == [
            (d.allowed, d.remaining) for d in here
        ]
    assert [d.allowed for d in remote] == [True, False]
    assert remote[0].remaining == 8, "the refused request took from neither bucket"
    await shared.give_back(claims)
    assert [d.allowed for d in await shared.take(claims)] == [True, True]
    for _ in range(5):
        await shared.give_back([("client", big)])
    assert (await shared.take([("client", big)]))[0].remaining == 9, "never above capacity"


async def test_marks_are_remembered_for_their_lifetime(redis_client: aioredis.Redis) -> None:
    prefix = f"rl.{uuid.uuid4().hex}"
    buckets = RedisBuckets(redis_client, prefix=prefix, timeout_seconds=1.0)
    assert not await buckets.knows("login|a@example.com|192.0.2.1")
    await buckets.remember("login|a@example.com|192.0.2.1", ttl_seconds=60)
    other = RedisBuckets(redis_client, prefix=prefix, timeout_seconds=1.0)
    assert await other.knows("login|a@example.com|192.0.2.1"), "every replica knows it"
    keys = [k async for k in redis_client.scan_iter(f"{prefix}:mark:*")]
    assert len(keys) == 1
    assert b"example" not in keys[0], "names are hashed"
    assert 0 < await redis_client.ttl(keys[0]) <= 60


async def test_the_bucket_key_expires_once_it_would_be_full(
    redis_client: aioredis.Redis,
) -> None:
    prefix = f"rl.{uuid.uuid4().hex}"
    buckets = RedisBuckets(redis_client, prefix=prefix, timeout_seconds=1.0)
    policy = Policy("ttl", 10, 5.0)
    await buckets.take([("client", policy)])
    key = bucket_key(prefix, policy, "client")
    assert 0 < await redis_client.pttl(key) <= 3000
    assert "client" not in key, "client names are hashed"


def _order(version: int, status: OrderStatus) -> Order:
    now = datetime.now(UTC)
    items = (OrderItem(1, 1, Decimal("2.50")),)
    return Order(uuid.UUID(int=1), 7, items, Decimal("2.50"), status, now, now, version)


async def test_a_stale_fill_never_overwrites_a_newer_entry(
    redis_client: aioredis.Redis,
) -> None:
    cache = OrderCache(redis_client, ttl_seconds=60, timeout_seconds=1.0)
    older = replace(_order(1, OrderStatus.PENDING), id=uuid.uuid4())
    newer = replace(older, status=OrderStatus.PAID, version=2)
    await cache.put(view_of(newer))  # the PATCH wrote version 2
    await cache.put(view_of(older))  # then a read that had fetched version 1 fills the cache
    raw = await redis_client.get(cache_key(older.id))
    assert isinstance(raw, bytes)
    assert decode_cache_entry(older.id, raw).version == 2
    assert (await cache.get(older.id)) == view_of(newer)
    newest = replace(newer, status=OrderStatus.SHIPPED, version=3)
    await cache.put(view_of(newest))
    assert (await cache.get(older.id)) == view_of(newest)


async def test_a_fill_replaces_an_unreadable_entry(redis_client: aioredis.Redis) -> None:
    cache = OrderCache(redis_client, ttl_seconds=60, timeout_seconds=1.0)
    for version in (1, 2):
        order = replace(_order(version, OrderStatus.PENDING), id=uuid.uuid4())
        await redis_client.set(cache_key(order.id), b'{"version": "nonsense', ex=60)
        assert await cache.get(order.id) is None  # a miss, and the entry is dropped
        await cache.put(view_of(order))
        assert await cache.get(order.id) == view_of(order)


async def test_an_entry_of_the_previous_shape_is_a_miss_and_is_replaced(
    redis_client: aioredis.Redis,
) -> None:
    """The release before wrote the public JSON with its version inside: while both run
    (a rolling deploy), such an entry is read as a miss and any fill replaces it."""
    cache = OrderCache(redis_client, ttl_seconds=60, timeout_seconds=1.0)
    order = replace(_order(2, OrderStatus.PAID), id=uuid.uuid4())
    previous = orjson.dumps({**orjson.loads(view_of(order).body), "version": 9})
    await redis_client.set(cache_key(order.id), previous, ex=60)
    assert await cache.get(order.id) is None
    await redis_client.set(cache_key(order.id), previous, ex=60)
    await cache.put(view_of(order))  # version 2 replaces it, whatever version it claimed
    assert await cache.get(order.id) == view_of(order)


async def test_a_version_1_fill_never_overwrites_a_newer_entry(
    redis_client: aioredis.Redis,
) -> None:
    cache = OrderCache(redis_client, ttl_seconds=60, timeout_seconds=1.0)
    first = replace(_order(1, OrderStatus.PENDING), id=uuid.uuid4())
    canceled = replace(first, status=OrderStatus.CANCELED, version=2)
    await cache.put(view_of(canceled))
    await cache.put(view_of(first))  # a read that fetched the order before it was canceled
    assert await cache.get(first.id) == view_of(canceled)


class _Ready:
    """The cache side of a repair: Redis may be tried at once, and never fails here."""

    timeout = 1.0

    def ready_in(self) -> float:
        return 0.0

    def failed(self, op: str, order_id: uuid.UUID, exc: BaseException) -> None:
        raise AssertionError(f"{op} {order_id} failed: {exc!r}")


async def test_the_repair_drops_only_entries_older_than_the_failed_write(
    redis_client: aioredis.Redis,
) -> None:
    cache = OrderCache(redis_client, ttl_seconds=60, timeout_seconds=1.0)
    older, newer, absent = (
        replace(_order(1, OrderStatus.PENDING), id=uuid.uuid4()) for _ in range(3)
    )
    await cache.put(view_of(older))  # version 1: the PATCH to version 2 failed
    await cache.put(view_of(replace(newer, status=OrderStatus.SHIPPED, version=3)))
    stale = StaleEntries(redis_client, cache_key)
    for order in (older, newer, absent):
        stale.remember(order.id, 2)
    stale.start_repair(_Ready())
    await eventually(
        lambda: not any(o.id in stale for o in (older, newer, absent)), what="the repair"
    )
    assert await redis_client.get(cache_key(older.id)) is None
    kept = await cache.get(newer.id)
    assert kept is not None
    assert kept.version == 3, "an entry newer than the failed write is kept"
    await stale.close()


def test_remembered_entries_are_bounded_and_settled_by_a_write_as_new() -> None:
    stale = StaleEntries(aioredis.Redis(), cache_key, max_remembered=2)
    ids = [uuid.uuid4() for _ in range(3)]
    for order_id in ids:
        stale.remember(order_id, 2)
    assert ids[0] not in stale, "the oldest is forgotten past the bound"
    stale.written(ids[1], 1)
    assert ids[1] in stale, "an older write settles nothing"
    stale.written(ids[1], 2)
    assert ids[1] not in stale
    stale.remember(ids[2], 5)
    stale.remember(ids[2], 3)
    stale.written(ids[2], 4)
    assert ids[2] in stale, "the newest failed version counts"
