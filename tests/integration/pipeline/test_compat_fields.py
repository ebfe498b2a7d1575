"""Version 5's fields beside v6's arguments (workflows/compat.py), sent only while a v5
reader may exist (workflows/compat_gate.py), against the dev server with versioned
workers: a v6-only deployment's orders carry v6's input and signals alone; while a run
pinned to v5 is open the relay sends v5's fields too, and stops once it has gone.

The "v5" worker here runs this code under build id v5 (v5's own code is not kept): what is
checked is what the relay sends to a run pinned to v5, which is what v5's code reads."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from functools import partial
from typing import Any

import asyncpg
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from core.envelope import EventEnvelope
from relay.outbox import OutboxRelay
from service import pipeline
from service.settings import Settings
from service.worker import build_worker
from store.cache import OrderCache
from tests.support.order_workflow import order_activities
from tests.support.orders import PlacedOrder, place_order, record_processed, relay_all
from tests.support.outbox import outbox_rows
from tests.support.publishers import RecordingPublisher
from tests.support.versioned_worker import current, versioned_runner
from tests.support.waiting import eventually
from workflows import versions
from workflows.compat_gate import CompatGate
from workflows.names import SIGNAL_PROCESSED, workflow_id
from workflows.types import OrderWorkflowInput

CURRENT = versions.default_build_id()
V5 = "v5"
# A new order's start input without v5's fields: 746 B for a typical order in
# docs/performance.md, 1,275 B with them (the payload twice).
SMALL_START = 1_000
V6_START_FIELDS = {f.name for f in dataclasses.fields(OrderWorkflowInput)}
V6_SIGNAL_FIELDS = {f.name for f in dataclasses.fields(EventEnvelope)}


def payload(event: HistoryEvent) -> tuple[dict[str, Any], int]:
    """The argument of a start or a signal as recorded: decoded, and its size in bytes."""
    if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        data = event.workflow_execution_started_event_attributes.input.payloads[0].data
    else:
        data = event.workflow_execution_signaled_event_attributes.input.payloads[0].data
    return json.loads(data), len(data)


async def history(client: Client, placed: PlacedOrder, run_id: str | None) -> list[HistoryEvent]:
    handle = client.get_workflow_handle(workflow_id(placed.id), run_id=run_id)
    return list((await handle.fetch_history()).events)


async def processed_signal(
    client: Client, placed: PlacedOrder, run_id: str | None
) -> HistoryEvent | None:
    for event in await history(client, placed, run_id):
        attributes = event.workflow_execution_signaled_event_attributes
        if attributes.signal_name == SIGNAL_PROCESSED:
            return event
    return None


async def processed(
    settings: Settings, relay: OutboxRelay, pool: asyncpg.Pool, placed: PlacedOrder
) -> None:
    await record_processed(settings.dsn, placed)
    await relay_all(relay, pool, placed)


async def published(pool: asyncpg.Pool, placed: PlacedOrder) -> bool:
    return (await outbox_rows(pool, placed.id))[0].published


async def no_v5_reader(gate: CompatGate) -> bool:
    return not await gate.check()


async def test_a_v6_only_deployment_sends_v6s_arguments_alone(
    temporal_env: WorkflowEnvironment, settings: Settings, pool: asyncpg.Pool, cache: OrderCache
) -> None:
    client = temporal_env.client
    acts = order_activities(pool, cache, RecordingPublisher())
    gate = pipeline.compat_gate(client, settings)
    assert gate.needed()  # not known before its first check
    async with versioned_runner(temporal_env, settings, acts, CURRENT) as runner:
        await eventually(partial(current, runner), what="the worker's version to be current")
        await eventually(partial(no_v5_reader, gate), what="the gate to see v6 alone")
        relay = pipeline.relay(pool, client, settings, lambda: runner.client, v5_fields=gate.needed)
        placed = await place_order(pool, cache)
        await relay_all(relay, pool, placed)
        await eventually(partial(published, pool, placed), what="new_order published")
        await processed(settings, relay, pool, placed)
        signal = await eventually(
            partial(processed_signal, client, placed, None), what="the processed signal"
        )
        events = await history(client, placed, None)
        await client.get_workflow_handle(workflow_id(placed.id)).terminate("test done")

    start, size = payload(events[0])
    assert set(start) == V6_START_FIELDS  # no event_json, order_id, created_at ...
    assert size < SMALL_START, size
    argument, _ = payload(signal)
    assert set(argument) == V6_SIGNAL_FIELDS  # no processed_at


async def test_while_a_run_pinned_to_v5_is_open_v5s_fields_are_sent_too(
    temporal_env: WorkflowEnvironment, settings: Settings, pool: asyncpg.Pool, cache: OrderCache
) -> None:
    """v5 current: a start carries v5's fields; v6 current with a v5 run open (not woken):
    a signal to it carries them; once it has gone, neither does a new order's start."""
    client = temporal_env.client
    acts = order_activities(pool, cache, RecordingPublisher())
    queue = settings.temporal_task_queue
    ours = versions.Deployment(queue, CURRENT)
    gate = pipeline.compat_gate(client, settings)
    relay = pipeline.relay(pool, client, settings, v5_fields=gate.needed)
    async with versioned_runner(temporal_env, settings, acts, V5) as v5:
        await eventually(partial(current, v5), what="v5 to be current")
        assert await gate.check()  # v5 current: v5 may read
        old = await place_order(pool, cache)
        await relay_all(relay, pool, old)
        old_run = (await client.get_workflow_handle(workflow_id(old.id)).describe()).run_id
        await eventually(partial(published, pool, old), what="new_order published on v5")
        async with build_worker(client, queue, acts, sandboxed=True, deployment=ours):
            async with asyncio.timeout(60):
                await versions.promote(client, ours)  # no wake-up: the v5 run stays
            assert await gate.check()  # v6 current, the v5 run open
            await processed(settings, relay, pool, old)
            signal = await eventually(
                partial(processed_signal, client, old, old_run), what="processed on v5's run"
            )
            await client.get_workflow_handle(workflow_id(old.id)).terminate("test done")
            await eventually(partial(no_v5_reader, gate), what="the gate to see v5 gone")
            new = await place_order(pool, cache)
            await relay_all(relay, pool, new)
            new_events = await history(client, new, None)
            await client.get_workflow_handle(workflow_id(new.id)).terminate("test done")

    old_start, old_size = payload((await history(client, old, old_run))[0])
    assert {"order_id", "event_json", "created_at"} <= set(old_start)  # v5's, beside v6's
    assert set(old_start) >= V6_START_FIELDS
    argument, _ = payload(signal)
    assert "processed_at" in argument
    assert set(argument) >= V6_SIGNAL_FIELDS
    new_start, new_size = payload(new_events[0])
    assert set(new_start) == V6_START_FIELDS
    assert new_size < old_size - 300, (new_size, old_size)  # the payload sent once
