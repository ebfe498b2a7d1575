"""One account cannot flood the pipeline: a per-user creation bucket, and a cap on a user's
open (PENDING) orders."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import asyncpg
import pytest

from service.settings import Settings
from tests.support.api_client import ITEMS, SLOW, Client, MakeClient, User, limited, register

ROOMY = {"rate_limit_capacity": 100_000, "rate_limit_refill_rate": 100_000.0}


async def _create(client: Client, user: User, **headers: str) -> Any:
    return await client.post("/orders/", json={"items": ITEMS}, headers={**user.headers, **headers})


async def _pending(pool: asyncpg.Pool, user: User) -> int:
    count: int = await pool.fetchval(
        "SELECT count(*) FROM orders WHERE user_id = $1 AND status = 'PENDING'", user.id
    )
    return count


def test_the_creation_bucket_and_the_cap_have_the_issue_defaults() -> None:
    fields = Settings.model_fields
    assert fields["order_create_rate_limit_capacity"].default == 20
    assert fields["order_create_rate_limit_refill_rate"].default == 5
    assert fields["max_pending_orders_per_user"].default == 100


async def test_one_user_cannot_create_80_orders_at_once(make_client: MakeClient) -> None:
    """Today's defaults but for the general bucket, made roomy: creation has its own."""
    client = await make_client(**limited(**ROOMY))
    user, other = await register(client), await register(client)
    started = time.monotonic()
    statuses = [(await _create(client, user)).status for _ in range(80)]
    elapsed = time.monotonic() - started
    created = statuses.count(201)
    assert 429 in statuses, "a burst of 20, then 5 a second"
    assert 20 <= created <= 20 + 5 * elapsed + 1, (created, elapsed)
    assert set(statuses) == {201, 429}
    assert (await _create(client, other)).status == 201, "each user has a bucket of their own"


async def test_a_refused_create_says_when_to_come_back(make_client: MakeClient) -> None:
    client = await make_client(
        **limited(
            **ROOMY, order_create_rate_limit_capacity=2, order_create_rate_limit_refill_rate=SLOW
        )
    )
    user = await register(client)
    first = await _create(client, user)
    assert first.status == 201
    assert '"create";q=2;' in first.headers["RateLimit-Policy"]
    assert '"default";' in first.headers["RateLimit-Policy"], "both buckets are reported"
    assert (await _create(client, user)).status == 201
    resp = await _create(client, user)
    assert resp.status == 429
    assert await resp.json() == {"detail": "rate limit exceeded"}
    assert int(resp.headers["Retry-After"]) >= 1
    assert resp.headers["RateLimit-Policy"].startswith('"create";q=2;')
    assert resp.headers["RateLimit"].startswith('"create";r=0;')
    reads = await client.get(f"/orders/user/{user.id}/", headers=user.headers)
    assert reads.status == 200, "only creation is limited this tightly"


async def test_the_creation_bucket_is_off_with_rate_limiting(make_client: MakeClient) -> None:
    client = await make_client(
        order_create_rate_limit_capacity=1, order_create_rate_limit_refill_rate=SLOW
    )
    user = await register(client)
    assert [(await _create(client, user)).status for _ in range(3)] == [201] * 3


async def test_over_the_pending_cap_is_429_saying_so(
    make_client: MakeClient, pool: asyncpg.Pool
) -> None:
    client = await make_client(max_pending_orders_per_user=3)
    user = await register(client)
    orders = [await _create(client, user) for _ in range(3)]
    assert [r.status for r in orders] == [201] * 3
    resp = await _create(client, user)
    assert resp.status == 429
    detail = (await resp.json())["detail"]
    assert "at most 3" in detail, detail
    assert "PENDING" in detail, detail
    assert int(resp.headers["Retry-After"]) >= 1
    keyed = await _create(client, user, **{"Idempotency-Key": "over-the-cap"})
    assert keyed.status == 429, "the Idempotency-Key path is capped too"
    assert await _pending(pool, user) == 3
    paid = (await orders[0].json())["id"]
    patch = await client.patch(f"/orders/{paid}/", json={"status": "PAID"}, headers=user.headers)
    assert patch.status == 200
    assert (await _create(client, user)).status == 201, "paying one frees a place"
    assert (await _create(client, user)).status == 429


async def test_the_cap_holds_under_concurrent_creates(
    make_client: MakeClient, pool: asyncpg.Pool
) -> None:
    client = await make_client(max_pending_orders_per_user=4)
    user = await register(client)
    statuses = await asyncio.gather(*(_create(client, user) for _ in range(12)))
    assert sorted(r.status for r in statuses) == [201] * 4 + [429] * 8
    assert await _pending(pool, user) == 4


async def test_the_cap_is_per_user_and_zero_turns_it_off(make_client: MakeClient) -> None:
    capped = await make_client(max_pending_orders_per_user=1)
    alice, bob = await register(capped), await register(capped)
    assert (await _create(capped, alice)).status == 201
    assert (await _create(capped, bob)).status == 201
    assert (await _create(capped, alice)).status == 429
    uncapped = await make_client(max_pending_orders_per_user=0)
    assert [(await _create(uncapped, alice)).status for _ in range(3)] == [201] * 3


async def test_a_429_on_creation_is_an_audit_line(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)

    def audited() -> list[tuple[object, object]]:
        return [
            (getattr(r, "bucket", None), getattr(r, "client", None))
            for r in caplog.records
            if getattr(r, "event", None) == "rate_limited"
        ]

    client = await make_client(**limited(**ROOMY, order_create_rate_limit_capacity=1))
    user = await register(client)
    assert (await _create(client, user)).status == 201
    assert (await _create(client, user)).status == 429
    assert audited() == [("create", f"user:{user.id}")]
    caplog.clear()
    capped = await make_client(max_pending_orders_per_user=1)
    assert (await _create(capped, user)).status == 429
    assert audited() == [("pending", f"user:{user.id}")]
