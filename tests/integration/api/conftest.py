"""Fixtures for the HTTP API against real PostgreSQL and Redis: an app per test, users.

Each test starts from empty tables, gets its own app from
`service.app.create_app(make_settings(...))`, served as `orders serve` serves it
(`service.http_server.runner`), and makes its own users with random emails, so tests
never depend on each other's rows.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

import asyncpg
import pytest
import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from aiohttp.web import Application, Request
from pytest_aiohttp import AiohttpClient
from temporalio.testing import WorkflowEnvironment

from service import http_server
from service.app import create_app
from service.settings import Settings
from tests.conftest import make_settings

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


@pytest.fixture(autouse=True)
async def clean_tables(pool: asyncpg.Pool) -> None:
    """Every API test starts from empty tables (the pipeline and e2e suites have their own)."""
    await pool.execute("TRUNCATE users, orders, outbox, processed_orders CASCADE")


@pytest.fixture
def make_client(aiohttp_client: AiohttpClient, migrated_dsn: str) -> MakeClient:
    """A client of a fresh app built from `make_settings(**overrides)`."""

    async def make(**overrides: Any) -> Client:
        settings = make_settings(**overrides)
        client: TestClient[Request, None] = await aiohttp_client(
            ServiceServer(create_app(settings), settings)
        )
        return cast(Client, client)  # a client of a server: typed without its app

    return make


@pytest.fixture
async def client(make_client: MakeClient) -> Client:
    return await make_client()


@pytest.fixture
async def user(client: Client) -> User:
    return await register(client)


@pytest.fixture
async def other_user(client: Client) -> User:
    return await register(client)


@pytest.fixture
async def order(client: Client, user: User) -> dict[str, Any]:
    return await create_order(client, user)


@pytest.fixture
async def redis_client(settings: Settings) -> AsyncIterator[aioredis.Redis]:
    r = aioredis.Redis(host=settings.redis_host, port=settings.redis_port, db=settings.redis_db)
    yield r
    await r.aclose()


@pytest.fixture(scope="session")
def temporal_address(temporal_env: WorkflowEnvironment) -> str:
    """The session's Temporal dev server, for /ready and the history route."""
    return temporal_env.client.service_client.config.target_host
