"""Slow clients against `orders serve`: a request must arrive in full (header and body)
within HTTP_READ_TIMEOUT_SECONDS of its first byte, or the connection is closed; /health
stays fast meanwhile. (What is cut and what is not, in detail, in
tests/integration/api/test_slow_clients.py, on the same server.)"""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from tests.support.raw_http import RawConnection, request
from tests.support.stack import Stack

HALF_HEADER = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: "


@pytest.fixture
def api(stack: Stack) -> Stack:
    stack.overrides["HTTP_READ_TIMEOUT_SECONDS"] = "1"
    stack.start_service(roles="api")
    return stack


async def test_half_headers_and_short_bodies_are_dropped_and_health_stays_fast(
    api: Stack, http: aiohttp.ClientSession
) -> None:
    """200 connections that sent half a header were all still open 35 s later."""
    conns = [await RawConnection.open(api.http_port) for _ in range(200)]
    for conn in conns:
        await conn.send(HALF_HEADER)
    started = time.monotonic()
    async with http.get(f"{api.base_url}/health") as health:
        assert health.status == 200
    assert time.monotonic() - started < 0.5
    closed = await asyncio.gather(*(c.closed_by_server(within=10) for c in conns))
    assert all(closed), f"{closed.count(False)} of 200 still open"
    for conn in conns:
        await conn.close()

    # A body that never comes in full held its connection for good.
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
