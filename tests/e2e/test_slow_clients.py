"""Slow clients against `orders serve`: a request must arrive in full (header and body)
within HTTP_READ_TIMEOUT_SECONDS of its first byte, or the connection is closed; idle
keep-alive connections keep their own, longer timeout; /health stays fast meanwhile."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from tests.e2e.conftest import Stack
from tests.support.raw_http import RawConnection, request

HALF_HEADER = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: "


@pytest.fixture
def api(stack: Stack) -> Stack:
    stack.overrides["HTTP_READ_TIMEOUT_SECONDS"] = "1"
    stack.start_service(roles="api")
    return stack


async def test_200_half_headers_are_dropped_and_health_stays_fast(
    api: Stack, http: aiohttp.ClientSession
) -> None:
    """200 connections that sent half a header were all still open 35 s later."""
    conns = [await RawConnection.open(api.http_port) for _ in range(200)]
    for conn in conns:
        await conn.send(HALF_HEADER)
    started = time.monotonic()
    async with http.get(f"{api.base_url}/health") as resp:
        assert resp.status == 200
    assert time.monotonic() - started < 0.5
    closed = await asyncio.gather(*(c.closed_by_server(within=10) for c in conns))
    assert all(closed), f"{closed.count(False)} of 200 still open"
    for conn in conns:
        await conn.close()


async def test_a_lying_content_length_is_408_and_closed(api: Stack) -> None:
    """A body that never comes in full held the connection for good."""
    conn = await RawConnection.open(api.http_port)
    headers = [("Content-Type", "application/json"), ("Content-Length", "100")]
    try:
        await conn.send(request("POST", "/register/", headers, content_length=False) + b'{"em')
        resp = await conn.response(within=10)
        assert await conn.closed_by_server(within=5)
    finally:
        await conn.close()
    assert resp.status == 408
    assert resp.json() == {"detail": "request not received in time"}


async def test_an_idle_keep_alive_connection_outlives_the_read_timeout(api: Stack) -> None:
    conn = await RawConnection.open(api.http_port)
    try:
        await conn.send(request("GET", "/health"))
        assert (await conn.response()).status == 200
        assert not await conn.closed_by_server(within=2.5)  # idle: 75 s, as before
        await conn.send(request("GET", "/health"))
        assert (await conn.response()).status == 200
    finally:
        await conn.close()
