"""An operator's view of the order workflows, against the dev server: the orders stuck for
processing (`orders workflows stuck`, the `orders_workflows_by_phase` gauge), a retry
(`orders workflows retry`), and the versions (`orders workflows versions`, `promote`)."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from functools import partial
from typing import Any

import asyncpg
import orjson
from prometheus_client import REGISTRY
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.testing import WorkflowEnvironment

from service import pipeline
from service.settings import Settings
from store.cache import OrderCache
from tests.support.cli import orders_env, run_orders
from tests.support.order_workflow import order_activities
from tests.support.orders import place_order, relay_all
from tests.support.publishers import RecordingPublisher
from tests.support.versioned_worker import current, versioned_runner
from tests.support.waiting import eventually
from workflows import versions
from workflows.names import ORDER_PHASE, OrderPhase, workflow_id
from workflows.policies import PROCESSING_CHECKS
from workflows.stuck import PhaseMonitor, count_by_phase


async def orders(settings: Settings, env: WorkflowEnvironment, *args: str) -> Any:
    """`orders workflows ... --json`, as an operator runs it; its parsed output."""
    address = env.client.service_client.config.target_host
    environment = orders_env(settings, address) | {
        "TEMPORAL_TASK_QUEUE": settings.temporal_task_queue
    }
    code, out, err = await run_orders(environment, "workflows", *args, "--json")
    assert code == 0, err
    return orjson.loads(out)


async def test_a_stuck_order_is_listed_counted_and_retried(
    temporal_env: WorkflowEnvironment, settings: Settings, pool: asyncpg.Pool, cache: OrderCache
) -> None:
    client = temporal_env.client
    fast = settings.model_copy(update={"processing_timeout": timedelta(milliseconds=50)})
    publisher = RecordingPublisher()
    async with versioned_runner(
        temporal_env, fast, order_activities(pool, cache, publisher), versions.default_build_id()
    ) as runner:
        await eventually(partial(current, runner), what="the worker's version to be current")
        relay = pipeline.relay(pool, client, fast, lambda: runner.client)
        placed = await place_order(pool, cache)
        await relay_all(relay, pool, placed)
        handle = client.get_workflow_handle(workflow_id(placed.id))

        async def phase() -> str | None:
            return (await handle.describe()).typed_search_attributes.get(ORDER_PHASE)

        async def stuck() -> bool:
            return await phase() == OrderPhase.STUCK

        await eventually(stuck, what="the order stuck", deadline_s=60)
        # What the Temporal UI shows on the order's page (its "Current Details").
        metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
        # The commands that only read, at once (each is a process of its own, about a second).
        listed, old_ones, version_report, replayed = await asyncio.gather(
            orders(fast, temporal_env, "stuck"),
            orders(fast, temporal_env, "stuck", "--older-than", "1h"),
            orders(fast, temporal_env, "versions"),
            orders(fast, temporal_env, "replay"),  # this version's histories
        )
        counts = await count_by_phase(client)
        monitor = asyncio.create_task(PhaseMonitor(client).run())
        stuck_gauge = partial(
            REGISTRY.get_sample_value, "orders_workflows_by_phase", {"phase": "stuck"}
        )
        try:
            await eventually(lambda: (stuck_gauge() or 0) >= 1, what="the gauge")
        finally:
            monitor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await monitor
        promoted = await orders(fast, temporal_env, "promote")

        retried = await orders(fast, temporal_env, "retry", str(placed.id))
        await eventually(
            lambda: publisher.event_ids().count(str(placed.event_id)) > 1 + PROCESSING_CHECKS,
            what="the retry's republish",
        )
        await handle.terminate("test done")

    details = metadata.current_details
    assert "PENDING, not processed yet" in details
    assert f"republished {PROCESSING_CHECKS}x" in details
    assert "phase stuck" in details
    mine = [o for o in listed if o["order_id"] == str(placed.id)]
    assert len(mine) == 1
    assert mine[0]["phase"] == "stuck"
    assert mine[0]["republishes"] == PROCESSING_CHECKS
    assert 0 < mine[0]["age_seconds"] < 600
    assert str(placed.id) not in [o["order_id"] for o in old_ones]
    assert counts["stuck"] >= 1
    assert retried == [workflow_id(placed.id)]
    build_id = versions.default_build_id()
    assert version_report["current"] == build_id
    assert version_report["open_orders"][build_id] == 1
    assert version_report["open_orders"][versions.UNVERSIONED] == 0
    assert (replayed["replayed"], replayed["matching"], replayed["failures"]) == (1, 1, {})
    assert replayed["strata"] == {"OrderWorkflow Running phase=stuck status=PENDING": 1}
    assert promoted == {
        "deployment": runner.version()["deployment"],
        "build_id": build_id,
        "woken": 0,
    }
