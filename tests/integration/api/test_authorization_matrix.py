"""User B against every authenticated route and method, with user A's ids: never A's data,
never a change to A's orders."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from api.routes import accounts, orders
from tests.support.api_client import ITEMS, Client, User, create_order

ROUTES = [op for op in (*accounts.OPERATIONS, *orders.OPERATIONS) if op.auth]
BODIES: dict[str, Any] = {
    "create_order": {"items": ITEMS},
    "change_order_status": {"status": "CANCELED"},
}


def _path(template: str, a: User, order_id: str) -> str:
    return template.format(order_id=order_id, user_id=a.id)


async def _snapshot(pool: asyncpg.Pool, a: User) -> list[Any]:
    rows = await pool.fetch(
        "SELECT id, status, version, items, total_price FROM orders WHERE user_id = $1 ORDER BY id",
        a.id,
    )
    return [tuple(r) for r in rows]


def test_the_matrix_covers_every_authenticated_operation() -> None:
    ids = {op.operation_id for op in ROUTES}
    assert ids == {
        "create_order",
        "get_order",
        "change_order_status",
        "list_user_orders",
        "get_order_history",
    }


@pytest.mark.parametrize("op", ROUTES, ids=[op.operation_id for op in ROUTES])
@pytest.mark.parametrize("headers", ["plain", "if-match", "idempotency-key"])
async def test_b_never_reads_nor_changes_a(
    client: Client, user: User, other_user: User, pool: asyncpg.Pool, op: Any, headers: str
) -> None:
    a, b = user, other_user
    a_order = await create_order(client, a)
    key = "a-key"
    await client.post(
        "/orders/", json={"items": ITEMS}, headers={**a.headers, "Idempotency-Key": key}
    )
    before = await _snapshot(pool, a)
    extra = {
        "plain": {},
        "if-match": {"If-Match": '"1"'},
        "idempotency-key": {"Idempotency-Key": key},
    }
    for variant in (op.path, op.path.rstrip("/")):
        resp = await client.request(
            op.method,
            _path(variant, a, a_order["id"]),
            json=BODIES.get(op.operation_id),
            headers={**b.headers, **extra[headers]},
        )
        text = await resp.text()
        assert a_order["id"] not in text, (op.operation_id, resp.status, text)
        assert a.email not in text
        if op.operation_id == "create_order":
            assert resp.status == 201
            assert (await resp.json())["user_id"] == b.id
        else:
            assert resp.status in (403, 404), (op.operation_id, resp.status)
    assert await _snapshot(pool, a) == before
