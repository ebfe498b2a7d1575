"""GET /orders/{order_id}/history/: the owner's timeline from Temporal; 403, 404, 410, 503."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from tests.support.api_client import Client, MakeClient, User, create_order, register
from tests.support.faults import closed_port


async def test_history_of_an_order_not_yet_in_temporal_is_empty(
    make_client: MakeClient, temporal_address: str
) -> None:
    # Only the API role runs here: no relay hands the order to Temporal.
    client = await make_client(temporal_address=temporal_address)
    user = await register(client)
    order = await create_order(client, user)
    resp = await client.get(f"/orders/{order['id']}/history/", headers=user.headers)
    assert resp.status == 200
    assert await resp.json() == []


async def test_history_past_the_retention_is_410_never_404(
    make_client: MakeClient, temporal_address: str, pool: asyncpg.Pool
) -> None:
    client = await make_client(temporal_address=temporal_address, temporal_retention="P7D")
    user = await register(client)
    order = await create_order(client, user)
    # Handed to Temporal long ago; the server has since deleted the workflow's history.
    await pool.execute(
        "UPDATE outbox SET relayed_at = now() - interval '40 days' WHERE aggregate_id = $1",
        uuid.UUID(order["id"]),
    )
    resp = await client.get(f"/orders/{order['id']}/history/", headers=user.headers)
    assert resp.status == 410
    assert await resp.json() == {
        "detail": "order history no longer available: Temporal keeps a finished order's"
        " history for 7 days (TEMPORAL_RETENTION)"
    }


async def test_history_of_another_users_order_is_403(
    client: Client, other_user: User, order: dict[str, Any]
) -> None:
    resp = await client.get(f"/orders/{order['id']}/history", headers=other_user.headers)
    assert resp.status == 403
    assert await resp.json() == {"detail": "forbidden"}


async def test_history_of_an_unknown_order_is_404(client: Client, user: User) -> None:
    resp = await client.get(f"/orders/{uuid.uuid4()}/history/", headers=user.headers)
    assert resp.status == 404
    resp = await client.get("/orders/not-a-uuid/history/", headers=user.headers)
    assert resp.status == 404


async def test_history_needs_a_token(client: Client, order: dict[str, Any]) -> None:
    resp = await client.get(f"/orders/{order['id']}/history/")
    assert resp.status == 401


async def test_history_while_temporal_is_unreachable_is_503(make_client: MakeClient) -> None:
    client = await make_client(temporal_address=f"127.0.0.1:{closed_port()}")
    user = await register(client)
    order = await create_order(client, user)
    resp = await client.get(f"/orders/{order['id']}/history/", headers=user.headers)
    assert resp.status == 503
    assert "Temporal" in (await resp.json())["detail"]
