"""Idempotency-Key on POST /orders/: replay, reuse with another body, in flight, 24 h."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from tests.support.api_client import ITEMS, Client, User

OTHER_ITEMS = [{"product_id": 9, "quantity": 1, "price": 5}]


async def _post(client: Client, user: User, key: str, items: list[dict[str, Any]] = ITEMS) -> Any:
    headers = {**user.headers, "Idempotency-Key": key}
    return await client.post("/orders/", json={"items": items}, headers=headers)


async def _orders(pool: asyncpg.Pool, user: User) -> int:
    count: int = await pool.fetchval("SELECT count(*) FROM orders WHERE user_id = $1", user.id)
    return count


async def test_a_retry_replays_the_first_answer_and_creates_nothing(
    client: Client, user: User, pool: asyncpg.Pool
) -> None:
    first = await _post(client, user, "retry-1")
    assert first.status == 201
    body = await first.read()
    # The order moves on; the replay is still the first answer, as stored.
    order_id = (await first.json())["id"]
    await client.patch(f"/orders/{order_id}/", json={"status": "PAID"}, headers=user.headers)
    again = await _post(client, user, "retry-1")
    assert again.status == 201
    assert await again.read() == body
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await _orders(pool, user) == 1
    outbox = await pool.fetchval(
        "SELECT count(*) FROM outbox WHERE aggregate_id = $1::uuid AND event_type = 'new_order'",
        order_id,
    )
    assert outbox == 1


async def test_the_same_body_spelled_differently_is_the_same_request(
    client: Client, user: User, pool: asyncpg.Pool
) -> None:
    items = [{"product_id": 1, "quantity": 2, "price": 1.5}]
    spelled = [{"price": "1.50", "quantity": 2, "product_id": 1}]
    assert (await _post(client, user, "spelling", items)).status == 201
    assert (await _post(client, user, "spelling", spelled)).status == 201
    assert await _orders(pool, user) == 1


async def test_the_same_key_with_another_body_is_422(
    client: Client, user: User, pool: asyncpg.Pool
) -> None:
    assert (await _post(client, user, "reused")).status == 201
    resp = await _post(client, user, "reused", OTHER_ITEMS)
    assert resp.status == 422
    [error] = (await resp.json())["detail"]
    assert error["loc"] == ["header", "Idempotency-Key"]
    assert error["type"] == "idempotency_key_reused"
    assert await _orders(pool, user) == 1


async def test_keys_belong_to_their_user(
    client: Client, user: User, other_user: User, pool: asyncpg.Pool
) -> None:
    mine = await (await _post(client, user, "shared-name")).json()
    theirs_resp = await _post(client, other_user, "shared-name", OTHER_ITEMS)
    assert theirs_resp.status == 201
    theirs = await theirs_resp.json()
    assert theirs["id"] != mine["id"]
    assert theirs["user_id"] == other_user.id
    assert await _orders(pool, other_user) == 1


async def test_a_key_still_in_flight_is_409(client: Client, user: User, pool: asyncpg.Pool) -> None:
    """While the first request's transaction holds the key, a retry is told so at once."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1::bigint || ':' || $2, 7))",
            user.id,
            "busy",
        )
        resp = await _post(client, user, "busy")
        assert resp.status == 409
        assert resp.headers["Retry-After"] == "1"
        assert "still being processed" in (await resp.json())["detail"]
    assert (await _post(client, user, "busy")).status == 201


async def test_twenty_concurrent_retries_create_exactly_one_order(
    client: Client, user: User, pool: asyncpg.Pool
) -> None:
    responses = await asyncio.gather(*(_post(client, user, "storm") for _ in range(20)))
    statuses = sorted(r.status for r in responses)
    assert set(statuses) <= {201, 409}, statuses
    ids = {(await r.json())["id"] for r in responses if r.status == 201}
    assert len(ids) == 1
    assert await _orders(pool, user) == 1
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 1


async def test_an_expired_key_is_a_new_key(client: Client, user: User, pool: asyncpg.Pool) -> None:
    first = await (await _post(client, user, "old")).json()
    await pool.execute("UPDATE idempotency_keys SET expires_at = now() - interval '1 second'")
    second = await _post(client, user, "old", OTHER_ITEMS)
    assert second.status == 201
    assert (await second.json())["id"] != first["id"]
    assert await _orders(pool, user) == 2


async def test_keys_are_kept_24_hours(client: Client, user: User, pool: asyncpg.Pool) -> None:
    await _post(client, user, "ttl")
    kept = await pool.fetchval("SELECT expires_at - created_at FROM idempotency_keys")
    assert kept.total_seconds() == 24 * 3600


async def test_a_malformed_key_is_422_and_a_quoted_one_is_the_same_key(
    client: Client, user: User, pool: asyncpg.Pool
) -> None:
    for bad in ("", "x" * 256, "has space", "caf\u00e9"):
        headers = {**user.headers, "Idempotency-Key": bad}
        resp = await client.post("/orders/", json={"items": ITEMS}, headers=headers)
        assert resp.status == 422, bad
        assert (await resp.json())["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    assert (await _post(client, user, '"quoted-1"')).status == 201
    assert (await _post(client, user, "quoted-1")).headers["Idempotent-Replayed"] == "true"
    assert await _orders(pool, user) == 1
