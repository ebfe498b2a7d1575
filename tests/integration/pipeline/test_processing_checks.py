"""What an order's workflow does when no `processed` comes: on the time-skipping server, with
its real activities on real PostgreSQL. It asks PostgreSQL before republishing, waits while
a backlog may hold the order, stops after a bounded number of checks (stuck, for an
operator), and its history stays bounded however long the signal stays lost."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import asyncpg
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from core.lifecycle import OrderStatus
from service import pipeline
from service.settings import Settings
from store.cache import OrderCache
from tests.support.order_workflow import start, worker
from tests.support.orders import (
    PlacedOrder,
    change_status,
    place_order,
    record_processed,
    relay_all,
)
from tests.support.publishers import RecordingPublisher
from tests.support.waiting import eventually
from workflows.history import WorkflowTimeline
from workflows.names import ORDER_PHASE, ORDER_REPUBLISHES, OrderPhase
from workflows.order import OrderWorkflow
from workflows.policies import PROCESSING_CHECKS
from workflows.types import LifecycleView

TIMEOUT = timedelta(minutes=1)
# A PAID order whose `processed` never comes: start and its task (4), new_order's publish
# (1) and the timer (1); PAID and its task, publish and the status upsert (6); then each of
# the PROCESSING_CHECKS checks: the timer fired and its task (4), the check (1), the phase
# upsert (1), the republish (1), the next timer (1, not after the last). About 60, then
# nothing more: no timer runs while the order is stuck.
BOUNDED_HISTORY = 80
Handle = WorkflowHandle[OrderWorkflow, LifecycleView]


@dataclass
class Backlog:
    """A queue the test fills and drains: `pipeline.QueueLength`."""

    waiting: int = 0

    async def length(self) -> int | None:
        return self.waiting

    async def close(self) -> None:
        return None


async def phase(handle: Handle) -> tuple[str | None, int | None]:
    attributes = (await handle.describe()).typed_search_attributes
    return attributes.get(ORDER_PHASE), attributes.get(ORDER_REPUBLISHES)


async def record_processed_but_lose_the_signal(
    settings: Settings, pool: asyncpg.Pool, placed: PlacedOrder
) -> None:
    """process_order's effect in PostgreSQL, its `order_processed` row never relayed."""
    await record_processed(settings.dsn, placed)
    await pool.execute(
        "UPDATE outbox SET relayed_at = now() WHERE aggregate_id = $1"
        " AND event_type = 'order_processed'",
        placed.id,
    )


async def test_sixty_days_of_a_lost_signal_end_stuck_with_a_bounded_history(
    time_skipping_env: WorkflowEnvironment,
    settings: Settings,
    pool: asyncpg.Pool,
    cache: OrderCache,
) -> None:
    env = time_skipping_env
    placed = await place_order(pool, cache, relayed=True)
    publisher = RecordingPublisher()
    relay = pipeline.relay(pool, env.client, settings)
    event_id = str(placed.event_id)
    async with worker(env, settings, pool, cache, publisher):
        handle = await start(env, settings, placed, processing_timeout=TIMEOUT)
        await eventually(lambda: publisher.event_ids() == [event_id], what="new_order published")
        await change_status(pool, cache, placed, OrderStatus.PAID)
        await relay_all(relay, pool, placed)

        await env.sleep(timedelta(days=60))

        async def stuck() -> tuple[str | None, int | None] | None:
            found = await phase(handle)
            return found if found[0] == OrderPhase.STUCK else None

        assert await eventually(stuck, what="the order stuck") == (
            OrderPhase.STUCK,
            PROCESSING_CHECKS,
        )
        history = await handle.fetch_history()
        new_order = [e for e in publisher.event_ids() if e == event_id]

        # An operator's retry: one more check, one more republish, then processed.
        await handle.signal(OrderWorkflow.retry_processing)
        await eventually(
            lambda: publisher.event_ids().count(event_id) == PROCESSING_CHECKS + 2,
            what="the retry's republish",
        )
        await record_processed_but_lose_the_signal(settings, pool, placed)
        await env.sleep(timedelta(hours=2))  # the next check finds it in PostgreSQL

        async def found() -> bool:
            return (await handle.query(OrderWorkflow.lifecycle)).processed

        await eventually(found, what="the check to find it processed")
        assert (await phase(handle))[0] == OrderPhase.PROCESSED
        await handle.terminate("test done")

    assert len(new_order) == 1 + PROCESSING_CHECKS  # first publish, then one per check
    assert len(history.events) < BOUNDED_HISTORY


async def test_a_check_that_finds_the_order_processed_completes_the_step(
    time_skipping_env: WorkflowEnvironment,
    settings: Settings,
    pool: asyncpg.Pool,
    cache: OrderCache,
) -> None:
    """`process_order` recorded it, but its signal never came: no republish."""
    env = time_skipping_env
    placed = await place_order(pool, cache, relayed=True)
    publisher = RecordingPublisher()
    async with worker(env, settings, pool, cache, publisher):
        handle = await start(env, settings, placed, processing_timeout=TIMEOUT)
        await eventually(lambda: bool(publisher.published), what="new_order published")
        await record_processed_but_lose_the_signal(settings, pool, placed)
        await env.sleep(TIMEOUT + timedelta(seconds=1))

        async def found() -> bool:
            return (await handle.query(OrderWorkflow.lifecycle)).processed

        await eventually(found, what="the check to find it processed")
        await env.sleep(timedelta(hours=3))
        timeline = await WorkflowTimeline(env.client).timeline(placed.id)
        attributes = await phase(handle)
        await handle.terminate("test done")

    assert publisher.event_ids() == [str(placed.event_id)]  # never republished
    assert attributes == (None, None)  # nothing went wrong that an operator should see
    processed = [e.details for e in timeline if e.kind == "processed"]
    assert len(processed) == 1
    assert processed[0]["found"] == "postgresql"


async def test_a_backlog_defers_the_republish_until_it_drains(
    time_skipping_env: WorkflowEnvironment,
    settings: Settings,
    pool: asyncpg.Pool,
    cache: OrderCache,
) -> None:
    env = time_skipping_env
    placed = await place_order(pool, cache, relayed=True)
    publisher = RecordingPublisher()
    backlog = Backlog(waiting=250)
    event_id = str(placed.event_id)
    async with worker(env, settings, pool, cache, publisher, queues=(backlog,)):
        handle = await start(env, settings, placed, processing_timeout=TIMEOUT)
        await eventually(lambda: publisher.event_ids() == [event_id], what="new_order published")
        await env.sleep(timedelta(minutes=4))  # checks at 1 and 3 minutes: the backlog waits

        async def checked_twice() -> bool:
            return (await phase(handle)) == (OrderPhase.REPUBLISHING, 0)

        await eventually(checked_twice, what="two checks that wait")
        assert publisher.event_ids() == [event_id]
        backlog.waiting = 0
        await env.sleep(timedelta(minutes=5))  # the next check, at 7 minutes: republished
        await eventually(lambda: publisher.event_ids() == [event_id] * 2, what="the republish")
        assert await phase(handle) == (OrderPhase.REPUBLISHING, 1)
        await handle.terminate("test done")
