"""Fixtures shared by every test layer: settings for the real local servers, the schema; how
`make test` shares the tests among its workers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from service.settings import Settings
from store.db import create_pool
from store.migrate import apply_migrations
from tests.support.scheduling import SlowTogether
from tests.support.settings import TEST_DSN, make_settings
from tests.support.temporal import start_dev_server, start_time_skipping_server


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> SlowTogether | None:
    """`make test`'s workers (`--dist loadfile`): a module per unit, the slow ones one unit."""
    return SlowTogether(config, log) if config.getvalue("dist") == "loadfile" else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In an xdist worker, the slow tests first: their unit, the longest, goes out first."""
    if hasattr(config, "workerinput"):
        items.sort(key=lambda item: item.get_closest_marker("slow") is None)


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
