"""GET /orders/{order_id}/: the owner's order; 403 for others; 404 unknown or malformed."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support.api_client import Client, User


async def test_get_returns_the_order(client: Client, user: User, order: dict[str, Any]) -> None:
    for path in (f"/orders/{order['id']}/", f"/orders/{order['id']}"):
        resp = await client.get(path, headers=user.headers)
        assert resp.status == 200, path
        assert await resp.json() == order


async def test_get_without_token_is_401(client: Client, order: dict[str, Any]) -> None:
    resp = await client.get(f"/orders/{order['id']}/")
    assert resp.status == 401
    assert await resp.json() == {"detail": "Not authenticated"}


async def test_get_another_users_order_is_403(
    client: Client, other_user: User, order: dict[str, Any]
) -> None:
    resp = await client.get(f"/orders/{order['id']}/", headers=other_user.headers)
    assert resp.status == 403
    assert await resp.json() == {"detail": "forbidden"}


async def test_get_unknown_order_is_404(client: Client, user: User) -> None:
    resp = await client.get(f"/orders/{uuid.uuid4()}/", headers=user.headers)
    assert resp.status == 404
    assert await resp.json() == {"detail": "order not found"}


@pytest.mark.parametrize(
    "order_id",
    ["abc", "123", "not-a-uuid", "00000000-0000-0000-0000-00000000000g", "%00", "x" * 300],
)
async def test_get_malformed_id_is_404_never_500(client: Client, user: User, order_id: str) -> None:
    for path in (f"/orders/{order_id}/", f"/orders/{order_id}"):
        resp = await client.get(path, headers=user.headers)
        assert resp.status == 404, path
        assert await resp.json() == {"detail": "order not found"}
