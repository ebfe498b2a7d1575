"""X-Request-ID: echoed (or made), on errors too, and stored with the order's events."""

from __future__ import annotations

import re
import uuid

import asyncpg

from tests.support.api_client import ITEMS, Client, User


async def test_every_response_carries_a_request_id(client: Client) -> None:
    for resp in (
        await client.get("/health"),
        await client.get("/no/such/route"),
        await client.post("/register/", json={}),
    ):
        assert re.fullmatch(r"[0-9a-f]{32}", resp.headers["X-Request-ID"]), resp.status


async def test_a_clients_request_id_is_kept_and_a_bad_one_replaced(client: Client) -> None:
    resp = await client.get("/health", headers={"X-Request-ID": "client-req-1"})
    assert resp.headers["X-Request-ID"] == "client-req-1"
    resp = await client.get("/health", headers={"X-Request-ID": "x" * 500})
    assert re.fullmatch(r"[0-9a-f]{32}", resp.headers["X-Request-ID"])


async def test_the_orders_events_carry_the_request_id(
    client: Client, user: User, pool: asyncpg.Pool
) -> None:
    created = await client.post(
        "/orders/",
        json={"items": ITEMS},
        headers={**user.headers, "X-Request-ID": f"create-{uuid.uuid4().hex}"},
    )
    assert created.status == 201
    order_id = uuid.UUID((await created.json())["id"])
    paid = await client.patch(
        f"/orders/{order_id}/",
        json={"status": "PAID"},
        headers={**user.headers, "X-Request-ID": "pay-1"},
    )
    assert paid.status == 200
    rows = await pool.fetch(
        "SELECT event_type, correlation_id FROM outbox WHERE aggregate_id = $1 ORDER BY seq",
        order_id,
    )
    assert [(r["event_type"], r["correlation_id"]) for r in rows] == [
        ("new_order", created.headers["X-Request-ID"]),
        ("order_status_changed", "pay-1"),
    ]
