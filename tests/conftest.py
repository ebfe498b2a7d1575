"""Fixtures shared by every test layer: settings for the real local servers, the schema."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.testing import WorkflowEnvironment

from service.settings import Settings
from store.db import create_pool
from store.migrate import apply_migrations
from workflows.names import CUSTOMER_ID, ORDER_STATUS

TEST_DSN = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/orders_test")


def make_settings(**overrides: Any) -> Settings:
    """Settings for tests: the real local servers, a test database, no .env file."""
    values: dict[str, Any] = {
        "secret_key": "test-secret-key-that-is-long-enough-0123456789",
        "database_url": TEST_DSN,
        "redis_host": "127.0.0.1",
        "rabbitmq_host": "127.0.0.1",
        "rabbitmq_password": "guest",
        "temporal_address": "127.0.0.1:7233",
        "process_order_seconds": 0,
        "service_roles": "api",
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
    p = await create_pool(migrated_dsn, min_size=1, max_size=10)
    yield p
    await p.close()


def venv_bin(name: str) -> str:
    """A program installed in this virtualenv's bin/ (temporal, temporal-test-server)."""
    bin_dir = Path(sys.executable).parent
    found = shutil.which(name, path=str(bin_dir)) or shutil.which(name, path=f"{sys.prefix}/bin")
    assert found, f"{name} is not installed in the venv (pip install -e '.[dev]')"
    return found


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    """A Temporal dev server (in memory) with our search attributes registered."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=venv_bin("temporal"),
        search_attributes=[CUSTOMER_ID, ORDER_STATUS],
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping test server, with our search attributes registered."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=venv_bin("temporal-test-server")
    )
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={
                CUSTOMER_ID.name: IndexedValueType.INDEXED_VALUE_TYPE_INT,
                ORDER_STATUS.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
            },
        )
    )
    yield env
    await env.shutdown()
