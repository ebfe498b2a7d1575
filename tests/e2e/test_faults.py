"""Outages on purpose: every order that got a 201 is processed exactly once by effect.

Each server sits behind a TCP proxy that the test cuts and restores, so the shared
PostgreSQL, RabbitMQ and Temporal servers are never stopped.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections import Counter

import aiohttp
import asyncpg
import pytest

from tests.e2e.conftest import Stack
from tests.support.api import ApiUser
from tests.support.faults import tcp_proxy
from tests.support.processes import Process
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow

DEADLINE_S = 120
PROCESSED = re.compile(r"Order processed order_id=([0-9a-f-]{36})")


async def outbox_count(db: asyncpg.Connection, order_ids: list[str], where: str) -> int:
    """How many outbox rows of these orders satisfy `where` (a fixed SQL condition)."""
    n: int = await db.fetchval(
        f"SELECT count(*) FROM outbox WHERE aggregate_id = ANY($1::uuid[]) AND {where}",
        [uuid.UUID(i) for i in order_ids],
    )
    return n


async def assert_processed_exactly_once(
    db: asyncpg.Connection, celery: Process, order_ids: list[str]
) -> None:
    wanted = [uuid.UUID(i) for i in order_ids]

    async def all_processed() -> bool:
        n = await db.fetchval(
            "SELECT count(*) FROM processed_orders WHERE order_id = ANY($1::uuid[])", wanted
        )
        return bool(n == len(wanted))

    await eventually(all_processed, deadline_s=DEADLINE_S, what=f"{len(wanted)} orders processed")
    lines = Counter(PROCESSED.findall(celery.output()))
    assert {i: lines[i] for i in order_ids} == dict.fromkeys(order_ids, 1)
    # The confirm is recorded after the publish: a worker killed in between leaves the row
    # until Temporal retries the activity (after its start-to-close timeout).
    unpublished = "event_type = 'new_order' AND published_at IS NULL"

    async def all_published() -> bool:
        return await outbox_count(db, order_ids, unpublished) == 0

    await eventually(all_published, deadline_s=DEADLINE_S, what="every new_order confirmed")


async def create_many(user: ApiUser, n: int, concurrency: int = 10) -> list[str]:
    gate = asyncio.Semaphore(concurrency)

    async def one() -> str:
        async with gate:
            return str((await user.create_order(n_items=1))["id"])

    return list(await asyncio.gather(*(one() for _ in range(n))))


async def test_rabbitmq_unreachable_during_50_orders(
    stack: Stack, http: aiohttp.ClientSession, db: asyncpg.Connection
) -> None:
    with tcp_proxy("127.0.0.1", 5672) as rabbit:
        stack.overrides["RABBITMQ_PORT"] = str(rabbit.port)
        stack.start_service()
        celery = stack.start_celery()
        user = await ApiUser(http, stack.base_url).sign_up()

        rabbit.cut()
        ids = await create_many(user, 50)

        async def all_handed_to_temporal() -> bool:
            return await outbox_count(db, ids, "relayed_at IS NOT NULL") == len(ids)

        # Accepted and handed to Temporal, but nothing can reach RabbitMQ yet.
        await eventually(all_handed_to_temporal, deadline_s=DEADLINE_S, what="relay")
        assert await outbox_count(db, ids, "published_at IS NOT NULL") == 0

        rabbit.restore()
        await assert_processed_exactly_once(db, celery, ids)


async def test_temporal_unreachable_during_50_orders(
    stack: Stack, http: aiohttp.ClientSession, db: asyncpg.Connection
) -> None:
    host, port = stack.temporal.address.rsplit(":", 1)
    with tcp_proxy(host, int(port)) as temporal:
        stack.overrides["TEMPORAL_ADDRESS"] = temporal.address
        stack.start_service()
        celery = stack.start_celery()
        user = await ApiUser(http, stack.base_url).sign_up()

        temporal.cut()
        ids = await create_many(user, 50)

        async def relay_retried() -> bool:
            return await outbox_count(db, ids, "relayed_at IS NULL AND attempts > 0") > 0

        await eventually(relay_retried, deadline_s=DEADLINE_S, what="failed relay attempts")
        temporal.restore()
        await assert_processed_exactly_once(db, celery, ids)


async def test_service_killed_with_200_orders_in_flight(
    stack: Stack, http: aiohttp.ClientSession, db: asyncpg.Connection
) -> None:
    service = stack.start_service()
    celery = stack.start_celery()
    user = await ApiUser(http, stack.base_url).sign_up()

    accepted: list[str] = []
    gate = asyncio.Semaphore(20)

    async def one() -> None:
        async with gate:
            try:
                accepted.append(str((await user.create_order(n_items=1))["id"]))
            except (TimeoutError, aiohttp.ClientError, AssertionError):
                return  # the service died under this request: no 201, no promise

    tasks = [asyncio.create_task(one()) for _ in range(200)]
    await eventually(lambda: len(accepted) >= 100, deadline_s=DEADLINE_S, what="100 orders")
    service.kill()
    await asyncio.gather(*tasks)
    assert 100 <= len(accepted) <= 200

    stack.start_service(name="service-restarted")
    await assert_processed_exactly_once(db, celery, accepted)
