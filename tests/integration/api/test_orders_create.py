"""POST /orders/: 201 with the computed total and Location; the outbox row comes with it."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest

from api.schemas.orders import OrderOut
from tests.support.api_client import ITEMS, Client, User, create_order

ONE = {"product_id": 1, "quantity": 1, "price": 1.5}


async def test_create_returns_201_order_and_location(client: Client, user: User) -> None:
    resp = await client.post("/orders/", json={"items": ITEMS}, headers=user.headers)
    assert resp.status == 201
    body = await resp.json()
    assert resp.headers["Location"] == f"/orders/{body['id']}/"
    OrderOut.model_validate(body)  # the documented shape, exactly (extra keys forbidden)
    assert uuid.UUID(body["id"])
    assert body["user_id"] == user.id
    assert body["status"] == "PENDING"
    assert body["items"] == ITEMS
    assert body["total_price"] == 59.98  # 3 x 19.99 + 1 x 0.01, exactly
    assert "59.98" in (await resp.text())
    assert body["created_at"] == body["updated_at"]
    assert body["created_at"].endswith("+00:00")


async def test_total_is_exact_decimal_arithmetic(client: Client, user: User) -> None:
    items: list[dict[str, Any]] = [
        {"product_id": 1, "quantity": 1, "price": 0.1},
        {"product_id": 2, "quantity": 1, "price": 0.2},
        {"product_id": 3, "quantity": 3, "price": "0.10"},
    ]
    body = await create_order(client, user, items)
    assert '"total_price":0.6' in (await _raw_get(client, user, body["id"]))
    assert body["total_price"] == 0.6


async def _raw_get(client: Client, user: User, order_id: str) -> str:
    resp = await client.get(f"/orders/{order_id}/", headers=user.headers)
    assert resp.status == 200
    return await resp.text()


async def test_create_without_token_is_401(client: Client) -> None:
    resp = await client.post("/orders/", json={"items": ITEMS})
    assert resp.status == 401
    assert resp.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("payload", "loc", "type_"),
    [
        pytest.param({"items": []}, ["body", "items"], "too_short", id="empty-items"),
        pytest.param({"items": [ONE] * 101}, ["body", "items"], "too_long", id="101-items"),
        pytest.param({}, ["body", "items"], "missing", id="no-items"),
        pytest.param(
            {"items": [{**ONE, "product_id": 0}]},
            ["body", "items", 0, "product_id"],
            "greater_than_equal",
            id="product_id-0",
        ),
        pytest.param(
            {"items": [{**ONE, "product_id": "x"}]},
            ["body", "items", 0, "product_id"],
            "int_type",
            id="product_id-x",
        ),
        pytest.param(
            {"items": [{**ONE, "quantity": 0}]},
            ["body", "items", 0, "quantity"],
            "greater_than_equal",
            id="quantity-0",
        ),
        pytest.param(
            {"items": [{**ONE, "quantity": 10001}]},
            ["body", "items", 0, "quantity"],
            "less_than_equal",
            id="quantity-10001",
        ),
        pytest.param(
            {"items": [{**ONE, "quantity": 1.5}]},
            ["body", "items", 0, "quantity"],
            "int_from_float",
            id="quantity-1.5",
        ),
        pytest.param(
            {"items": [{**ONE, "price": 0}]},
            ["body", "items", 0, "price"],
            "greater_than",
            id="price-0",
        ),
        pytest.param(
            {"items": [{**ONE, "price": -1}]},
            ["body", "items", 0, "price"],
            "greater_than",
            id="price-negative",
        ),
        pytest.param(
            {"items": [{**ONE, "price": 1.001}]},
            ["body", "items", 0, "price"],
            "decimal_max_places",
            id="price-3-places",
        ),
        pytest.param(
            {"items": [{**ONE, "price": "abc"}]},
            ["body", "items", 0, "price"],
            "decimal_parsing",
            id="price-not-a-number",
        ),
        pytest.param(
            {"items": [{"product_id": 1, "quantity": 1}]},
            ["body", "items", 0, "price"],
            "missing",
            id="price-missing",
        ),
        pytest.param(
            {"items": [ONE], "status": "PAID"}, ["body", "status"], "extra_forbidden", id="status"
        ),
        pytest.param(
            {"items": [ONE], "user_id": 1}, ["body", "user_id"], "extra_forbidden", id="user_id"
        ),
        pytest.param(
            {"items": [ONE], "total_price": 0.01},
            ["body", "total_price"],
            "extra_forbidden",
            id="total_price",
        ),
        pytest.param(
            {"items": [{**ONE, "discount": 1}]},
            ["body", "items", 0, "discount"],
            "extra_forbidden",
            id="unknown-item-field",
        ),
        pytest.param(
            {"items": [{**ONE, "quantity": 10000, "price": 9999999.99}]},
            ["body"],
            "value_error",
            id="total-above-numeric-12-2",
        ),
    ],
)
async def test_create_rejects_invalid_orders_with_422(
    client: Client,
    user: User,
    pool: asyncpg.Pool,
    payload: dict[str, Any],
    loc: list[Any],
    type_: str,
) -> None:
    resp = await client.post("/orders/", json=payload, headers=user.headers)
    assert resp.status == 422
    detail = (await resp.json())["detail"]
    assert [(e["loc"], e["type"]) for e in detail] == [(loc, type_)]
    assert isinstance(detail[0]["msg"], str)
    assert await pool.fetchval("SELECT count(*) FROM orders WHERE user_id = $1", user.id) == 0


async def test_create_accepts_the_boundaries(client: Client, user: User) -> None:
    items = [{"product_id": 1, "quantity": 10000, "price": 0.01}] + [ONE] * 99
    body = await create_order(client, user, items)
    assert len(body["items"]) == 100
    assert body["total_price"] == 100 + 99 * 1.5


async def test_create_writes_the_new_order_event_in_the_outbox(
    client: Client, user: User, pool: asyncpg.Pool
) -> None:
    body = await create_order(client, user)
    rows = await pool.fetch(
        "SELECT event_type, payload FROM outbox WHERE aggregate_id = $1", uuid.UUID(body["id"])
    )
    assert [r["event_type"] for r in rows] == ["new_order"]
    payload = rows[0]["payload"]
    assert payload["order_id"] == body["id"]
    assert payload["user_id"] == user.id
    assert payload["items"] == ITEMS
    assert payload["total_price"] == 59.98
    assert payload["event_type"] == "new_order"


async def test_no_order_exists_without_its_outbox_row(
    client: Client, user: User, pool: asyncpg.Pool
) -> None:
    for _ in range(3):
        await create_order(client, user)
    orphans = await pool.fetchval(
        """
        SELECT count(*) FROM orders o
        WHERE o.user_id = $1
          AND NOT EXISTS (SELECT 1 FROM outbox x
                          WHERE x.aggregate_id = o.id AND x.event_type = 'new_order')
        """,
        user.id,
    )
    assert orphans == 0
    assert await pool.fetchval("SELECT count(*) FROM orders WHERE user_id = $1", user.id) == 3
