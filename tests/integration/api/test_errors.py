"""Every error is JSON with `detail`; both slash variants of every route answer (no redirect)."""

from __future__ import annotations

import logging
import uuid

import pytest
from aiohttp import web
from pytest_aiohttp import AiohttpClient

from api.errors import error_middleware
from store.ratelimit import RedisBuckets
from tests.support.api_client import Client, MakeClient, User


async def test_unknown_route_is_json_404(client: Client) -> None:
    resp = await client.get("/no/such/route")
    assert resp.status == 404
    assert resp.content_type == "application/json"
    assert await resp.json() == {"detail": "Not Found"}


async def test_wrong_method_is_json_405_with_allow(client: Client) -> None:
    resp = await client.delete("/orders/")
    assert resp.status == 405
    assert await resp.json() == {"detail": "Method Not Allowed"}
    assert "POST" in resp.headers["Allow"]


async def test_body_too_large_is_json(client: Client) -> None:
    resp = await client.post("/register/", data=b"x" * (300 * 1024))
    assert resp.status == 413
    assert "detail" in await resp.json()


async def test_unexpected_error_is_logged_and_json_500(
    aiohttp_client: AiohttpClient, caplog: pytest.LogCaptureFixture
) -> None:
    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("secret internals")

    app = web.Application(middlewares=[error_middleware])
    app.router.add_get("/boom", boom)
    client = await aiohttp_client(app)
    with caplog.at_level(logging.ERROR, logger="api.errors"):
        resp = await client.get("/boom")
    assert resp.status == 500
    assert await resp.json() == {"detail": "internal server error"}
    [record] = [r for r in caplog.records if r.name == "api.errors"]
    assert record.exc_info is not None
    assert "secret internals" not in await resp.text()


async def test_every_route_answers_with_and_without_trailing_slash(
    client: Client, user: User
) -> None:
    routes = [
        ("GET", "/health", None, 200),
        ("GET", "/ready", None, None),
        ("GET", "/docs", None, 200),
        ("GET", "/openapi.json", None, 200),
        ("POST", "/register", {}, 422),
        ("POST", "/token", None, 422),
        ("POST", "/orders", {}, 422),
        ("GET", "/orders/00000000-0000-0000-0000-000000000000", None, 404),
        ("PATCH", "/orders/00000000-0000-0000-0000-000000000000", {"status": "PAID"}, 404),
        ("GET", f"/orders/user/{user.id}", None, 200),
    ]
    for method, bare, body, expected in routes:
        for path in (bare, bare + "/"):
            resp = await client.request(
                method, path, json=body, headers=user.headers, allow_redirects=False
            )
            assert resp.status not in (301, 302, 307, 308, 404) or expected == 404, path
            if expected is not None:
                assert resp.status == expected, (method, path)
            if resp.status >= 400:
                assert "detail" in await resp.json()


async def test_a_failing_middleware_is_a_json_500_with_the_request_id(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rate limiter sat outside the error middleware: whatever it raised reached
    aiohttp, which answered a text/plain 500."""

    async def broken(*args: object) -> None:
        raise RuntimeError("a bug in the limiter")

    monkeypatch.setattr(RedisBuckets, "take", broken)
    client = await make_client(
        rate_limit_enabled=True, rate_limit_key_prefix=f"ratelimit.test.{uuid.uuid4().hex}"
    )
    resp = await client.get("/orders/user/1/", headers={"X-Request-ID": "req-boom"})
    assert resp.status == 500
    assert await resp.json() == {"detail": "internal server error"}
    assert resp.headers["X-Request-ID"] == "req-boom"
