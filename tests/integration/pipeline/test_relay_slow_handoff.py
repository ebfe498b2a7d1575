"""One slow hand-off to Temporal holds back no other order: the relay holds no row lock
while it hands rows over (it leases them, committed), so another order's publish never
waits on its row, and the relay keeps handing other rows over meanwhile.

Real Temporal dev server, a real worker with its real activities, real RabbitMQ and
PostgreSQL; the activities' pool has the service's statement timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aio_pika
import asyncpg
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.names import ACTIVITY_PUBLISH_EVENT
from messaging.publisher import Publisher
from messaging.topology import Topology
from relay.outbox import Handoff, OutboxRelay
from service import pipeline
from service.settings import Settings
from service.worker import build_worker
from store.cache import OrderCache
from store.db import create_pool
from store.outbox import OutboxRow
from tests.support.order_workflow import order_activities
from tests.support.orders import PlacedOrder, place_order
from tests.support.outbox import outbox_rows
from tests.support.settings import RABBITMQ_URL
from tests.support.waiting import eventually
from workflows.names import workflow_id
from workflows.starter import TemporalHandoff
from workflows.timeline import LOCAL_ACTIVITY_MARKER

SLOW_SECONDS = 6.0  # longer than the local publish's 5 s and the statement timeout's 5 s


@dataclass
class Delayed:
    """The real hand-off, held back for one chosen order: for `seconds`, or until released."""

    inner: Handoff
    order_id: uuid.UUID
    seconds: float
    started: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    finished: list[uuid.UUID] = field(default_factory=list)  # order ids, in the order done

    @property
    def errors(self) -> tuple[type[Exception], ...]:
        return self.inner.errors

    async def hand_over(self, row: OutboxRow) -> None:
        if row.aggregate_id == self.order_id:
            self.started.set()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.seconds):
                    await self.release.wait()
        await self.inner.hand_over(row)
        self.finished.append(row.aggregate_id)


def relay_with(settings: Settings, pool: asyncpg.Pool, handoff: Delayed) -> OutboxRelay:
    config = pipeline.relay_config(
        settings, batch_size=100, min_batch_size=100, poll_interval_seconds=0.2
    )
    return OutboxRelay(pool, handoff, config)


def delayed(client: Client, settings: Settings, order: PlacedOrder, seconds: float) -> Delayed:
    inner = TemporalHandoff(
        client,
        task_queue=settings.temporal_task_queue,
        payment_timeout=settings.payment_timeout,
        timeout=settings.temporal_timeout_seconds + SLOW_SECONDS,
        processing_timeout=settings.processing_timeout,
    )
    return Delayed(inner, order.id, seconds)


@contextlib.asynccontextmanager
async def worker_publishing(
    env: WorkflowEnvironment, settings: Settings, cache: OrderCache, topology: Topology
) -> AsyncIterator[None]:
    """The order worker with its real activities: a real Publisher, and a pool with the
    service's statement timeout (5 s), as `orders serve` builds them."""
    activity_pool = await create_pool(
        settings.dsn,
        min_size=1,
        max_size=10,
        statement_timeout=settings.db_statement_timeout_seconds,
    )
    publisher = Publisher(RABBITMQ_URL, topology, timeout=settings.rabbitmq_timeout_seconds)
    activities = order_activities(activity_pool, cache, publisher)
    try:
        async with build_worker(
            env.client, settings.temporal_task_queue, activities, sandboxed=False
        ):
            yield
    finally:
        await publisher.close()
        await activity_pool.close()


async def published(pool: asyncpg.Pool, orders: list[PlacedOrder]) -> bool:
    for order in orders:
        if not all(row.published for row in await outbox_rows(pool, order.id)):
            return False
    return True


async def messages_by_id(queue_name: str) -> Counter[str]:
    """Every message on the queue (taken off it), counted by message_id."""
    counts: Counter[str] = Counter()
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(queue_name)
        while (message := await queue.get(no_ack=True, fail=False)) is not None:
            counts[str(message.message_id)] += 1
    return counts


async def failed_publishes(client: Client, order: PlacedOrder) -> list[str]:
    """What in the order's history says a publish failed: a local attempt's failure, or
    the regular publish activity that takes over after one."""
    history = await client.get_workflow_handle(workflow_id(order.id)).fetch_history()
    failures: list[str] = []
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            marker = event.marker_recorded_event_attributes
            if marker.marker_name == LOCAL_ACTIVITY_MARKER and marker.HasField("failure"):
                failures.append(f"local publish failed: {marker.failure.message}")
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            name = event.activity_task_scheduled_event_attributes.activity_type.name
            if name == ACTIVITY_PUBLISH_EVENT:
                failures.append("the publish activity took over")
    return failures


@pytest.mark.timeout(90)
async def test_a_slow_hand_off_fails_no_other_orders_publish(
    temporal_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    cache: OrderCache,
    settings: Settings,
    topology: Topology,
) -> None:
    """The issue's case: one start takes 6 s; the batch's other orders start at once and
    their local publish marks their rows published while it waits. Before, the relay held
    every row of the batch locked until the slow start returned: the mark waited past the
    local publish's 5 s, which failed after RabbitMQ confirmed, and the publish activity
    that took over published each of those orders a second time."""
    slow, *fast = [await place_order(pool, cache) for _ in range(4)]
    handoff = delayed(temporal_env.client, settings, slow, SLOW_SECONDS)
    relay = relay_with(settings, pool, handoff)

    async with worker_publishing(temporal_env, settings, cache, topology):
        began = time.monotonic()
        batch = asyncio.create_task(relay.relay_once())
        await eventually(
            lambda: published(pool, [slow, *fast]), what="every order published", deadline_s=60
        )
        result = await batch
        assert time.monotonic() - began >= SLOW_SECONDS  # the slow start did take its time

    assert result.errors == ()  # (the batch may hold other tests' leftover rows too)
    counts = await messages_by_id(topology.new_order_queue)
    assert counts == {str(order.event_id): 1 for order in [slow, *fast]}
    for order in [slow, *fast]:
        assert await failed_publishes(temporal_env.client, order) == [], order.id
        [row] = await outbox_rows(pool, order.id)
        assert (row.relayed, row.attempts) == (True, 0)


@pytest.mark.timeout(60)
async def test_a_slow_hand_off_holds_back_no_later_order(
    temporal_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    cache: OrderCache,
    settings: Settings,
) -> None:
    """While one hand-off hangs, an order placed meanwhile is handed over (and relayed)
    without waiting for it: the relay does not wait for a whole batch to claim again."""
    slow = await place_order(pool, cache)
    handoff = delayed(temporal_env.client, settings, slow, seconds=30)
    relay = relay_with(settings, pool, handoff)
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.wait_for(handoff.started.wait(), 10)
        later = await place_order(pool, cache)

        async def later_relayed() -> bool:
            return (await outbox_rows(pool, later.id))[0].relayed

        try:
            await eventually(later_relayed, what="the later order relayed", deadline_s=10)
        finally:
            still_waiting = slow.id not in handoff.finished
            handoff.release.set()
        assert still_waiting, "the later order waited for the slow hand-off"
        # Handed over before the slow one (other tests' leftover rows may come first too).
        assert later.id in handoff.finished
        assert slow.id not in handoff.finished[: handoff.finished.index(later.id)]

        async def slow_relayed() -> bool:
            return (await outbox_rows(pool, slow.id))[0].relayed

        await eventually(slow_relayed, what="the slow order relayed once released")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
