"""Replaying a running server's histories with the current code (the deploy check), as a
function and as `orders workflows replay`, against the dev server."""

from __future__ import annotations

import asyncio
import sys
import uuid
from functools import partial
from pathlib import Path

import asyncpg
from temporalio.testing import WorkflowEnvironment

from activities.order import OrderActivities
from service import pipeline
from service.settings import Settings
from service.worker import build_worker
from store.cache import OrderCache
from tests.support.waiting import eventually
from usecases.orders import Orders
from usecases.outbox import Outbox
from workflows.replay import replay_histories

from .changed_workflow import ChangedWithoutAPatch
from .orders import RecordingPublisher, outbox_rows, place_order, relay_all


async def published(pool: asyncpg.Pool, order_id: uuid.UUID) -> bool:
    return (await outbox_rows(pool, order_id))[0].published


async def test_the_servers_histories_replay_and_a_change_without_a_patch_is_caught(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, cache: OrderCache, settings: Settings
) -> None:
    client = temporal_env.client
    probe = pipeline.ProcessingProbe(pool, ())
    activities = OrderActivities(Orders(pool, cache), Outbox(pool), RecordingPublisher(), probe)
    placed = [await place_order(pool, cache) for _ in range(2)]
    # Only these two: the relay may hand this task queue other tests' leftover rows too.
    query = " OR ".join(f"WorkflowId = 'order-{p.id}'" for p in placed)
    async with build_worker(client, settings.temporal_task_queue, activities, sandboxed=True):
        relay = pipeline.relay(pool, client, settings)
        for order in placed:
            await relay_all(relay, pool, order)
            await eventually(partial(published, pool, order.id), what="new_order published")

    async def listed() -> bool:
        return len([w async for w in client.list_workflows(query)]) == 2

    await eventually(listed, what="both workflows in the visibility store")

    report = await replay_histories(client, query=query)
    assert (report.replayed, report.failures) == (2, {})

    changed = await replay_histories(client, query=query, workflows=[ChangedWithoutAPatch])
    assert changed.replayed == 2
    assert len(changed.failures) == 2
    assert all("Nondeterminism" in e or "nondeterminism" in e for e in changed.failures.values())

    env = {
        "PATH": str(Path(sys.executable).parent),
        "SECRET_KEY": settings.secret_key.get_secret_value(),
        "RABBITMQ_PASSWORD": "guest",
        "TEMPORAL_ADDRESS": client.service_client.config.target_host,
    }
    proc = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "orders"),
        "workflows",
        "replay",
        "--query",
        query,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=Path(__file__).parent,  # no .env here
    )
    output, _ = await proc.communicate()
    assert proc.returncode == 0, output.decode()
    assert "replayed 2 histories, 0 failed" in output.decode()
