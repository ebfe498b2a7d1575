"""The read deadline (`api.protocol`): a request must arrive in full, header and body,
within HTTP_READ_TIMEOUT_SECONDS of its first byte. What is cut and what is not."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from api.keys import ORDERS
from tests.support.api_client import ITEMS, Client, MakeClient, User, register
from tests.support.raw_http import RawConnection, RawResponse, request

TIMEOUT = 0.5
HALF_HEADER = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: "


@pytest.fixture
async def client(make_client: MakeClient) -> Client:
    return await make_client(http_read_timeout_seconds=TIMEOUT)


def _port(client: Client) -> int:
    assert client.server.port is not None
    return client.server.port


async def _answer_then_close(conn: RawConnection, within: float = 5.0) -> RawResponse:
    resp = await conn.response(within=within)
    assert await conn.closed_by_server(within=within)
    await conn.close()
    return resp


async def test_half_a_header_gets_408_and_is_closed(client: Client) -> None:
    conn = await RawConnection.open(_port(client))
    await conn.send(HALF_HEADER)
    started = time.monotonic()
    resp = await _answer_then_close(conn)
    assert TIMEOUT * 0.8 <= time.monotonic() - started < TIMEOUT + 2
    assert resp.status == 408
    assert resp.json() == {"detail": "request not received in time"}


async def test_a_header_trickled_a_byte_at_a_time_is_cut_at_the_deadline(client: Client) -> None:
    """Bytes do not push the deadline back: it runs from the request's first byte."""
    conn = await RawConnection.open(_port(client))
    started = time.monotonic()
    closed = False
    for byte in HALF_HEADER * 10:
        try:
            await conn.send(bytes([byte]))
        except ConnectionError:
            closed = True
            break
        if await conn.closed_by_server(within=TIMEOUT / 5):
            closed = True
            break
    await conn.close()
    assert closed
    assert time.monotonic() - started < TIMEOUT + 2


async def test_a_body_shorter_than_its_content_length_gets_408(client: Client, user: User) -> None:
    conn = await RawConnection.open(_port(client))
    headers = [
        ("Authorization", f"Bearer {user.token}"),
        ("Content-Type", "application/json"),
        ("Content-Length", "100"),
    ]
    await conn.send(request("POST", "/orders/", headers, content_length=False) + b'{"ite')
    resp = await _answer_then_close(conn)
    assert resp.status == 408
    assert resp.json() == {"detail": "request not received in time"}
    assert resp.headers["connection"] == "close"


async def test_an_unread_body_that_never_ends_closes_the_connection_after_the_answer(
    client: Client,
) -> None:
    """/health answers without reading the body; aiohttp then waits up to 10 s for the rest
    of it (its lingering close). The deadline ends that wait."""
    conn = await RawConnection.open(_port(client))
    await conn.send(request("GET", "/health", [("Content-Length", "100")], content_length=False))
    started = time.monotonic()
    resp = await _answer_then_close(conn)
    assert resp.status == 200
    assert time.monotonic() - started < TIMEOUT + 2


async def test_a_slow_handler_is_not_cut_once_the_request_is_in(
    client: Client, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    orders = type(client.app[ORDERS])
    original = orders.create

    async def slow_create(self: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(TIMEOUT * 3)  # the server takes its time, not the client
        return await original(self, **kwargs)

    monkeypatch.setattr(orders, "create", slow_create)
    headers = [("Authorization", f"Bearer {user.token}"), ("Content-Type", "application/json")]
    body = b'{"items": [{"product_id": 1, "quantity": 1, "price": 2}]}'
    conn = await RawConnection.open(_port(client))
    try:
        started = time.monotonic()
        await conn.send(request("POST", "/orders/", headers, body))
        resp = await conn.response(within=TIMEOUT * 3 + 5)
        assert resp.status == 201, resp.body
        assert time.monotonic() - started >= TIMEOUT * 3
        await conn.send(request("GET", "/health"))  # and the connection is still good
        assert (await conn.response()).status == 200
    finally:
        await conn.close()


async def test_an_idle_keep_alive_connection_is_not_cut(client: Client) -> None:
    conn = await RawConnection.open(_port(client))
    try:
        await conn.send(request("GET", "/health"))
        assert (await conn.response()).status == 200
        assert not await conn.closed_by_server(within=TIMEOUT * 3)
        await conn.send(request("GET", "/health"))
        assert (await conn.response()).status == 200
    finally:
        await conn.close()


async def test_a_connection_that_sends_nothing_keeps_the_keep_alive_timeout(
    client: Client,
) -> None:
    """A client's pool may open connections ahead of use: the clock starts at a byte."""
    conn = await RawConnection.open(_port(client))
    try:
        assert not await conn.closed_by_server(within=TIMEOUT * 3)
        await conn.send(request("GET", "/health"))
        assert (await conn.response()).status == 200
    finally:
        await conn.close()


async def test_a_prompt_client_is_served_as_before(client: Client) -> None:
    user = await register(client)
    resp = await client.post("/orders/", json={"items": ITEMS}, headers=user.headers)
    assert resp.status == 201
