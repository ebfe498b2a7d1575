"""PATCH /orders/{order_id}/: lifecycle changes, no-ops, conflicts, and their outbox rows."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import pytest

from tests.support.api_client import Client, User, create_order


async def _patch(client: Client, user: User, order_id: str, status: object) -> tuple[int, Any]:
    resp = await client.patch(f"/orders/{order_id}/", json={"status": status}, headers=user.headers)
    return resp.status, await resp.json()


async def _status_rows(pool: asyncpg.Pool, order_id: str) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT payload FROM outbox WHERE aggregate_id = $1 AND event_type = 'order_status_changed'"
        " ORDER BY seq",
        uuid.UUID(order_id),
    )
    return [dict(r["payload"]) for r in rows]


async def test_patch_changes_status_and_writes_its_event(
    client: Client, user: User, order: dict[str, Any], pool: asyncpg.Pool
) -> None:
    status, body = await _patch(client, user, order["id"], "PAID")
    assert status == 200
    assert body["status"] == "PAID"
    assert body["id"] == order["id"]
    assert body["total_price"] == order["total_price"]
    assert body["updated_at"] > order["updated_at"]
    [event] = await _status_rows(pool, order["id"])
    assert event["old_status"] == "PENDING"
    assert event["new_status"] == "PAID"
    assert event["order_id"] == order["id"]
    assert event["user_id"] == user.id
    resp = await client.get(f"/orders/{order['id']}", headers=user.headers)
    assert (await resp.json())["status"] == "PAID"


async def test_patch_without_trailing_slash(
    client: Client, user: User, order: dict[str, Any]
) -> None:
    resp = await client.patch(
        f"/orders/{order['id']}", json={"status": "CANCELED"}, headers=user.headers
    )
    assert resp.status == 200
    assert (await resp.json())["status"] == "CANCELED"


@pytest.mark.parametrize(
    "path",
    [
        ["PAID", "SHIPPED"],
        ["PAID", "CANCELED"],
        ["CANCELED"],
    ],
)
async def test_allowed_paths(client: Client, user: User, path: list[str]) -> None:
    order = await create_order(client, user)
    for target in path:
        status, body = await _patch(client, user, order["id"], target)
        assert (status, body["status"]) == (200, target)


async def test_same_status_is_a_noop_200(
    client: Client, user: User, order: dict[str, Any], pool: asyncpg.Pool
) -> None:
    status, body = await _patch(client, user, order["id"], "PENDING")
    assert status == 200
    assert body == order
    assert await _status_rows(pool, order["id"]) == []


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        ([], "SHIPPED"),
        (["PAID"], "PENDING"),
        (["PAID", "SHIPPED"], "CANCELED"),
        (["PAID", "SHIPPED"], "PAID"),
        (["CANCELED"], "PAID"),
        (["CANCELED"], "PENDING"),
    ],
)
async def test_illegal_transition_is_409_naming_both_statuses(
    client: Client, user: User, pool: asyncpg.Pool, path: list[str], illegal: str
) -> None:
    order = await create_order(client, user)
    for target in path:
        assert (await _patch(client, user, order["id"], target))[0] == 200
    current = path[-1] if path else "PENDING"
    status, body = await _patch(client, user, order["id"], illegal)
    assert status == 409
    assert body == {"detail": f"cannot change order status from {current} to {illegal}"}
    assert len(await _status_rows(pool, order["id"])) == len(path)


@pytest.mark.parametrize(
    ("payload", "loc", "type_"),
    [
        ({"status": "DELIVERED"}, ["body", "status"], "enum"),
        ({"status": "paid"}, ["body", "status"], "enum"),
        ({"status": None}, ["body", "status"], "enum"),
        ({}, ["body", "status"], "missing"),
        ({"status": "PAID", "total_price": 0}, ["body", "total_price"], "extra_forbidden"),
    ],
)
async def test_patch_invalid_body_is_422(
    client: Client,
    user: User,
    order: dict[str, Any],
    payload: dict[str, Any],
    loc: list[str],
    type_: str,
) -> None:
    resp = await client.patch(f"/orders/{order['id']}/", json=payload, headers=user.headers)
    assert resp.status == 422
    assert [(e["loc"], e["type"]) for e in (await resp.json())["detail"]] == [(loc, type_)]


async def test_patch_another_users_order_is_403_and_changes_nothing(
    client: Client, other_user: User, user: User, order: dict[str, Any]
) -> None:
    status, body = await _patch(client, other_user, order["id"], "CANCELED")
    assert (status, body) == (403, {"detail": "forbidden"})
    resp = await client.get(f"/orders/{order['id']}/", headers=user.headers)
    assert (await resp.json())["status"] == "PENDING"


@pytest.mark.parametrize("order_id", [str(uuid.UUID(int=0)), "not-a-uuid"])
async def test_patch_unknown_or_malformed_order_is_404(
    client: Client, user: User, order_id: str
) -> None:
    status, body = await _patch(client, user, order_id, "PAID")
    assert (status, body) == (404, {"detail": "order not found"})


async def test_patch_without_token_is_401(client: Client, order: dict[str, Any]) -> None:
    resp = await client.patch(f"/orders/{order['id']}/", json={"status": "PAID"})
    assert resp.status == 401


async def test_concurrent_conflicting_changes_have_one_winner(
    client: Client, user: User, order: dict[str, Any], pool: asyncpg.Pool
) -> None:
    # From PAID, SHIPPED and CANCELED are both allowed and both final: only one can win.
    assert (await _patch(client, user, order["id"], "PAID"))[0] == 200
    results = await asyncio.gather(
        _patch(client, user, order["id"], "SHIPPED"),
        _patch(client, user, order["id"], "CANCELED"),
    )
    assert sorted(status for status, _ in results) == [200, 409]
    winner = next(body["status"] for status, body in results if status == 200)
    events = await _status_rows(pool, order["id"])
    assert [(e["old_status"], e["new_status"]) for e in events] == [
        ("PENDING", "PAID"),
        ("PAID", winner),
    ]
    resp = await client.get(f"/orders/{order['id']}/", headers=user.headers)
    assert (await resp.json())["status"] == winner


async def test_concurrent_paid_and_canceled_from_pending_stay_consistent(
    client: Client, user: User, order: dict[str, Any], pool: asyncpg.Pool
) -> None:
    # PAID then CANCELED is a legal sequence, CANCELED then PAID is not: either way the
    # order ends CANCELED and the outbox has exactly one row per successful change.
    results = await asyncio.gather(
        _patch(client, user, order["id"], "PAID"),
        _patch(client, user, order["id"], "CANCELED"),
    )
    statuses = dict(zip(["PAID", "CANCELED"], [s for s, _ in results], strict=True))
    assert statuses["CANCELED"] == 200
    assert statuses["PAID"] in (200, 409)
    events = await _status_rows(pool, order["id"])
    assert len(events) == sum(1 for s, _ in results if s == 200)
    assert events[-1]["new_status"] == "CANCELED"
    resp = await client.get(f"/orders/{order['id']}/", headers=user.headers)
    assert (await resp.json())["status"] == "CANCELED"
