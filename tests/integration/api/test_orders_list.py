"""GET /orders/user/{user_id}/: the caller's orders, newest first, with keyset pages."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support.api_client import Client, User, create_order


async def _list(client: Client, user: User, path: str) -> tuple[int, Any, str | None]:
    resp = await client.get(path, headers=user.headers)
    return resp.status, await resp.json(), resp.headers.get("Link")


def _next(link: str | None) -> str:
    assert link is not None
    match = re.fullmatch(r'<([^>]+)>; rel="next"', link)
    assert match, link
    return match.group(1)


async def test_list_is_newest_first_on_both_paths(client: Client, user: User) -> None:
    ids = [(await create_order(client, user))["id"] for _ in range(3)]
    for path in (f"/orders/user/{user.id}/", f"/orders/user/{user.id}"):
        status, body, link = await _list(client, user, path)
        assert status == 200
        assert [o["id"] for o in body] == ids[::-1]
        assert all(o["user_id"] == user.id for o in body)
        assert link is None  # fewer than the default limit of 50


async def test_list_of_a_user_without_orders_is_empty(client: Client, user: User) -> None:
    assert await _list(client, user, f"/orders/user/{user.id}/") == (200, [], None)


async def test_list_another_users_orders_is_403(
    client: Client, user: User, other_user: User
) -> None:
    await create_order(client, other_user)
    status, body, _ = await _list(client, user, f"/orders/user/{other_user.id}/")
    assert (status, body) == (403, {"detail": "forbidden"})


async def test_list_without_token_is_401(client: Client, user: User) -> None:
    resp = await client.get(f"/orders/user/{user.id}/")
    assert resp.status == 401


@pytest.mark.parametrize(
    ("query", "loc", "type_"),
    [
        ("limit=0", ["query", "limit"], "greater_than_equal"),
        ("limit=201", ["query", "limit"], "less_than_equal"),
        ("limit=abc", ["query", "limit"], "int_parsing"),
        ("status=LOST", ["query", "status"], "enum"),
        ("cursor=not-a-cursor", ["query", "cursor"], "value_error"),
        ("cursor=WyJ4Il0", ["query", "cursor"], "value_error"),  # base64url of ["x"]
    ],
)
async def test_list_bad_query_is_422(
    client: Client, user: User, query: str, loc: list[str], type_: str
) -> None:
    status, body, _ = await _list(client, user, f"/orders/user/{user.id}/?{query}")
    assert status == 422
    assert [(e["loc"], e["type"]) for e in body["detail"]] == [(loc, type_)]


async def test_list_bad_user_id_is_422_in_path(client: Client, user: User) -> None:
    status, body, _ = await _list(client, user, "/orders/user/abc/")
    assert status == 422
    assert [e["loc"] for e in body["detail"]] == [["path", "user_id"]]


async def test_list_pages_with_limit_and_cursor(client: Client, user: User) -> None:
    ids = [(await create_order(client, user))["id"] for _ in range(5)][::-1]
    seen: list[str] = []
    path: str | None = f"/orders/user/{user.id}/?limit=2"
    pages = 0
    while path is not None:
        status, body, link = await _list(client, user, path)
        assert status == 200
        assert len(body) <= 2
        seen += [o["id"] for o in body]
        pages += 1
        path = _next(link) if link else None
    assert seen == ids
    assert pages == 3  # 2 + 2 + 1: the last page is not full, so no Link


async def test_list_a_full_last_page_links_to_an_empty_one(client: Client, user: User) -> None:
    for _ in range(2):
        await create_order(client, user)
    _, body, link = await _list(client, user, f"/orders/user/{user.id}/?limit=2")
    assert len(body) == 2
    assert await _list(client, user, _next(link)) == (200, [], None)


async def test_list_filters_by_status(client: Client, user: User) -> None:
    paid, pending = await create_order(client, user), await create_order(client, user)
    resp = await client.patch(
        f"/orders/{paid['id']}/", json={"status": "PAID"}, headers=user.headers
    )
    assert resp.status == 200
    _, body, _ = await _list(client, user, f"/orders/user/{user.id}/?status=PAID")
    assert [o["id"] for o in body] == [paid["id"]]
    _, body, link = await _list(client, user, f"/orders/user/{user.id}/?status=PENDING&limit=1")
    assert [o["id"] for o in body] == [pending["id"]]
    assert "status=PENDING" in _next(link)


async def test_list_writes_each_order_as_a_read_does_byte_for_byte(
    client: Client, user: User
) -> None:
    """The list builds its JSON from the rows, not from orders; the bytes must not differ
    from the single read's (cached at create, the same for a changed order)."""
    created = [await create_order(client, user) for _ in range(2)]
    resp = await client.patch(
        f"/orders/{created[0]['id']}/", json={"status": "PAID"}, headers=user.headers
    )
    assert resp.status == 200
    reads = []
    for order in created[::-1]:
        resp = await client.get(f"/orders/{order['id']}/", headers=user.headers)
        reads.append(await resp.read())
    resp = await client.get(f"/orders/user/{user.id}/", headers=user.headers)
    assert await resp.read() == b"[" + b",".join(reads) + b"]"
