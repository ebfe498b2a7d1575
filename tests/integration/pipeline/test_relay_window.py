"""The relay's window against a real Temporal dev server: no more hand-offs in flight than
the window, which grows while Temporal keeps up and shrinks when it slows down or goes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from relay.outbox import Handoff, OutboxRelay
from service import pipeline
from service.settings import Settings
from store.cache import OrderCache
from store.outbox import OutboxRow
from tests.support.faults import tcp_proxy
from tests.support.orders import PlacedOrder, place_order
from tests.support.waiting import eventually
from workflows.names import workflow_id
from workflows.starter import TemporalHandoff


@dataclass
class Counted:
    """The real TemporalHandoff, counting the hand-offs in flight."""

    inner: Handoff
    now: int = 0
    most: int = 0
    seen: list[int] = field(default_factory=list)

    @property
    def errors(self) -> tuple[type[Exception], ...]:
        return self.inner.errors

    async def hand_over(self, row: OutboxRow) -> None:
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            await self.inner.hand_over(row)
        finally:
            self.now -= 1


def relay_to(client: Client, settings: Settings, pool: asyncpg.Pool) -> tuple[OutboxRelay, Counted]:
    handoff = Counted(
        TemporalHandoff(
            client,
            task_queue=settings.temporal_task_queue,
            payment_timeout=settings.payment_timeout,
            timeout=5.0,
            processing_timeout=settings.processing_timeout,
        )
    )
    config = pipeline.relay_config(
        settings,
        batch_size=16,
        min_batch_size=2,
        latency_tolerance=2.0,
        # Above a start's usual latency through the proxy, even on a loaded machine (a
        # lower target let jitter halve the window while the test waited for it to grow),
        # and below the 0.3 s the slowed proxy adds to every answer.
        latency_target_seconds=0.2,
    )
    return OutboxRelay(pool, handoff, config), handoff


async def batches_until(
    relay: OutboxRelay, done: Callable[[], Awaitable[bool]], *, what: str, deadline_s: float = 30
) -> list[int]:
    """Run batches until `done`; the window before each."""
    windows: list[int] = []

    async def probe() -> bool:
        windows.append(relay.window)
        await relay.relay_once()
        return await done()

    await eventually(probe, what=what, deadline_s=deadline_s, every_s=0)
    return windows


def all_relayed(pool: asyncpg.Pool, placed: list[PlacedOrder]) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        unrelayed = await pool.fetchval(
            "SELECT count(*) FROM outbox WHERE relayed_at IS NULL AND aggregate_id = ANY($1)",
            [p.id for p in placed],
        )
        return bool(unrelayed == 0)

    return check


async def test_a_backlog_goes_over_within_the_window_which_grows_while_temporal_keeps_up(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, cache: OrderCache, settings: Settings
) -> None:
    placed = [await place_order(pool, cache) for _ in range(40)]
    relay, handoff = relay_to(temporal_env.client, settings, pool)

    windows = await batches_until(relay, all_relayed(pool, placed), what="the backlog relayed")

    assert windows[0] == 2  # it starts small
    assert max(windows) > 2  # and grows while Temporal answers quickly
    assert handoff.most <= 16  # never more in flight than the window's maximum
    assert handoff.most <= max(windows)
    for order in placed[:3]:
        await temporal_env.client.get_workflow_handle(workflow_id(order.id)).describe()


@pytest.mark.timeout(120)
async def test_the_window_halves_when_temporal_slows_and_restarts_small_when_it_goes(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, cache: OrderCache, settings: Settings
) -> None:
    host, port = temporal_env.client.service_client.config.target_host.rsplit(":", 1)
    with tcp_proxy(host, int(port)) as proxy:
        client = await Client.connect(proxy.address, namespace=temporal_env.client.namespace)
        relay, _ = relay_to(client, settings, pool)
        first = [await place_order(pool, cache) for _ in range(40)]
        await batches_until(relay, all_relayed(pool, first), what="the first backlog relayed")
        grown = relay.window
        assert grown >= 4  # grown from 2 (how far depends on the machine's load)

        proxy.slow(0.3)  # every answer late: the batch's median far above the baseline
        second = [await place_order(pool, cache) for _ in range(grown)]
        result = await relay.relay_once()
        assert not result.errors
        assert relay.window == max(2, grown // 2)

        proxy.slow(0)
        proxy.cut()  # Temporal away: hand-offs fail, the window starts over from the minimum
        third = [await place_order(pool, cache) for _ in range(4)]

        async def failed() -> bool:
            await relay.relay_once()
            return relay.window == 2

        await eventually(failed, what="a failed batch", deadline_s=30)
        proxy.restore()
        windows = await batches_until(
            relay, all_relayed(pool, second + third), what="the rest relayed", deadline_s=60
        )
        assert windows[0] == 2
