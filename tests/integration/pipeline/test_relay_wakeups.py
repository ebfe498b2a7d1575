"""A relay asks the writers for a NOTIFY only while it waits for work (relay.wakeups).

Under a burst every POST's transaction sent a NOTIFY, which PostgreSQL commits one at a
time (tests/integration/store/test_relays_listening.py says how much that cost). A relay
with a backlog claims again without one, so it says so, and it listens again once the
backlog is gone: a new order then wakes it at once, not at its next poll.

Real PostgreSQL and Temporal dev server; the hand-offs are the real ones, held back by a
gate so that the backlog lasts as long as the test needs. A database of its own: another
test's relay or rows on the pipeline's database would listen or claim in its place.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Iterator
from dataclasses import dataclass, field

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from relay.handoff import Handoff
from relay.outbox import OutboxRelay
from service import pipeline
from service.settings import Settings
from store.cache import OrderCache
from store.db import create_pool
from store.outbox import OutboxRow
from tests.support.databases import own_database
from tests.support.orders import PlacedOrder, place_order
from tests.support.outbox import notifications, outbox_rows
from tests.support.waiting import eventually
from workflows.starter import TemporalHandoff

WINDOW = 8
BACKLOG = 20  # more than the window: the first claim comes back full


@dataclass
class Gate:
    """The real hand-off, each held until the gate opens."""

    inner: Handoff
    open: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def errors(self) -> tuple[type[Exception], ...]:
        return self.inner.errors

    async def hand_over(self, row: OutboxRow) -> None:
        await self.open.wait()
        await self.inner.hand_over(row)


def gated_relay(
    pool: asyncpg.Pool, env: WorkflowEnvironment, settings: Settings
) -> tuple[OutboxRelay, Gate]:
    inner = TemporalHandoff(
        env.client,
        task_queue=settings.temporal_task_queue,
        payment_timeout=settings.payment_timeout,
        timeout=settings.temporal_timeout_seconds,
        processing_timeout=settings.processing_timeout,
    )
    gate = Gate(inner)
    config = pipeline.relay_config(
        settings,
        batch_size=WINDOW,
        min_batch_size=WINDOW,
        poll_interval_seconds=120.0,  # only a NOTIFY can wake it within the test
    )
    return OutboxRelay(pool, gate, config), gate


@pytest.fixture(scope="module")
def wakeups_dsn() -> Iterator[str]:
    with own_database("orders_wakeups") as dsn:
        yield dsn


@pytest.fixture
async def own_pool(wakeups_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(wakeups_dsn, min_size=1, max_size=10)
    yield pool
    await pool.close()


@contextlib.asynccontextmanager
async def running(relay: OutboxRelay) -> AsyncIterator[None]:
    task = asyncio.create_task(relay.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def listening(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM relays_listening"))


async def relayed(pool: asyncpg.Pool, orders: list[PlacedOrder]) -> bool:
    for order in orders:
        if not all(row.relayed for row in await outbox_rows(pool, order.id)):
            return False
    return True


async def test_a_busy_relay_asks_for_no_notify_and_listens_again_once_idle(
    temporal_env: WorkflowEnvironment,
    own_pool: asyncpg.Pool,
    cache: OrderCache,
    settings: Settings,
    wakeups_dsn: str,
) -> None:
    pool = own_pool
    settings = settings.model_copy(update={"database_url": wakeups_dsn})
    relay, gate = gated_relay(pool, temporal_env, settings)
    # Orders the relay cannot see yet (marked relayed), for a backlog that appears at once.
    backlog = [await place_order(pool, cache, relayed=True) for _ in range(BACKLOG)]
    async with running(relay), notifications(settings.dsn) as received:
        await eventually(lambda: listening(pool), what="the idle relay to listen")
        await pool.execute(  # an UPDATE: no NOTIFY
            "UPDATE outbox SET relayed_at = NULL WHERE id = ANY($1)", [o.event_id for o in backlog]
        )
        first = await place_order(pool, cache)  # its NOTIFY wakes the relay: a full claim
        await asyncio.wait_for(received.get(), 5)

        # Busy: it listens no more, and the next writer sends no NOTIFY.
        await eventually(lambda: _not(listening(pool)), what="the busy relay to stop listening")
        late = await place_order(pool, cache)
        await asyncio.sleep(0.3)
        assert received.empty()

        # The backlog handed over, it listens again; a new order wakes it at once.
        gate.open.set()
        everything = [*backlog, first, late]
        await eventually(lambda: relayed(pool, everything), what="the backlog relayed")
        await eventually(lambda: listening(pool), what="the relay to listen again")
        woken = await place_order(pool, cache)
        await asyncio.wait_for(received.get(), 5)
        await eventually(
            lambda: relayed(pool, [woken]), what="the NOTIFY to wake it", deadline_s=10
        )


async def _not(count: Awaitable[int]) -> bool:
    return await count == 0
