"""Builders for tests of the HTTP API in process: a client of the service's app (served as
`orders serve` serves it), registered users, orders, and the rate-limit settings the
rate-limit tests share. The fixtures that use them are in tests/integration/api/conftest.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from aiohttp.web import Application, Request

from service import http_server
from service.settings import Settings

Client = TestClient[Request, Application]
PASSWORD = "correct horse battery staple"
ITEMS = [
    {"product_id": 1, "quantity": 3, "price": 19.99},
    {"product_id": 2, "quantity": 1, "price": 0.01},
]


def random_email() -> str:
    return f"api-{uuid.uuid4().hex[:12]}@example.com"


@dataclass(frozen=True)
class User:
    id: int
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def register(client: Client, email: str | None = None) -> User:
    email = email or random_email()
    resp = await client.post("/register/", json={"email": email, "password": PASSWORD})
    assert resp.status == 201, await resp.text()
    user_id = (await resp.json())["id"]
    resp = await client.post("/token/", data={"username": email, "password": PASSWORD})
    assert resp.status == 200, await resp.text()
    return User(user_id, email, (await resp.json())["access_token"])


async def create_order(
    client: Client, user: User, items: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    resp = await client.post("/orders/", json={"items": items or ITEMS}, headers=user.headers)
    assert resp.status == 201, await resp.text()
    body: dict[str, Any] = await resp.json()
    return body


MakeClient = Callable[..., Awaitable[Client]]


class ServiceServer(TestServer):
    """The test server, on the runner `orders serve` uses: its connection handler (read
    deadline, malformed requests), its options, and no handler cancellation (aiohttp's
    test server cancels a handler whose client is gone; the service lets it finish)."""

    def __init__(self, app: Application, settings: Settings) -> None:
        super().__init__(app)
        self.settings = settings

    async def _make_runner(self, **kwargs: Any) -> web.BaseRunner:
        return http_server.runner(self.app, self.settings)


SLOW = 0.001  # tokens a second: an emptied bucket stays empty for the test


def limited(**overrides: Any) -> dict[str, Any]:
    """Settings overrides turning rate limiting on with small buckets of the test's own."""
    values: dict[str, Any] = {
        "rate_limit_enabled": True,
        "rate_limit_capacity": 5,
        "rate_limit_refill_rate": SLOW,
        "auth_rate_limit_refill_rate": SLOW,
        "rate_limit_key_prefix": f"ratelimit.test.{uuid.uuid4().hex}",
    }
    return values | overrides
