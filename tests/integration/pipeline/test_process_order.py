"""Celery's `process_order` on real PostgreSQL: its effect happens once, however often it runs."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator

import asyncpg
import psycopg
import pytest
from celery import Celery
from celery.exceptions import Retry

from core.events import ORDER_PROCESSED
from processing.connection import WorkerConnection
from processing.names import PROCESS_ORDER
from processing.order import Outcome, Result, process, simulated_work
from processing.tasks import BUSY_MARGIN_SECONDS, close_connection
from service import celery_config
from service.settings import Settings
from store.cache import OrderCache
from tests.support.faults import free_port
from tests.support.orders import LEASE_SECONDS, place_order
from tests.support.waiting import eventually


@pytest.fixture
def celery(settings: Settings) -> Iterator[Celery]:
    app = celery_config.celery(settings)
    yield app
    close_connection(app)
    app.close()


def task_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "processing.order"]


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
    caplog.set_level(logging.INFO, logger="processing.order")
    placed = await place_order(pool, cache, relayed=True)
    task = celery.tasks[PROCESS_ORDER]

    first = await asyncio.to_thread(task.apply, args=(str(placed.id),))
    second = await asyncio.to_thread(task.apply, args=(str(placed.id),))  # after: no claim held

    assert (first.get(), second.get()) == (True, False)
    assert await effects(pool, placed.id) == (1, 1)
    lines = task_lines(caplog)
    assert lines.count(f"Order processed order_id={placed.id}") == 1
    assert lines.count(f"Order already processed, skipping order_id={placed.id}") == 1


class CountedWork:
    """The simulated work, counted: how many deliveries did it (a warehouse's calls)."""

    def __init__(self, seconds: float = 0.0, *, fail_first: int = 0) -> None:
        self.seconds = seconds
        self.fail_first = fail_first  # the first N runs die mid-work (a worker killed)
        self.started = 0
        self._lock = threading.Lock()

    def __call__(self, order_id: uuid.UUID) -> None:
        with self._lock:
            self.started += 1
            dies = self.started <= self.fail_first
        time.sleep(self.seconds)
        if dies:
            raise WorkerKilled(f"killed mid-work order_id={order_id}")


class WorkerKilled(Exception):
    """Stands for a worker process killed mid-work: process() never records."""


def deliver_together(
    settings: Settings, order_id: uuid.UUID, work: CountedWork, n: int
) -> Callable[[], Awaitable[list[Result]]]:
    """`n` deliveries of the order at the same moment, each on a connection of its own."""

    async def run() -> list[Result]:
        connections = [WorkerConnection(settings.dsn) for _ in range(n)]
        together = threading.Barrier(n, timeout=10)

        def deliver(connection: WorkerConnection) -> Result:
            together.wait()
            return process(
                connection, order_id=str(order_id), work=work, lease_seconds=LEASE_SECONDS
            )

        try:
            return list(await asyncio.gather(*(asyncio.to_thread(deliver, c) for c in connections)))
        finally:
            for c in connections:
                c.close()

    return run


async def test_two_deliveries_at_once_do_the_work_once(
    settings: Settings, pool: asyncpg.Pool, cache: OrderCache
) -> None:
    """A redelivery while the first delivery works (a republish, Celery's redelivery):
    the work itself (a warehouse's or a payment provider's call) happens once, not only
    its record."""
    placed = await place_order(pool, cache, relayed=True)
    work = CountedWork(seconds=0.5)

    results = await deliver_together(settings, placed.id, work, 2)()

    assert work.started == 1
    assert sorted(r.outcome for r in results) == [Outcome.BUSY, Outcome.PROCESSED]
    [busy] = [r for r in results if r.outcome is Outcome.BUSY]
    assert 0 < busy.retry_in_seconds <= 60  # it tries again once the claim would run out
    assert await effects(pool, placed.id) == (1, 1)


async def test_concurrent_runs_record_once(
    settings: Settings, pool: asyncpg.Pool, cache: OrderCache
) -> None:
    placed = await place_order(pool, cache, relayed=True)
    work = CountedWork(seconds=0.05)

    results = await deliver_together(settings, placed.id, work, 4)()

    assert sorted(r.outcome for r in results) == [Outcome.BUSY] * 3 + [Outcome.PROCESSED]
    assert work.started == 1
    assert await effects(pool, placed.id) == (1, 1)


async def test_a_claim_whose_worker_died_is_taken_over_once_its_lease_runs_out(
    settings: Settings, pool: asyncpg.Pool, cache: OrderCache, caplog: pytest.LogCaptureFixture
) -> None:
    """A worker killed after claiming, before recording: the next delivery waits while
    the lease holds, then takes over and does the work."""
    caplog.set_level(logging.INFO, logger="processing.order")
    placed = await place_order(pool, cache, relayed=True)
    work = CountedWork(fail_first=1)
    connection = WorkerConnection(settings.dsn)

    def deliver() -> Result:
        return process(connection, order_id=str(placed.id), work=work, lease_seconds=1.0)

    try:
        with pytest.raises(WorkerKilled):
            await asyncio.to_thread(deliver)
        early = await asyncio.to_thread(deliver)  # its lease still holds
        assert early.outcome is Outcome.BUSY
        assert 0 < early.retry_in_seconds <= 1.0

        async def taken_over() -> Result | None:
            result = await asyncio.to_thread(deliver)
            return result if result.outcome is not Outcome.BUSY else None

        result = await eventually(taken_over, what="the lease to run out", deadline_s=10)
    finally:
        connection.close()
    assert result.outcome is Outcome.PROCESSED
    assert work.started == 2  # the killed run and the one that took over, no other
    assert await effects(pool, placed.id) == (1, 1)
    assert any("claimed again" in r.getMessage() for r in caplog.records)


async def test_a_duplicate_does_no_work_and_tells_the_workflow_when_its_signal_is_gone(
    settings: Settings, pool: asyncpg.Pool, cache: OrderCache
) -> None:
    """A duplicate delivery means the workflow republished: it has not learnt the order
    was processed. While the `order_processed` row is in the outbox, the relay tells it;
    once that row is gone (the retention deleted it), the duplicate writes it again."""
    placed = await place_order(pool, cache, relayed=True)
    work = CountedWork()
    connection = WorkerConnection(settings.dsn)

    def deliver() -> Result:
        return process(
            connection,
            order_id=str(placed.id),
            work=work,
            lease_seconds=LEASE_SECONDS,
            correlation_id="req-7",
        )

    signal = "SELECT id, relayed_at FROM outbox WHERE aggregate_id = $1 AND event_type = $2"
    try:
        assert (await asyncio.to_thread(deliver)).outcome is Outcome.PROCESSED
        [first] = await pool.fetch(signal, placed.id, ORDER_PROCESSED)
        assert (await asyncio.to_thread(deliver)).outcome is Outcome.DUPLICATE
        assert await pool.fetch(signal, placed.id, ORDER_PROCESSED) == [first]  # nothing new

        await pool.execute("DELETE FROM outbox WHERE id = $1", first["id"])  # the retention
        assert (await asyncio.to_thread(deliver)).outcome is Outcome.DUPLICATE
    finally:
        connection.close()
    [again] = await pool.fetch(signal, placed.id, ORDER_PROCESSED)
    assert again["relayed_at"] is None  # the relay will signal the workflow
    assert again["id"] == first["id"]  # the same event: the workflow counts it once
    assert work.started == 1
    assert await effects(pool, placed.id) == (1, 1)


async def test_a_busy_order_is_retried_by_celery_once_the_other_claim_would_run_out(
    celery: Celery, pool: asyncpg.Pool, cache: OrderCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    placed = await place_order(pool, cache, relayed=True)
    await pool.execute(
        "INSERT INTO order_processing (order_id, lease_owner, leased_until)"
        " VALUES ($1, $2, now() + interval '20 seconds')",
        placed.id,
        uuid.uuid4(),
    )
    task = celery.tasks[PROCESS_ORDER]
    # An eager task's retry runs it again at once, forever while the claim holds: record
    # what the worker would have scheduled instead.
    countdowns: list[float] = []

    def retry(countdown: float) -> Retry:
        countdowns.append(countdown)
        return Retry(f"retry in {countdown} s")

    monkeypatch.setattr(task, "retry", retry)
    result = await asyncio.to_thread(task.apply, args=(str(placed.id),))

    assert result.state == "RETRY"
    [countdown] = countdowns
    assert 19 < countdown <= 20 + BUSY_MARGIN_SECONDS
    assert await effects(pool, placed.id) == (0, 0)


async def test_an_unknown_order_is_logged_and_not_retried(
    celery: Celery, pool: asyncpg.Pool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="processing.order")
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
        process(
            connection,
            order_id=str(uuid.uuid4()),
            work=simulated_work(0),
            lease_seconds=LEASE_SECONDS,
        )


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
