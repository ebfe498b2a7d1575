"""ETag from the order's version on GET and PATCH; If-Match makes a PATCH conditional."""

from __future__ import annotations

from typing import Any

import asyncpg

from tests.support.api_client import Client, User


async def _patch(client: Client, user: User, order_id: str, status: str, **headers: str) -> Any:
    return await client.patch(
        f"/orders/{order_id}/", json={"status": status}, headers={**user.headers, **headers}
    )


async def test_get_and_create_carry_the_version_as_etag(
    client: Client, user: User, order: dict[str, Any]
) -> None:
    resp = await client.get(f"/orders/{order['id']}/", headers=user.headers)
    assert resp.headers["ETag"] == '"1"'
    created = await client.post("/orders/", json={"items": order["items"]}, headers=user.headers)
    assert created.headers["ETag"] == '"1"'


async def test_patch_with_the_current_etag_changes_and_returns_the_next(
    client: Client, user: User, order: dict[str, Any]
) -> None:
    resp = await _patch(client, user, order["id"], "PAID", **{"If-Match": '"1"'})
    assert resp.status == 200
    assert resp.headers["ETag"] == '"2"'
    resp = await client.get(f"/orders/{order['id']}/", headers=user.headers)
    assert resp.headers["ETag"] == '"2"'


async def test_patch_with_a_stale_etag_is_412_and_changes_nothing(
    client: Client, user: User, order: dict[str, Any], pool: asyncpg.Pool
) -> None:
    """Two tabs: the second one's PATCH names the version it saw, which is gone."""
    assert (await _patch(client, user, order["id"], "PAID", **{"If-Match": '"1"'})).status == 200
    resp = await _patch(client, user, order["id"], "CANCELED", **{"If-Match": '"1"'})
    assert resp.status == 412
    assert "detail" in await resp.json()
    row = await pool.fetchrow("SELECT status, version FROM orders WHERE id = $1::uuid", order["id"])
    assert row is not None
    assert (row["status"], row["version"]) == ("PAID", 2)
    events = await pool.fetchval(
        "SELECT count(*) FROM outbox WHERE event_type = 'order_status_changed'"
    )
    assert events == 1
    got = await client.get(f"/orders/{order['id']}/", headers=user.headers)
    assert (await got.json())["status"] == "PAID"


async def test_if_match_lists_star_and_weak_tags(
    client: Client, user: User, order: dict[str, Any]
) -> None:
    weak = await _patch(client, user, order["id"], "PAID", **{"If-Match": 'W/"1"'})
    assert weak.status == 412, "If-Match compares strongly"
    listed = await _patch(client, user, order["id"], "PAID", **{"If-Match": '"7", "1"'})
    assert listed.status == 200
    star = await _patch(client, user, order["id"], "SHIPPED", **{"If-Match": "*"})
    assert star.status == 200
    assert star.headers["ETag"] == '"3"'
    garbage = await _patch(client, user, order["id"], "SHIPPED", **{"If-Match": "nonsense"})
    assert garbage.status == 412


async def test_a_stale_etag_on_another_users_order_is_still_403(
    client: Client, user: User, other_user: User, order: dict[str, Any]
) -> None:
    resp = await _patch(client, other_user, order["id"], "PAID", **{"If-Match": '"9"'})
    assert resp.status == 403
