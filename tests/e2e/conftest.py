"""The e2e stack: a Temporal dev server, and per test the service and a Celery worker
started as processes, with their own RabbitMQ names, task queue and Celery queue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aio_pika
import aiohttp
import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from tests.support.databases import create_database, drop_database
from tests.support.settings import RABBITMQ_URL, TEST_DSN
from tests.support.stack import Stack, TemporalServer


@pytest.fixture(scope="session")
def temporal_server(temporal_env: WorkflowEnvironment) -> TemporalServer:
    return TemporalServer(temporal_env)


@pytest.fixture
async def stack(tmp_path: Path, temporal_server: TemporalServer) -> AsyncIterator[Stack]:
    """A database, RabbitMQ names, a task queue and a Celery queue of the test's own."""
    s = Stack(tmp=tmp_path, temporal=temporal_server, dsn=create_database(TEST_DSN, "orders_e2e"))
    yield s
    s.stop_all()
    drop_database(s.dsn)
    env = s.env()
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        for queue in (s.queue, f"{s.queue}.dlq", env["RABBITMQ_STATUS_QUEUE"]):
            await channel.queue_delete(queue)
        await channel.exchange_delete(env["RABBITMQ_EXCHANGE"])


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield session


@pytest.fixture
async def db(stack: Stack) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(stack.dsn)
    yield conn
    await conn.close()
