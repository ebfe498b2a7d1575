"""Hostile HTTP, sent byte for byte (`tests/support/raw_http.py`): bad bytes in headers,
Content-Length with Transfer-Encoding, chunked bodies broken or over the limit, clients
that hang up in the middle of a body. Each gets a clear 4xx (or, for a client that is
gone, a quiet outcome of its own), never a 500, never a traceback in the log; a request
the app refuses is still counted by the general rate limiter.

Slow clients (half a header, a Content-Length that lies) need the service's own server:
`tests/integration/api/test_slow_clients.py` and `tests/e2e/test_slow_clients.py`."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
from prometheus_client import REGISTRY

from tests.support.api_client import ITEMS, Client, MakeClient, User
from tests.support.raw_http import RawConnection, chunked, exchange, request
from tests.support.waiting import eventually

BAD_TOKEN = b"Bearer a\xffb"


def _port(client: Client) -> int:
    assert client.server.port is not None
    return client.server.port


def _no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    loud = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not loud, [f"{r.name}: {r.getMessage()}" for r in loud]


async def test_a_non_ascii_bearer_token_is_a_json_401(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    """`Bearer a\\xffb` was a text/plain 500 with a traceback, and not counted."""
    client = await make_client(
        rate_limit_enabled=True, rate_limit_key_prefix=f"ratelimit.test.{uuid.uuid4().hex}"
    )
    caplog.set_level(logging.INFO)
    raw = request("GET", "/orders/user/1/", [("Authorization", BAD_TOKEN)])
    resp = await exchange(_port(client), raw)
    assert resp.status == 401, resp.body
    assert resp.headers["content-type"].startswith("application/json")
    assert resp.json() == {"detail": "could not validate credentials"}
    assert resp.headers["www-authenticate"] == "Bearer"
    assert resp.headers["ratelimit"].startswith('"default";r=99;')
    _no_traceback(caplog)


async def test_a_flood_of_bad_tokens_meets_429_and_writes_no_traceback(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    """300 such tokens wrote 300 tracebacks and 300 x 500, never a 429."""
    client = await make_client(
        rate_limit_enabled=True,
        rate_limit_capacity=5,
        rate_limit_refill_rate=0.001,
        rate_limit_key_prefix=f"ratelimit.test.{uuid.uuid4().hex}",
    )
    caplog.set_level(logging.INFO)
    raw = request("GET", "/orders/user/1/", [("Authorization", BAD_TOKEN)])
    statuses = [(await exchange(_port(client), raw)).status for _ in range(8)]
    assert statuses == [401] * 5 + [429] * 3
    _no_traceback(caplog)


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(("Authorization", b"Bearer " + b"a" * 8000), id="token-8000-chars"),
        pytest.param(("Authorization", b"Bearer \xc3\xa9\xc3\xa9"), id="token-utf8"),
        pytest.param(("Authorization", b"Bearer a b"), id="token-with-space"),
        pytest.param(("Authorization", b"bearer    "), id="scheme-only"),
    ],
)
async def test_any_bearer_header_that_is_not_a_token_is_a_401(
    client: Client, caplog: pytest.LogCaptureFixture, header: tuple[str, bytes]
) -> None:
    caplog.set_level(logging.INFO)
    resp = await exchange(_port(client), request("GET", "/orders/user/1/", [header]))
    assert resp.status == 401, resp.body
    assert "detail" in resp.json()
    _no_traceback(caplog)


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(("X-Request-ID", b"r" * 8000), id="request-id-8000"),
        pytest.param(("X-Request-ID", b"a\xffb"), id="request-id-bad-byte"),
        pytest.param(("If-Match", b'"1", ' * 1500), id="if-match-7500"),
        pytest.param(("Idempotency-Key", b"k\xff"), id="idempotency-key-bad-byte"),
    ],
)
async def test_hostile_header_values_never_give_a_500(
    client: Client, user: User, caplog: pytest.LogCaptureFixture, header: tuple[str, bytes]
) -> None:
    caplog.set_level(logging.INFO)
    headers: list[tuple[str, str | bytes]] = [
        ("Authorization", f"Bearer {user.token}"),
        ("Content-Type", "application/json"),
        header,
    ]
    body = b'{"items": [{"product_id": 1, "quantity": 1, "price": 1}]}'
    resp = await exchange(_port(client), request("POST", "/orders/", headers, body))
    assert resp.status in (201, 422), resp.body
    assert len(resp.headers["x-request-id"]) <= 128
    _no_traceback(caplog)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Bad: a\x00b\r\n\r\n", id="nul"),
        pytest.param(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Bad: a\rb\r\n\r\n", id="bare-cr"),
        pytest.param(b"GET /health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\x7fb\r\n\r\n",
                     id="token-del"),
        pytest.param(
            b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", id="length-minus-1"
        ),
        pytest.param(
            b"POST /orders/ HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            id="cl-and-te",
        ),
        pytest.param(
            b"POST /orders/ HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            id="two-lengths",
        ),
        pytest.param(
            b"POST /orders/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked, x\r\n\r\n",
            id="te-not-ending-in-chunked",
        ),
        pytest.param(b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"X: y\r\n" * 200 + b"\r\n",
                     id="too-many-headers"),
        pytest.param(b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", id="long-line"),
    ],
)  # fmt: skip
async def test_a_malformed_request_is_a_400_and_one_warning_line(
    client: Client, caplog: pytest.LogCaptureFixture, raw: bytes
) -> None:
    caplog.set_level(logging.DEBUG)
    conn = await RawConnection.open(_port(client))
    try:
        await conn.send(raw)
        resp = await conn.response()
        assert await conn.closed_by_server(within=5)
    finally:
        await conn.close()
    assert resp.status == 400, resp.body
    assert resp.json()["detail"].startswith("malformed HTTP request: ")

    def logged() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.name in ("api.protocol", "aiohttp.server")]

    await eventually(logged, what="the log line", deadline_s=5)
    (record,) = logged()
    assert record.name == "api.protocol"
    assert record.levelno == logging.WARNING
    assert record.exc_info is None
    assert record.getMessage().startswith("malformed HTTP request answered 400: ")
    assert "127.0.0.1" in record.getMessage()
    assert "\n" not in record.getMessage()


def _order_headers(user: User, *extra: tuple[str, str]) -> list[tuple[str, str | bytes]]:
    return [
        ("Authorization", f"Bearer {user.token}"),
        ("Content-Type", "application/json"),
        *extra,
    ]


async def test_a_chunked_body_over_the_limit_is_413(client: Client, user: User) -> None:
    chunk = b" " * 8192
    body = chunked(b'{"items": [{"product_id": 1, "quantity": 1, "price": 1}]', *[chunk] * 9, b"}")
    headers = _order_headers(user, ("Transfer-Encoding", "chunked"))
    resp = await exchange(_port(client), request("POST", "/orders/", headers, body))
    assert resp.status == 413
    assert "detail" in resp.json()


async def test_a_chunked_body_under_the_limit_makes_an_order(client: Client, user: User) -> None:
    body = chunked(b'{"items": [{"product_id": 1, ', b'"quantity": 2, "price": 1.5}]}')
    headers = _order_headers(user, ("Transfer-Encoding", "chunked"))
    resp = await exchange(_port(client), request("POST", "/orders/", headers, body))
    assert resp.status == 201, resp.body
    assert resp.json()["total_price"] == 3.0


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"zz\r\n{}\r\n0\r\n\r\n", id="chunk-size-not-hex"),
        pytest.param(b"2\r\n{}XX0\r\n\r\n", id="chunk-without-crlf"),
        pytest.param(b"ffffffffffffffffff\r\n{}\r\n", id="chunk-size-overflow"),
    ],
)
async def test_a_broken_chunked_body_is_a_400(
    client: Client, user: User, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    caplog.set_level(logging.INFO)
    headers = _order_headers(user, ("Transfer-Encoding", "chunked"))
    resp = await exchange(_port(client), request("POST", "/orders/", headers, body))
    assert resp.status == 400, resp.body
    assert "detail" in resp.json()
    _no_traceback(caplog)


def _in_flight() -> float:
    return REGISTRY.get_sample_value("orders_http_requests_in_flight") or 0.0


def _answered(status: str) -> float:
    total = 0.0
    for metric in REGISTRY.collect():
        if metric.name == "orders_http_requests":
            total += sum(
                s.value
                for s in metric.samples
                if s.name.endswith("_total") and s.labels["status"] == status
            )
    return total


async def test_a_client_that_hangs_up_mid_body_is_499_not_500(
    client: Client, user: User, caplog: pytest.LogCaptureFixture
) -> None:
    """A client gone in the middle of its body was logged with a traceback and counted
    as a 500."""
    caplog.set_level(logging.INFO)
    gone_before, errors_before = _answered("499"), _answered("500")
    headers = _order_headers(user, ("Content-Length", "1000"))
    conn = await RawConnection.open(_port(client))
    in_flight = _in_flight()
    await conn.send(request("POST", "/orders/", headers, b'{"items": ['))
    await eventually(lambda: _in_flight() > in_flight, what="the handler", deadline_s=5)
    conn.abort()
    await eventually(lambda: _answered("499") > gone_before, what="a 499", deadline_s=5)
    assert _answered("500") == errors_before
    _no_traceback(caplog)
    ok = await client.post("/orders/", json={"items": ITEMS}, headers=user.headers)
    assert ok.status == 201


async def test_pipelined_requests_are_answered_in_order(client: Client, user: User) -> None:
    auth: list[tuple[str, Any]] = [("Authorization", f"Bearer {user.token}")]
    raw = request("GET", "/health") + request("GET", f"/orders/user/{user.id}/", auth)
    conn = await RawConnection.open(_port(client))
    try:
        await conn.send(raw)
        first, second = await conn.response(), await conn.response()
    finally:
        await conn.close()
    assert (first.status, second.status) == (200, 200)
    assert second.json() == []


@pytest.mark.parametrize(
    "target",
    [
        pytest.param("/orders/user/{id}/?limit=%ff", id="query-bad-percent"),
        pytest.param("/orders/user/{id}/?cursor=%ff%fe", id="cursor-bad-percent"),
        pytest.param("/orders/user/{id}/?cursor=" + "A" * 4000, id="cursor-4000"),
        pytest.param("/orders/user/{id}/?limit=" + "9" * 4000, id="limit-4000-digits"),
        pytest.param("/orders/user/" + "9" * 5000 + "/", id="user-id-5000-digits"),
        pytest.param("/orders/%ff/", id="order-id-bad-percent"),
        pytest.param("/orders/%00/history/", id="order-id-nul"),
    ],
)
async def test_hostile_paths_and_queries_never_give_a_500(
    client: Client, user: User, caplog: pytest.LogCaptureFixture, target: str
) -> None:
    caplog.set_level(logging.INFO)
    headers = [("Authorization", f"Bearer {user.token}")]
    resp = await exchange(_port(client), request("GET", target.format(id=user.id), headers))
    assert resp.status in (400, 403, 404, 422), resp.body
    assert "detail" in resp.json()
    _no_traceback(caplog)
