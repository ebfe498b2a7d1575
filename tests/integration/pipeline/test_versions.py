"""Worker versioning against the dev server, as production runs it: each run pinned to the
version that began it, eager starts through a versioned worker, a deploy of a new version
with orders in flight, and the unversioned (v1-v4) runs the first versioned build inherits.

No test here may see a failed workflow task: a task given to a worker that cannot replay
it would fail with a non-determinism error, a WorkflowTaskFailed event in its history.
"""

from __future__ import annotations

import asyncio
from functools import partial

import asyncpg
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.testing import WorkflowEnvironment

from core.events import NewOrderEvent, encode_event
from core.lifecycle import OrderStatus
from relay.outbox import OutboxRelay
from service import pipeline
from service.settings import Settings
from service.worker import build_worker
from store.cache import OrderCache
from tests.support.order_workflow import order_activities
from tests.support.orders import (
    PlacedOrder,
    change_status,
    place_order,
    record_processed,
    relay_all,
)
from tests.support.outbox import outbox_rows
from tests.support.publishers import RecordingPublisher
from tests.support.versioned_worker import current, versioned_runner
from tests.support.waiting import eventually
from workflows import versions
from workflows.history import WorkflowTimeline
from workflows.names import CUSTOMER_ID, ORDER_STATUS, WORKFLOW_NAME, workflow_id
from workflows.publish import PublishEventWorkflow

from .next_version import NextOrderWorkflow

# Start to `processed` for a new order, what each event is there for:
NEW_ORDER_TO_PROCESSED = [
    "WORKFLOW_EXECUTION_STARTED",  # the relay's eager start
    "WORKFLOW_TASK_SCHEDULED",
    "WORKFLOW_TASK_STARTED",  # handed to the worker in the start's answer
    "WORKFLOW_TASK_COMPLETED",
    "MARKER_RECORDED",  # new_order published, by a local activity inside that task
    "TIMER_STARTED",  # the one timer: the processing deadline, the nearest one
    "WORKFLOW_EXECUTION_SIGNALED",  # processed
    "WORKFLOW_TASK_SCHEDULED",
    "WORKFLOW_TASK_STARTED",
    "WORKFLOW_TASK_COMPLETED",  # no command: the timer stays, to fire early (v5 cancelled it
    # and set one for the payment timeout: 12 events)
]
EVENTS_TO_PROCESSED = 10
CURRENT = versions.default_build_id()


async def processed(
    settings: Settings, relay: OutboxRelay, pool: asyncpg.Pool, placed: PlacedOrder
) -> None:
    """process_order's effect, as the Celery task records it, relayed to the workflow."""
    await record_processed(settings.dsn, placed)
    await relay_all(relay, pool, placed)


async def change(
    relay: OutboxRelay, pool: asyncpg.Pool, cache: OrderCache, placed: PlacedOrder, new: OrderStatus
) -> None:
    await change_status(pool, cache, placed, new)
    await relay_all(relay, pool, placed)


async def runs(client: Client, placed: PlacedOrder) -> list[list[HistoryEvent]]:
    """Every run of the order's workflow, oldest first, each as its events."""
    found: list[list[HistoryEvent]] = []
    run_id = None
    while True:
        handle = client.get_workflow_handle(workflow_id(placed.id), run_id=run_id)
        events = list((await handle.fetch_history()).events)
        found.insert(0, events)
        run_id = events[0].workflow_execution_started_event_attributes.continued_execution_run_id
        if not run_id:
            return found


def builds(events: list[HistoryEvent]) -> set[str]:
    """The build ids of the workers that completed the run's workflow tasks."""
    return {
        e.workflow_task_completed_event_attributes.deployment_version.build_id
        for e in events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    }


def failed_tasks(events: list[HistoryEvent]) -> list[HistoryEvent]:
    return [e for e in events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED]


async def status_of(client: Client, placed: PlacedOrder) -> WorkflowExecutionStatus | None:
    return (await client.get_workflow_handle(workflow_id(placed.id)).describe()).status


async def test_a_new_order_starts_eagerly_on_the_current_version_and_writes_10_events_to_processed(
    temporal_env: WorkflowEnvironment, settings: Settings, pool: asyncpg.Pool, cache: OrderCache
) -> None:
    client = temporal_env.client
    acts = order_activities(pool, cache, RecordingPublisher())
    async with versioned_runner(temporal_env, settings, acts, CURRENT) as runner:
        await eventually(partial(current, runner), what="the worker's version to be current")
        relay = pipeline.relay(pool, client, settings, lambda: runner.client)
        placed = await place_order(pool, cache)
        await relay_all(relay, pool, placed)
        await eventually(partial(_published, pool, placed), what="new_order published")
        await processed(settings, relay, pool, placed)

        async def history() -> list[HistoryEvent] | None:
            events = (await runs(client, placed))[-1]
            return events if len(events) >= len(NEW_ORDER_TO_PROCESSED) else None

        events = await eventually(history, what="the processed signal's workflow task")
        await client.get_workflow_handle(workflow_id(placed.id)).terminate("test done")

    names = [EventType.Name(e.event_type).removeprefix("EVENT_TYPE_") for e in events]
    assert names == NEW_ORDER_TO_PROCESSED
    assert len(names) <= EVENTS_TO_PROCESSED
    assert events[0].workflow_execution_started_event_attributes.eager_execution_accepted
    assert builds(events) == {CURRENT}
    description = await client.get_workflow_handle(workflow_id(placed.id)).describe()
    attribute = description.raw_description.workflow_execution_info.search_attributes
    assert versions.VERSION_ATTRIBUTE in attribute.indexed_fields


async def _published(pool: asyncpg.Pool, placed: PlacedOrder) -> bool:
    return (await outbox_rows(pool, placed.id))[0].published


async def test_a_deploy_with_orders_in_flight_fails_no_workflow_task(
    temporal_env: WorkflowEnvironment, settings: Settings, pool: asyncpg.Pool, cache: OrderCache
) -> None:
    """The old version runs orders at every stage; the new one (whose code no old history
    replays) comes up beside it and becomes current; each old run moves to it by
    continuing as new, and no task of an old run ever reaches the new workers."""
    client = temporal_env.client
    publisher = RecordingPublisher()
    acts = order_activities(pool, cache, publisher)
    queue = settings.temporal_task_queue
    new = versions.Deployment(queue, "next")
    async with versioned_runner(temporal_env, settings, acts, CURRENT) as old:
        await eventually(partial(current, old), what="the old version to be current")
        relay = pipeline.relay(pool, client, settings, lambda: old.client)
        pending, waiting, paid = [await place_order(pool, cache) for _ in range(3)]
        for placed in (pending, waiting, paid):
            await relay_all(relay, pool, placed)
            await eventually(partial(_published, pool, placed), what="new_order published")
        await processed(settings, relay, pool, pending)  # processed, waits for payment
        await change(relay, pool, cache, paid, OrderStatus.PAID)
        await processed(settings, relay, pool, paid)  # paid and processed, waits to ship
        # `waiting` waits for processing, its deadline's timer running.

        next_workflows = [NextOrderWorkflow, PublishEventWorkflow]
        async with build_worker(
            client, queue, acts, sandboxed=True, deployment=new, workflows=next_workflows
        ):
            late = await place_order(pool, cache)  # started while the new version deploys
            await relay_all(relay, pool, late)
            async with asyncio.timeout(60):
                await versions.promote(client, new)
            assert await versions.wake_others(client, new) >= 3

            async def moved(placed: PlacedOrder) -> bool:
                return builds((await runs(client, placed))[-1]) == {"next"}

            for placed in (pending, waiting, paid, late):
                await eventually(partial(moved, placed), what=f"order {placed.id} to move")
            # The old process's relay, once its worker saw the promotion, starts no more
            # workflows eagerly through it: a new order begins on the new version.
            await eventually(lambda: old.client is None, what="the old worker to see it")
            after = await place_order(pool, cache)
            await relay_all(relay, pool, after)

            # Their lives go on, on the new version.
            for placed in (pending, waiting, late, after):
                await processed(settings, relay, pool, placed)
                await change(relay, pool, cache, placed, OrderStatus.CANCELED)
            await change(relay, pool, cache, paid, OrderStatus.SHIPPED)
            everyone = (pending, waiting, paid, late, after)
            for placed in everyone:
                await eventually(partial(_complete, client, placed), what=f"{placed.id} complete")
            counts = await versions.open_by_version(client, new)

    for placed in everyone:
        order_runs = await runs(client, placed)
        for events in order_runs:
            names = [EventType.Name(e.event_type).removeprefix("EVENT_TYPE_") for e in events]
            assert failed_tasks(events) == [], f"order {placed.id}: {names}"
        assert builds(order_runs[-1]) == {"next"}
        assert all(builds(events) == {CURRENT} for events in order_runs[:-1])
        timeline = await WorkflowTimeline(client).timeline(placed.id)
        kinds = [entry.kind.value for entry in timeline]
        assert kinds.count("created") == 1
        assert kinds.count("processed") == 1
        assert kinds[-1] == "completed"
        new_order = [e for e in timeline if e.details.get("event_type") == "new_order"]
        assert len(new_order) == 1  # published once, whichever run did it
        description = await client.get_workflow_handle(workflow_id(placed.id)).describe()
        attributes = description.typed_search_attributes
        assert attributes.get(CUSTOMER_ID) == placed.order.user_id  # carried over
        assert attributes.get(ORDER_STATUS) == ("SHIPPED" if placed is paid else "CANCELED")
    assert counts.get(CURRENT) == 0  # the old version's workers may stop
    assert len(await runs(client, after)) == 1  # begun on the new version
    assert publisher.event_ids().count(str(waiting.event_id)) == 1


async def _complete(client: Client, placed: PlacedOrder) -> bool:
    return await status_of(client, placed) == WorkflowExecutionStatus.COMPLETED


async def test_the_runs_of_unversioned_workers_move_to_the_first_versioned_one(
    temporal_env: WorkflowEnvironment, settings: Settings, pool: asyncpg.Pool, cache: OrderCache
) -> None:
    """Runs begun by version 1-4 code on unversioned workers (the legacy input) are
    inherited by the first versioned build, replayed through the code they began with,
    and continued as new version-5 runs at their first task there."""
    client = temporal_env.client
    publisher = RecordingPublisher()
    acts = order_activities(pool, cache, publisher)
    queue = settings.temporal_task_queue
    unversioned = build_worker(client, queue, acts, sandboxed=True)
    legacy = [await place_order(pool, cache, relayed=True) for _ in range(2)]
    async with unversioned:
        for placed in legacy:
            await _start_as_v4(client, settings, placed)
            await eventually(partial(_published, pool, placed), what="new_order published")
    deployment = versions.Deployment(queue, CURRENT)
    relay = pipeline.relay(pool, client, settings)
    async with versioned_runner(temporal_env, settings, acts, CURRENT) as runner:
        await eventually(partial(current, runner), what="v5 to be current")

        async def moved(placed: PlacedOrder) -> bool:
            return len(await runs(client, placed)) == 2

        for placed in legacy:  # the runner woke them when it promoted itself
            await eventually(partial(moved, placed), what=f"order {placed.id} to move")
        counts = await versions.open_by_version(client, deployment)
        for placed in legacy:
            await processed(settings, relay, pool, placed)
            await change(relay, pool, cache, placed, OrderStatus.CANCELED)
            await eventually(partial(_complete, client, placed), what=f"{placed.id} complete")

    assert counts[versions.UNVERSIONED] == 0
    for placed in legacy:
        first, second = await runs(client, placed)
        assert failed_tasks(first) == failed_tasks(second) == []
        markers = [e for e in first if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED]
        patches = [
            m for m in markers if m.marker_recorded_event_attributes.marker_name == "core_patch"
        ]
        assert patches, "the v1-v4 code ran it first, with its patches"
        assert builds(second) == {CURRENT}
        assert not [
            m for m in second if m.marker_recorded_event_attributes.marker_name == "core_patch"
        ]
        kinds = [e.kind.value for e in await WorkflowTimeline(client).timeline(placed.id)]
        description = await client.get_workflow_handle(workflow_id(placed.id)).describe()
        assert description.typed_search_attributes.get(CUSTOMER_ID) == placed.order.user_id
        assert kinds.count("created") == 1
        assert kinds[-1] == "completed"
    assert publisher.event_ids().count(str(legacy[0].event_id)) == 1


async def _start_as_v4(client: Client, settings: Settings, placed: PlacedOrder) -> None:
    """A run as the v1-v4 starter began it: an input without the v5 revision."""
    event = NewOrderEvent.for_order(placed.order)
    order = {  # v1-v4's OrderWorkflowInput: the event's fields, no revision
        "order_id": str(placed.id),
        "user_id": placed.order.user_id,
        "event_id": str(placed.event_id),
        "event_json": encode_event(placed.event_id, placed.id, event).decode(),
        "created_at": placed.order.created_at.isoformat(),
        "payment_timeout_seconds": settings.payment_timeout.total_seconds(),
        "processing_timeout_seconds": settings.processing_timeout.total_seconds(),
    }
    await client.start_workflow(
        WORKFLOW_NAME,
        order,
        id=workflow_id(placed.id),
        task_queue=settings.temporal_task_queue,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(CUSTOMER_ID, placed.order.user_id),
                SearchAttributePair(ORDER_STATUS, "PENDING"),
            ]
        ),
    )
