"""Fixtures for the HTTP API against real PostgreSQL and Redis: an app per test, users.

Each test starts from empty tables, gets its own app from
`service.app.create_app(make_settings(...))`, served as `orders serve` serves it
(`service.http_server.runner`), and makes its own users with random emails, so tests
never depend on each other's rows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, cast

import asyncpg
import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient
from aiohttp.web import Request
from pytest_aiohttp import AiohttpClient
from temporalio.testing import WorkflowEnvironment

from service.app import create_app
from service.settings import Settings
from tests.support.api_client import Client, MakeClient, ServiceServer, User, create_order, register
from tests.support.settings import make_settings


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
