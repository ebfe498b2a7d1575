"""Celery's `process_order` on real PostgreSQL: its effect happens once, however often it runs."""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Iterator

import asyncpg
import psycopg
import pytest
from celery import Celery

from processing.connection import WorkerConnection
from processing.names import PROCESS_ORDER
from processing.tasks import close_connection, process, simulated_work
from service import celery_config
from service.settings import Settings
from store.cache import OrderCache
from tests.support.faults import free_port

from .orders import place_order


@pytest.fixture
def celery(settings: Settings) -> Iterator[Celery]:
    app = celery_config.celery(settings)
    yield app
    close_connection(app)
    app.close()


def task_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "processing.tasks"]


async def effects(pool: asyncpg.Pool, order_id: uuid.UUID) -> tuple[int, int]:
    processed = await pool.fetchval(
        "SELECT count(*) FROM processed_orders WHERE order_id = $1", order_id
    )
    events = await pool.fetchval(
        "SELECT count(*) FROM outbox WHERE aggregate_id = $1 AND event_type = 'order_processed'",
        order_id,
    )
    return processed, events


async def test_running_twice_has_its_effect_once(
    celery: Celery, pool: asyncpg.Pool, cache: OrderCache, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="processing.tasks")
    placed = await place_order(pool, cache, relayed=True)
    task = celery.tasks[PROCESS_ORDER]

    first = await asyncio.to_thread(task.apply, args=(str(placed.id),))
    second = await asyncio.to_thread(task.apply, args=(str(placed.id),))

    assert (first.get(), second.get()) == (True, False)
    assert await effects(pool, placed.id) == (1, 1)
    lines = task_lines(caplog)
    assert lines.count(f"Order processed order_id={placed.id}") == 1
    assert lines.count(f"Order already processed, skipping order_id={placed.id}") == 1


async def test_concurrent_runs_record_once(
    settings: Settings, pool: asyncpg.Pool, cache: OrderCache
) -> None:
    """Two workers on the same order at the same moment (a redelivery while it runs)."""
    placed = await place_order(pool, cache, relayed=True)
    connections = [WorkerConnection(settings.dsn) for _ in range(4)]
    try:
        recorded = await asyncio.gather(
            *(
                asyncio.to_thread(process, c, order_id=str(placed.id), work=simulated_work(0.05))
                for c in connections
            )
        )
    finally:
        for c in connections:
            c.close()
    assert sorted(recorded) == [False, False, False, True]
    assert await effects(pool, placed.id) == (1, 1)


async def test_an_unknown_order_is_logged_and_not_retried(
    celery: Celery, pool: asyncpg.Pool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="processing.tasks")
    missing = uuid.uuid4()
    task = celery.tasks[PROCESS_ORDER]

    unknown = await asyncio.to_thread(task.apply, args=(str(missing),))
    malformed = await asyncio.to_thread(task.apply, args=("not-a-uuid",))

    assert (unknown.state, unknown.get()) == ("SUCCESS", False)
    assert (malformed.state, malformed.get()) == ("SUCCESS", False)
    assert await effects(pool, missing) == (0, 0)
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert f"Order does not exist, not processed order_id={missing}" in errors


def test_an_unreachable_database_raises_for_a_retry() -> None:
    """The task retries on OperationalError (a real worker re-queues it with backoff)."""
    connection = WorkerConnection(f"postgresql://postgres@127.0.0.1:{free_port()}/orders")
    with pytest.raises(psycopg.OperationalError):
        process(connection, order_id=str(uuid.uuid4()), work=simulated_work(0))


async def test_the_processed_event_carries_the_correlation_id(
    celery: Celery, pool: asyncpg.Pool, cache: OrderCache
) -> None:
    placed = await place_order(pool, cache, relayed=True)
    task = celery.tasks[PROCESS_ORDER]
    result = await asyncio.to_thread(
        task.apply, args=(str(placed.id),), kwargs={"correlation_id": "req-9"}
    )
    assert result.get() is True
    assert (
        await pool.fetchval(
            "SELECT correlation_id FROM outbox"
            " WHERE aggregate_id = $1 AND event_type = 'order_processed'",
            placed.id,
        )
        == "req-9"
    )


async def test_each_pool_thread_has_a_connection_of_its_own(settings: Settings) -> None:
    """Celery's thread pool runs tasks side by side: never two on one connection."""
    connection = WorkerConnection(settings.dsn)
    together = threading.Barrier(2, timeout=10)
    got: list[object] = []

    def task() -> None:
        together.wait()  # both threads alive at once
        got.append(connection.get())
        assert connection.get() is got[-1]  # the same thread keeps its connection
        together.wait()

    threads = [threading.Thread(target=task) for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            await asyncio.to_thread(thread.join, 15)
        first, second = got
        assert first is not second
    finally:
        connection.close()
    assert all(c.closed for c in got)  # type: ignore[attr-defined]
