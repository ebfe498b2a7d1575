"""Fixtures of the pipeline tests against real PostgreSQL, Redis, RabbitMQ and Temporal.

The pipeline gets a database of its own for the session: a relay claims every
unrelayed outbox row it can see, so sharing `orders_test` with other suites (or a
running service) would let their relays take our rows and ours take theirs.
Names on the shared brokers (exchange, queues, Celery queue, task queue) are unique
per test and removed afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import aio_pika
import asyncpg
import pytest
import redis.asyncio as aioredis

from messaging.topology import Topology
from service import pipeline
from service.settings import Settings
from store.cache import OrderCache
from store.db import create_pool
from tests.support.databases import create_database, drop_database
from tests.support.settings import CELERY_BROKER_URL, RABBITMQ_URL, TEST_DSN, make_settings


@pytest.fixture(scope="session")
def pipeline_dsn() -> Iterator[str]:
    dsn = create_database(TEST_DSN, "orders_pipeline")
    yield dsn
    drop_database(dsn)


@pytest.fixture(scope="session")
async def pool(pipeline_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on the pipeline's database. A fixture of its own, not the root `pool` fed
    another URL: a session fixture computed once is not recomputed for another suite."""
    p = await create_pool(pipeline_dsn, min_size=1, max_size=10)
    yield p
    await p.close()


@pytest.fixture(scope="session")
async def cache() -> AsyncIterator[OrderCache]:
    client = aioredis.Redis(host="127.0.0.1", port=6379, socket_timeout=1.0)
    yield OrderCache(client, ttl_seconds=60, timeout_seconds=1.0)
    await client.aclose()


@pytest.fixture
def suffix() -> str:
    return uuid.uuid4().hex[:12]


@pytest.fixture
def settings(pipeline_dsn: str, suffix: str) -> Settings:
    return make_settings(
        database_url=pipeline_dsn,
        temporal_task_queue=f"orders-test-{suffix}",
        rabbitmq_exchange=f"orders.test.{suffix}",
        rabbitmq_new_order_queue=f"new_order.test.{suffix}",
        rabbitmq_status_queue=f"order_status_changed.test.{suffix}",
        celery_queue=f"orders.test.{suffix}",
        celery_broker_url=CELERY_BROKER_URL,
        relay_poll_interval_seconds=0.2,
        # A fixed window of 100: one relay_once hands over every row a test expects it to
        # (test_relay_window.py gives the window room to move).
        relay_min_batch_size=100,
        temporal_timeout_seconds=5.0,
        rabbitmq_timeout_seconds=5.0,
    )


@pytest.fixture
async def topology(settings: Settings, suffix: str) -> AsyncIterator[Topology]:
    """Unique RabbitMQ names for this test; deleted afterwards."""
    names = pipeline.topology(settings)
    yield names
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        for queue in (names.new_order_queue, names.status_queue, names.dlq):
            await channel.queue_delete(queue)
        await channel.exchange_delete(names.exchange)


@pytest.fixture
async def celery_redis(settings: Settings) -> AsyncIterator[aioredis.Redis]:
    """Redis as Celery's broker sees it; the test's Celery queue is removed afterwards."""
    client = aioredis.Redis.from_url(CELERY_BROKER_URL)
    yield client
    queue = settings.celery_queue
    await client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    await client.aclose()
