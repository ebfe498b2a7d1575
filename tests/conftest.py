"""Fixtures shared by every test layer: settings for the real local servers, the schema."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from service.settings import Settings
from store.db import create_pool
from store.migrate import apply_migrations
from tests.support.temporal import start_dev_server, start_time_skipping_server

TEST_DSN = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/orders_test")


def make_settings(**overrides: Any) -> Settings:
    """Settings for tests: the real local servers, a test database, no .env file."""
    values: dict[str, Any] = {
        # Random, as start-up demands (service/settings/secret_key.py); for tests only.
        "secret_key": "OceKt82cUR0pDAAdvZOHUbnmNWdqZdqoWi48IaWpwTrnxR9UHf6HpWvsCkycp-xJ",
        "database_url": TEST_DSN,
        "redis_host": "127.0.0.1",
        "rabbitmq_host": "127.0.0.1",
        "rabbitmq_password": "guest",
        "temporal_address": "127.0.0.1:7233",
        "process_order_seconds": 0,
        "service_roles": "api",
        # argon2id at its cheapest: tests register hundreds of users. Never in production
        # (the defaults are OWASP's floor); the login timing test uses the real cost.
        "password_hash_memory_kib": 8,
        "password_hash_time_cost": 1,
        # Tests make hundreds of requests from one address: rate limiting is off (the
        # credentials buckets, always on, get room), and every app has buckets of its own.
        # The rate-limit tests turn it back on.
        "rate_limit_enabled": False,
        "auth_rate_limit_capacity": 1_000_000,
        "auth_rate_limit_refill_rate": 1_000_000,
        "auth_failure_rate_limit_capacity": 1_000_000,
        "auth_failure_rate_limit_refill_rate": 1_000_000,
        # Tests make many orders per user; the cap's own tests set it.
        "max_pending_orders_per_user": 0,
        "rate_limit_key_prefix": f"ratelimit.test.{uuid.uuid4().hex}",
        # No operator listener (HTTP_PORT + 1000 would be one port for every app): the
        # tests that read it give it a free port.
        "operator_port": 0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture(scope="session")
def migrated_dsn() -> str:
    apply_migrations(TEST_DSN)
    return TEST_DSN


@pytest.fixture(scope="session")
def settings(migrated_dsn: str) -> Settings:
    return make_settings()


@pytest.fixture(scope="session")
async def pool(migrated_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on the test database; the pipeline suite overrides it with one of its own."""
    p = await create_pool(migrated_dsn, min_size=1, max_size=10)
    yield p
    await p.close()


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    """A Temporal dev server (in memory) with our search attributes registered."""
    env = await start_dev_server()
    yield env
    await env.shutdown()


@pytest.fixture
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping test server, with our search attributes registered: one per test
    (it starts in about 0.2 s). Its clock only skips while no workflow task or activity is
    outstanding, so a workflow a failed test left open, its worker gone, would hold the
    clock of every later test: each `env.sleep` would wait in real time until its RPC
    timed out."""
    env = await start_time_skipping_server()
    yield env
    await env.shutdown()
