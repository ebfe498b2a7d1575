"""The first attempt at publishing an event (`new_order`, and a status event since the
`local-status-publish` patch) runs as a local activity, inside the workflow task: when
RabbitMQ answers, the history holds no activity task for it; when that one attempt
fails, the regular activity takes over (retrying forever). Either way the timeline shows
the publish once."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent, MarkerRecordedEventAttributes
from temporalio.testing import WorkflowEnvironment

from activities.names import ACTIVITY_PUBLISH_EVENT
from core.events import StatusChangedEvent
from core.lifecycle import OrderStatus
from service.settings import Settings
from store.cache import OrderCache
from tests.support.events import envelope
from tests.support.order_workflow import start, worker
from tests.support.orders import place_order
from tests.support.outbox import outbox_rows
from tests.support.publishers import RecordingPublisher
from tests.support.waiting import eventually
from workflows.history import WorkflowTimeline
from workflows.order import OrderWorkflow
from workflows.timeline import LOCAL_ACTIVITY_MARKER


def scheduled_publishes(events: list[HistoryEvent]) -> int:
    return sum(
        1
        for e in events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and e.activity_task_scheduled_event_attributes.activity_type.name == ACTIVITY_PUBLISH_EVENT
    )


def local_activities(events: list[HistoryEvent]) -> list[MarkerRecordedEventAttributes]:
    return [
        e.marker_recorded_event_attributes
        for e in events
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
        and e.marker_recorded_event_attributes.marker_name == LOCAL_ACTIVITY_MARKER
    ]


async def test_the_first_publish_schedules_no_activity_task(
    time_skipping_env: WorkflowEnvironment,
    settings: Settings,
    pool: asyncpg.Pool,
    cache: OrderCache,
) -> None:
    env = time_skipping_env
    placed = await place_order(pool, cache, relayed=True)
    publisher = RecordingPublisher()
    async with worker(env, settings, pool, cache, publisher):
        handle = await start(env, settings, placed)

        async def recorded() -> list[HistoryEvent] | None:
            events = list((await handle.fetch_history()).events)
            return events if local_activities(events) else None

        events = await eventually(recorded, what="the local publish in the history")
        timeline = await WorkflowTimeline(env.client).timeline(placed.id)
        await handle.terminate("test done")

    assert publisher.event_ids() == [str(placed.event_id)]
    assert scheduled_publishes(events) == 0
    [marker] = local_activities(events)
    assert "result" in marker.details
    assert not marker.HasField("failure")
    assert (await outbox_rows(pool, placed.id))[0].published
    published = [e.details for e in timeline if e.kind == "published"]
    assert published == [{"event_id": str(placed.event_id), "event_type": "new_order"}]


async def test_a_failed_first_publish_falls_back_to_the_regular_activity(
    time_skipping_env: WorkflowEnvironment,
    settings: Settings,
    pool: asyncpg.Pool,
    cache: OrderCache,
) -> None:
    env = time_skipping_env
    placed = await place_order(pool, cache, relayed=True)
    publisher = RecordingPublisher(fail_first=1)  # the local attempt meets a broker down
    async with worker(env, settings, pool, cache, publisher):
        handle = await start(env, settings, placed)

        async def completed() -> list[HistoryEvent] | None:
            events = list((await handle.fetch_history()).events)
            done = [
                e for e in events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
            ]
            return events if done else None

        events = await eventually(completed, what="the regular publish activity to complete")
        timeline = await WorkflowTimeline(env.client).timeline(placed.id)
        await handle.terminate("test done")

    assert publisher.calls == 2
    assert publisher.event_ids() == [str(placed.event_id)]
    [marker] = local_activities(events)
    assert marker.HasField("failure")
    assert "result" not in marker.details
    assert scheduled_publishes(events) == 1
    assert (await outbox_rows(pool, placed.id))[0].published
    published = [e.details for e in timeline if e.kind == "published"]
    assert published == [{"event_id": str(placed.event_id), "event_type": "new_order"}]


async def test_a_status_event_is_published_locally_too(
    time_skipping_env: WorkflowEnvironment,
    settings: Settings,
    pool: asyncpg.Pool,
    cache: OrderCache,
) -> None:
    """The status signal's workflow task publishes it: no activity task, no second
    workflow task for the activity's completion."""
    env = time_skipping_env
    placed = await place_order(pool, cache, relayed=True)
    publisher = RecordingPublisher()
    paid = envelope(
        StatusChangedEvent(
            placed.order.user_id, OrderStatus.PENDING, OrderStatus.PAID, datetime.now(UTC)
        ),
        order_id=placed.id,
    )
    async with worker(env, settings, pool, cache, publisher):
        handle = await start(env, settings, placed)
        await handle.signal(OrderWorkflow.status_changed, paid)

        async def recorded() -> list[HistoryEvent] | None:
            events = list((await handle.fetch_history()).events)
            return events if len(local_activities(events)) == 2 else None

        events = await eventually(recorded, what="both local publishes in the history")
        timeline = await WorkflowTimeline(env.client).timeline(placed.id)
        await handle.terminate("test done")

    assert publisher.event_ids() == [str(placed.event_id), paid.event_id]
    assert scheduled_publishes(events) == 0
    assert all(not marker.HasField("failure") for marker in local_activities(events))
    published = [e.details["event_type"] for e in timeline if e.kind == "published"]
    assert published == ["new_order", "order_status_changed"]
