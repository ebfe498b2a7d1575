"""OrderWorkflow on the time-skipping server, with its real activities on real PostgreSQL.

The relay (real, pointed at the test server) carries each outbox row back to the
workflow, as in production; only the payment timeout's hours are skipped.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import aio_pika
import asyncpg
import orjson
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowFailureError, WorkflowHandle
from temporalio.converter import DataConverter
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.names import ACTIVITY_EXPIRE_ORDER
from activities.types import ExpireResult
from core.events import NEW_ORDER, ORDER_PROCESSED, STATUS_CHANGED, NewOrderEvent, event_dict
from core.lifecycle import OrderStatus
from messaging.publisher import Publisher
from messaging.topology import Topology
from service import pipeline
from service.settings import Settings
from store import orders
from store.cache import OrderCache
from tests.support.faults import tcp_proxy
from tests.support.order_workflow import PAYMENT_TIMEOUT, start, worker
from tests.support.orders import (
    PlacedOrder,
    change_status,
    place_order,
    record_processed,
    relay_all,
)
from tests.support.outbox import outbox_rows
from tests.support.publishers import RecordingPublisher
from tests.support.settings import RABBITMQ_URL
from tests.support.waiting import eventually
from workflows.history import WorkflowTimeline
from workflows.names import ORDER_STATUS
from workflows.order import OrderWorkflow
from workflows.types import LifecycleView


async def status_of(pool: asyncpg.Pool, placed: PlacedOrder) -> OrderStatus:
    order = await orders.get_order(pool, order_id=placed.id)
    assert order is not None
    return order.status


async def expire_results(handle: WorkflowHandle[OrderWorkflow, LifecycleView]) -> list[bool]:
    """The `canceled` result of every expire_order that completed, as a local activity (its
    marker) or a regular one, from the history."""
    history = await handle.fetch_history()
    convert = DataConverter.default.payload_converter
    names = {
        e.event_id: e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    }
    results = []
    for e in history.events:
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            details = e.marker_recorded_event_attributes.details
            data = convert.from_payloads(details["data"].payloads, [dict])[0]
            if data["activity_type"] == ACTIVITY_EXPIRE_ORDER and "result" in details:
                results.append(convert.from_payloads(details["result"].payloads, [ExpireResult])[0])
        elif e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            done = e.activity_task_completed_event_attributes
            if names[done.scheduled_event_id] == ACTIVITY_EXPIRE_ORDER:
                results.append(convert.from_payloads(done.result.payloads, [ExpireResult])[0])
    return [r.canceled for r in results]


async def test_payment_timeout_cancels_a_pending_order(
    time_skipping_env: WorkflowEnvironment,
    settings: Settings,
    pool: asyncpg.Pool,
    cache: OrderCache,
) -> None:
    env = time_skipping_env
    placed = await place_order(pool, cache, relayed=True)
    publisher = RecordingPublisher()
    relay = pipeline.relay(pool, env.client, settings)
    async with worker(env, settings, pool, cache, publisher):
        handle = await start(env, settings, placed)
        await eventually(
            lambda: str(placed.event_id) in publisher.event_ids(), what="new_order published"
        )
        assert await status_of(pool, placed) is OrderStatus.PENDING

        await env.sleep(PAYMENT_TIMEOUT + timedelta(seconds=1))

        async def canceled() -> bool:
            return await status_of(pool, placed) is OrderStatus.CANCELED

        await eventually(canceled, what="the order to be canceled in PostgreSQL")
        rows = await outbox_rows(pool, placed.id)
        assert [r.event_type for r in rows] == [NEW_ORDER, STATUS_CHANGED]
        cancel = await pool.fetchrow(
            "SELECT id, payload FROM outbox WHERE aggregate_id = $1 AND event_type = $2",
            placed.id,
            STATUS_CHANGED,
        )
        assert cancel is not None
        assert (cancel["payload"]["old_status"], cancel["payload"]["new_status"]) == (
            "PENDING",
            "CANCELED",
        )
        assert await expire_results(handle) == [True]

        # The cancel comes back through the outbox like any change: published, then done.
        await relay_all(relay, pool, placed)
        async with asyncio.timeout(30):
            view = await handle.result()
    assert view.status == "CANCELED"
    assert not view.processed
    assert view.published_event_ids == (str(placed.event_id), str(cancel["id"]))
    assert [e.kind for e in view.timeline].count("expired") == 1
    assert all(r.published for r in await outbox_rows(pool, placed.id))


async def test_payment_timeout_spares_an_order_paid_meanwhile(
    time_skipping_env: WorkflowEnvironment,
    settings: Settings,
    pool: asyncpg.Pool,
    cache: OrderCache,
) -> None:
    """Paid in PostgreSQL, its signal not yet relayed when the timer fires: PAID wins."""
    env = time_skipping_env
    placed = await place_order(pool, cache, relayed=True)
    publisher = RecordingPublisher()
    relay = pipeline.relay(pool, env.client, settings)
    async with worker(env, settings, pool, cache, publisher):
        handle = await start(env, settings, placed)
        await eventually(lambda: bool(publisher.published), what="new_order published")
        await change_status(pool, cache, placed, OrderStatus.PAID)

        await env.sleep(PAYMENT_TIMEOUT + timedelta(seconds=1))

        async def expired() -> list[bool]:
            return await expire_results(handle)

        assert await eventually(expired, what="expire_order to complete") == [False]
        assert await status_of(pool, placed) is OrderStatus.PAID
        assert [r.event_type for r in await outbox_rows(pool, placed.id)] == [
            NEW_ORDER,
            STATUS_CHANGED,
        ]

        await relay_all(relay, pool, placed)

        async def paid() -> LifecycleView | None:
            view = await handle.query(OrderWorkflow.lifecycle)
            return view if view.status == "PAID" and len(view.published_event_ids) == 2 else None

        view = await eventually(paid, what="the workflow to follow PAID")
        assert "expired" not in [e.kind for e in view.timeline]
        await handle.terminate("test done")


async def test_paid_in_time_never_runs_the_expiry(
    time_skipping_env: WorkflowEnvironment,
    settings: Settings,
    pool: asyncpg.Pool,
    cache: OrderCache,
) -> None:
    env = time_skipping_env
    placed = await place_order(pool, cache, relayed=True)
    relay = pipeline.relay(pool, env.client, settings)
    async with worker(env, settings, pool, cache, RecordingPublisher()):
        handle = await start(env, settings, placed)
        await change_status(pool, cache, placed, OrderStatus.PAID)
        await relay_all(relay, pool, placed)

        async def paid() -> bool:
            return (await handle.query(OrderWorkflow.lifecycle)).status == "PAID"

        await eventually(paid, what="the workflow to see PAID")
        # Processing checks keep waking it past the payment deadline: none may expire it.
        await env.sleep(PAYMENT_TIMEOUT * 2)
        history = await handle.fetch_history()
        scheduled = [
            e.activity_task_scheduled_event_attributes.activity_type.name
            for e in history.events
            if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        ]
        assert ACTIVITY_EXPIRE_ORDER not in scheduled
        assert await expire_results(handle) == []  # not as a local activity either
        assert await status_of(pool, placed) is OrderStatus.PAID
        await handle.terminate("test done")


async def test_publishing_retries_until_the_broker_answers(
    time_skipping_env: WorkflowEnvironment,
    settings: Settings,
    pool: asyncpg.Pool,
    cache: OrderCache,
    topology: Topology,
) -> None:
    """A real Publisher behind a cut TCP proxy: attempts pile up, then RabbitMQ is back."""
    env = time_skipping_env
    placed = await place_order(pool, cache, relayed=True)
    with tcp_proxy("127.0.0.1", 5672) as proxy:
        proxy.cut()
        publisher = Publisher(f"amqp://guest:guest@{proxy.address}/", topology, timeout=2.0)
        async with worker(env, settings, pool, cache, publisher):
            handle = await start(env, settings, placed)

            async def failed_attempts() -> int:
                await env.sleep(timedelta(seconds=5))  # skip the retry backoff
                pending = (await handle.describe()).raw_description.pending_activities
                return pending[0].attempt if pending and pending[0].attempt >= 3 else 0

            attempts = await eventually(failed_attempts, what="3 failed publish attempts")
            assert attempts >= 3
            assert not (await outbox_rows(pool, placed.id))[0].published

            proxy.restore()

            async def published() -> bool:
                await env.sleep(timedelta(seconds=60))
                return (await outbox_rows(pool, placed.id))[0].published

            await eventually(published, what="the publish to succeed", deadline_s=30)
            await handle.terminate("test done")
        await publisher.close()

    message = await _get_message(topology.new_order_queue)
    assert message.message_id == str(placed.event_id)
    assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert orjson.loads(message.body) == event_dict(
        placed.event_id, placed.id, NewOrderEvent.for_order(placed.order)
    )


async def test_processed_and_final_status_complete_the_workflow(
    time_skipping_env: WorkflowEnvironment,
    settings: Settings,
    pool: asyncpg.Pool,
    cache: OrderCache,
) -> None:
    env = time_skipping_env
    placed = await place_order(pool, cache, relayed=True)
    publisher = RecordingPublisher()
    relay = pipeline.relay(pool, env.client, settings)
    async with worker(env, settings, pool, cache, publisher):
        handle = await start(env, settings, placed)
        paid = await change_status(pool, cache, placed, OrderStatus.PAID)
        await change_status(pool, cache, placed, OrderStatus.SHIPPED)
        await relay_all(relay, pool, placed)
        # SHIPPED alone does not end it: the order is not processed yet.
        view = await handle.query(OrderWorkflow.lifecycle)
        assert (view.status, view.processed) == ("SHIPPED", False)

        # process_order's effect, as the Celery task records it: one outbox row more.
        await record_processed(settings.dsn, placed)
        await relay_all(relay, pool, placed)
        async with asyncio.timeout(30):
            view = await handle.result()
        desc = await handle.describe()

    assert (view.status, view.processed) == ("SHIPPED", True)
    assert orjson.loads(paid.body)["status"] == OrderStatus.PAID.value
    ours = [(t, e) for t, _, e in publisher.published if e in view.published_event_ids]
    assert [t for t, _ in ours] == [NEW_ORDER, STATUS_CHANGED, STATUS_CHANGED]
    assert ours[0][1] == str(placed.event_id)
    assert desc.typed_search_attributes.get(ORDER_STATUS) == "SHIPPED"
    rows = await outbox_rows(pool, placed.id)
    assert all(r.published for r in rows if r.event_type != ORDER_PROCESSED)

    timeline = [e.to_dict() for e in await WorkflowTimeline(env.client).timeline(placed.id)]
    kinds = [e["kind"] for e in timeline]
    assert kinds[0] == "created"
    assert kinds.count("published") == 3
    assert kinds.count("processed") == 1
    assert kinds[-1] == "completed"
    changes = [
        (e["details"]["old_status"], e["details"]["new_status"])
        for e in timeline
        if e["kind"] == "status_changed"
    ]
    assert changes == [("PENDING", "PAID"), ("PAID", "SHIPPED")]


async def test_an_order_not_processed_in_time_is_published_again(
    time_skipping_env: WorkflowEnvironment,
    settings: Settings,
    pool: asyncpg.Pool,
    cache: OrderCache,
) -> None:
    """The task was lost after the hand-off: the workflow publishes the same event again,
    waiting longer each time, and stops once `processed` comes."""
    env = time_skipping_env
    placed = await place_order(pool, cache, relayed=True)
    publisher = RecordingPublisher()
    relay = pipeline.relay(pool, env.client, settings)
    event_id = str(placed.event_id)
    async with worker(env, settings, pool, cache, publisher):
        handle = await start(env, settings, placed, processing_timeout=timedelta(minutes=1))
        await eventually(lambda: publisher.event_ids() == [event_id], what="new_order published")
        first_published = (await outbox_rows(pool, placed.id))[0]

        await env.sleep(timedelta(seconds=61))
        await eventually(lambda: publisher.event_ids() == [event_id] * 2, what="a republish")
        await env.sleep(timedelta(seconds=60))  # the next wait is twice as long
        assert publisher.event_ids() == [event_id] * 2
        await env.sleep(timedelta(seconds=61))
        await eventually(lambda: publisher.event_ids() == [event_id] * 3, what="a 2nd republish")

        await record_processed(settings.dsn, placed)
        await relay_all(relay, pool, placed)

        async def processed() -> bool:
            return (await handle.query(OrderWorkflow.lifecycle)).processed

        await eventually(processed, what="the processed signal")
        await env.sleep(timedelta(hours=3))
        assert publisher.event_ids() == [event_id] * 3
        timeline = [e.to_dict() for e in await WorkflowTimeline(env.client).timeline(placed.id)]
        await handle.terminate("test done")

    assert first_published.published
    published = [e["details"] for e in timeline if e["kind"] == "published"]
    assert [d["event_id"] for d in published] == [event_id] * 3
    assert [d.get("reason") for d in published] == [
        None,
        "not processed after 60 s, republish 1",
        "not processed after 120 s, republish 2",
    ]


async def test_a_poison_input_parks_the_order_instead_of_retrying_forever(
    time_skipping_env: WorkflowEnvironment,
    settings: Settings,
    pool: asyncpg.Pool,
    cache: OrderCache,
) -> None:
    env = time_skipping_env
    placed = await place_order(pool, cache, relayed=True)
    publisher = RecordingPublisher()
    async with worker(env, settings, pool, cache, publisher):
        handle = await start(env, settings, placed, order_id="not-a-uuid")
        with pytest.raises(WorkflowFailureError) as failed:
            async with asyncio.timeout(30):
                await handle.result()
        history = await handle.fetch_history()
        timeline = [e.to_dict() for e in await WorkflowTimeline(env.client).timeline(placed.id)]
    assert isinstance(failed.value.cause, ApplicationError)
    reason = "publish_event: order_id is not a UUID: 'not-a-uuid'"
    assert failed.value.cause.message == f"order parked: {reason}"
    assert publisher.published == []  # refused before anything was published
    # One attempt, the local one: its failure is not retryable, so no activity follows.
    local = [
        e.marker_recorded_event_attributes
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
    ]
    assert len(local) == 1
    assert local[0].failure.application_failure_info.non_retryable
    scheduled = [
        e for e in history.events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    assert scheduled == []
    assert timeline[-1] == {
        "time": timeline[-1]["time"],
        "kind": "parked",
        "details": {"reason": f"order parked: {reason}"},
    }


async def _get_message(queue_name: str) -> aio_pika.abc.AbstractIncomingMessage:
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(queue_name)

        async def get() -> aio_pika.abc.AbstractIncomingMessage | None:
            return await queue.get(no_ack=True, fail=False)

        return await eventually(get, what=f"a message on {queue_name}")
