"""Replaying a running server's histories with the current code (the deploy check), as a
function and as `orders workflows replay`, against the dev server."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import asyncpg
from temporalio.client import Client, WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.testing import WorkflowEnvironment

from core.envelope import EventEnvelope
from service import pipeline
from service.settings import Settings
from store.cache import OrderCache
from tests.support.cli import orders_env, run_orders
from tests.support.order_workflow import worker
from tests.support.orders import place_order, relay_all
from tests.support.outbox import outbox_rows
from tests.support.publishers import RecordingPublisher
from tests.support.waiting import eventually
from workflows.names import ORDER_PHASE, ORDER_STATUS, OrderPhase
from workflows.order import OrderWorkflow
from workflows.replay import replay_histories
from workflows.replay_sample import Sampling
from workflows.types import OrderWorkflowInput

from .changed_workflow import ChangedWithoutAPatch


async def published(pool: asyncpg.Pool, order_id: uuid.UUID) -> bool:
    return (await outbox_rows(pool, order_id))[0].published


async def test_the_servers_histories_replay_and_a_change_without_a_patch_is_caught(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, cache: OrderCache, settings: Settings
) -> None:
    client = temporal_env.client
    placed = [await place_order(pool, cache) for _ in range(2)]
    # Only these two: the relay may hand this task queue other tests' leftover rows too.
    query = " OR ".join(f"WorkflowId = 'order-{p.id}'" for p in placed)
    async with worker(temporal_env, settings, pool, cache, RecordingPublisher()):
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

    output = await _orders(client, settings, "workflows", "replay", "--query", query)
    assert "replayed 2 of 2 histories (at most 20 of each kind, 500 in all), 0 failed" in output


async def _start_unpolled(
    client: Client, task_queue: str, phase: str | None, status: str
) -> WorkflowHandle[Any, Any]:
    """An OrderWorkflow no worker ever runs (a task queue nobody polls), with the search
    attributes of a stratum: its history (started, a task scheduled) replays trivially."""
    order_id = str(uuid.uuid4())
    attributes = [SearchAttributePair(ORDER_STATUS, status)]
    if phase is not None:
        attributes.append(SearchAttributePair(ORDER_PHASE, phase))
    event = EventEnvelope(str(uuid.uuid4()), "new_order", order_id, datetime.now(UTC), "{}")
    arg = OrderWorkflowInput(event, 1, 60.0)
    return await client.start_workflow(
        OrderWorkflow.run,
        arg,
        id=f"order-{order_id}",
        task_queue=task_queue,
        search_attributes=TypedSearchAttributes(attributes),
    )


async def test_the_check_replays_a_bounded_sample_of_every_kind(
    temporal_env: WorkflowEnvironment, settings: Settings
) -> None:
    """On a namespace of any size the check ends: at most --sample runs of each kind
    (workflow type, execution status, OrderPhase, OrderStatus), --limit in all, shared
    round-robin so that every kind is replayed; --since leaves older runs out."""
    client = temporal_env.client
    queue = settings.temporal_task_queue
    kinds = [(None, "PENDING"), (OrderPhase.STUCK.value, "PAID"), (None, "PAID")]
    handles = [await _start_unpolled(client, queue, *kind) for kind in kinds for _ in range(4)]
    for handle in handles[8:]:  # the third kind closed: the same attributes, another status
        await handle.terminate("a closed run")
    query = f"TaskQueue = '{queue}'"

    async def listed() -> bool:
        running = f"{query} AND ExecutionStatus = 'Running'"
        return (await client.count_workflows(query)).count == 12 and (
            await client.count_workflows(running)
        ).count == 8

    await eventually(listed, what="the runs and their states in visibility")

    report = await replay_histories(client, query=query, sampling=Sampling(per_stratum=2, limit=5))
    assert (report.replayed, report.failures, report.matching) == (5, {}, 12)
    assert report.strata == {
        "OrderWorkflow Running phase=- status=PENDING": 2,
        "OrderWorkflow Running phase=stuck status=PAID": 2,
        "OrderWorkflow Terminated phase=- status=PAID": 1,
    }

    everything = await replay_histories(client, query=query, sampling=Sampling(per_stratum=100))
    assert (everything.replayed, everything.failures) == (12, {})

    later = datetime.now(UTC) + timedelta(hours=1)
    none = await replay_histories(client, query=query, sampling=Sampling(since=later))
    assert (none.replayed, none.matching) == (0, 0)

    output = await _orders(
        client, settings, "workflows", "replay", "--query", query, "--sample", "1", "--json"
    )
    data = json.loads(output)
    assert (data["replayed"], data["matching"], data["failures"]) == (3, 12, {})
    text = await _orders(
        client, settings, "workflows", "replay", "--query", query, "--limit", "2", "--since", "1h"
    )
    assert "replayed 2 of 12 histories (at most 20 of each kind, 2 in all), 0 failed" in text


async def test_a_query_temporal_refuses_is_one_line(
    temporal_env: WorkflowEnvironment, settings: Settings
) -> None:
    code, _, errors = await _run(
        temporal_env.client, settings, "workflows", "replay", "--query", "NoSuchThing = 'x'"
    )
    assert code == 1
    assert errors.startswith("orders workflows replay: Temporal refused it (INVALID_ARGUMENT)")
    assert "Traceback" not in errors


async def _orders(client: Client, settings: Settings, *argv: str) -> str:
    code, output, errors = await _run(client, settings, *argv)
    assert code == 0, errors
    return output


async def _run(client: Client, settings: Settings, *argv: str) -> tuple[int | None, str, str]:
    env = orders_env(settings, client.service_client.config.target_host)
    return await run_orders(env, *argv)
