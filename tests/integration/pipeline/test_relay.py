"""The outbox relay against a real Temporal dev server and real PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import asyncpg
import orjson
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.converter import DataConverter
from temporalio.testing import WorkflowEnvironment

from activities.types import PublishInput
from core.envelope import EventEnvelope
from core.events import NewOrderEvent, event_dict
from core.lifecycle import OrderStatus
from relay.listener import APPLICATION_NAME
from relay.outbox import OutboxRelay
from service import pipeline
from service.settings import Settings
from store.cache import OrderCache
from tests.support.faults import free_port
from tests.support.orders import (
    change_status,
    place_order,
    record_processed,
    relay_all,
)
from tests.support.outbox import outbox_rows
from tests.support.waiting import eventually
from workflows.names import CUSTOMER_ID, ORDER_STATUS, workflow_id
from workflows.types import OrderWorkflowInput


@contextlib.asynccontextmanager
async def running(relay: OutboxRelay) -> AsyncIterator[None]:
    task = asyncio.create_task(relay.run())
    try:
        await eventually(lambda: _is_set(relay.listening), what="the relay to LISTEN")
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _is_set(event: asyncio.Event) -> bool:
    return event.is_set()


async def test_a_new_order_row_starts_its_workflow_with_search_attributes(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, cache: OrderCache, settings: Settings
) -> None:
    placed = await place_order(pool, cache)
    await relay_all(pipeline.relay(pool, temporal_env.client, settings), pool, placed)

    handle = temporal_env.client.get_workflow_handle(workflow_id(placed.id))
    desc = await handle.describe()
    assert desc.id == f"order-{placed.id}"
    assert desc.workflow_type == "OrderWorkflow"
    assert desc.task_queue == settings.temporal_task_queue
    assert desc.typed_search_attributes.get(CUSTOMER_ID) == placed.order.user_id
    assert desc.typed_search_attributes.get(ORDER_STATUS) == "PENDING"

    started = (await handle.fetch_history()).events[0]
    payloads = started.workflow_execution_started_event_attributes.input.payloads
    order = DataConverter.default.payload_converter.from_payloads(payloads, [OrderWorkflowInput])[0]
    assert (order.event.event_id, order.event.aggregate_id) == (
        str(placed.event_id),
        str(placed.id),
    )
    assert order.payment_timeout_seconds == settings.payment_timeout.total_seconds()
    contract = event_dict(placed.event_id, placed.id, NewOrderEvent.for_order(placed.order))
    assert orjson.loads(order.event.payload) == contract


async def test_relaying_a_row_again_never_makes_a_second_execution(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, cache: OrderCache, settings: Settings
) -> None:
    placed = await place_order(pool, cache)
    relay = pipeline.relay(pool, temporal_env.client, settings)
    await relay_all(relay, pool, placed)
    handle = temporal_env.client.get_workflow_handle(workflow_id(placed.id))
    first_run = (await handle.describe()).run_id

    async def relay_again() -> None:
        await pool.execute("UPDATE outbox SET relayed_at = NULL WHERE id = $1", placed.event_id)
        await relay_all(relay, pool, placed)

    await relay_again()  # while it runs
    assert (await handle.describe()).run_id == first_run
    await handle.terminate("closed, to try the id reuse policy")
    await relay_again()  # once it is closed
    latest = await handle.describe()  # the latest run under this workflow id
    assert latest.run_id == first_run
    assert latest.status == WorkflowExecutionStatus.TERMINATED
    assert (await outbox_rows(pool, placed.id))[0].attempts == 0  # both counted as success


async def test_rows_wait_while_temporal_is_unreachable_then_catch_up(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, cache: OrderCache, settings: Settings
) -> None:
    placed = await place_order(pool, cache)
    unreachable = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True)
    down = pipeline.relay(pool, unreachable, settings)

    async def failed_once() -> bool:
        await down.relay_once()
        return (await outbox_rows(pool, placed.id))[0].attempts >= 1

    await eventually(failed_once, what="a failed hand-off to be recorded")
    [row] = await outbox_rows(pool, placed.id)
    assert not row.relayed
    assert row.last_error
    assert "connect" in row.last_error.lower()
    backoff = await pool.fetchval(
        "SELECT next_attempt_at > now() FROM outbox WHERE id = $1", placed.event_id
    )
    assert backoff, "a failed row waits before its next attempt"

    await relay_all(pipeline.relay(pool, temporal_env.client, settings), pool, placed)
    desc = await temporal_env.client.get_workflow_handle(workflow_id(placed.id)).describe()
    assert desc.status == WorkflowExecutionStatus.RUNNING


async def test_status_changes_and_processing_reach_the_workflow_as_signals(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, cache: OrderCache, settings: Settings
) -> None:
    placed = await place_order(pool, cache)
    relay = pipeline.relay(pool, temporal_env.client, settings)
    await relay_all(relay, pool, placed)
    await change_status(pool, cache, placed, OrderStatus.PAID)
    await record_processed(settings.dsn, placed)
    await relay_all(relay, pool, placed)

    history = await temporal_env.client.get_workflow_handle(workflow_id(placed.id)).fetch_history()
    signals = [
        e.workflow_execution_signaled_event_attributes
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    ]
    assert [s.signal_name for s in signals] == ["status_changed", "processed"]
    convert = DataConverter.default.payload_converter
    change = convert.from_payloads(signals[0].input.payloads, [EventEnvelope])[0]
    assert change.event_type == "order_status_changed"
    assert (orjson.loads(change.payload)["old_status"], change.aggregate_id) == (
        "PENDING",
        str(placed.id),
    )
    done = convert.from_payloads(signals[1].input.payloads, [EventEnvelope])[0]
    processed_event = await pool.fetchval(
        "SELECT id FROM outbox WHERE aggregate_id = $1 AND event_type = 'order_processed'",
        placed.id,
    )
    assert done.event_id == str(processed_event)


async def started_input(client: Client, workflow: str) -> tuple[str, PublishInput]:
    """The type and input a workflow was started with."""
    started = (await client.get_workflow_handle(workflow).fetch_history()).events[0]
    attrs = started.workflow_execution_started_event_attributes
    convert = DataConverter.default.payload_converter
    return attrs.workflow_type.name, convert.from_payloads(attrs.input.payloads, [PublishInput])[0]


async def test_a_status_event_for_a_terminated_workflow_gets_a_workflow_of_its_own(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, cache: OrderCache, settings: Settings
) -> None:
    placed = await place_order(pool, cache)
    relay = pipeline.relay(pool, temporal_env.client, settings)
    await relay_all(relay, pool, placed)
    await temporal_env.client.get_workflow_handle(workflow_id(placed.id)).terminate("operator")
    await change_status(pool, cache, placed, OrderStatus.PAID)
    await relay_all(relay, pool, placed)
    await relay_all(relay, pool, placed)  # again: the start is idempotent
    [_, change] = await outbox_rows(pool, placed.id)
    assert change.attempts == 0
    event_id = await pool.fetchval(
        "SELECT id FROM outbox WHERE aggregate_id = $1 AND event_type = $2",
        placed.id,
        "order_status_changed",
    )
    name, event = await started_input(temporal_env.client, f"order-{placed.id}-event-{event_id}")
    assert name == "PublishEventWorkflow"
    assert (event.event.event_id, event.event.event_type) == (
        str(event_id),
        "order_status_changed",
    )
    assert event.event.aggregate_id == str(placed.id)
    assert orjson.loads(event.event.payload)["new_status"] == "PAID"
    assert event.reason == "order workflow terminated"


async def test_a_status_event_for_a_workflow_gone_past_retention_is_still_published(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, cache: OrderCache, settings: Settings
) -> None:
    placed = await place_order(pool, cache, relayed=True)  # relayed, and no workflow left
    await change_status(pool, cache, placed, OrderStatus.CANCELED)
    await relay_all(pipeline.relay(pool, temporal_env.client, settings), pool, placed)
    event_id = await pool.fetchval(
        "SELECT id FROM outbox WHERE aggregate_id = $1 AND event_type = $2",
        placed.id,
        "order_status_changed",
    )
    _, event = await started_input(temporal_env.client, f"order-{placed.id}-event-{event_id}")
    assert event.reason == "order workflow gone"


async def test_processed_for_a_terminated_workflow_needs_nothing_more(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, cache: OrderCache, settings: Settings
) -> None:
    placed = await place_order(pool, cache)
    relay = pipeline.relay(pool, temporal_env.client, settings)
    await relay_all(relay, pool, placed)
    await temporal_env.client.get_workflow_handle(workflow_id(placed.id)).terminate("operator")
    await record_processed(settings.dsn, placed)
    await relay_all(relay, pool, placed)
    assert [r.attempts for r in await outbox_rows(pool, placed.id)] == [0, 0]


async def test_two_relays_never_hand_over_the_same_row(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, cache: OrderCache, settings: Settings
) -> None:
    placed = [await place_order(pool, cache) for _ in range(30)]
    eligible = await pool.fetchval(
        "SELECT count(*) FROM outbox o WHERE relayed_at IS NULL AND parked_at IS NULL"
        " AND next_attempt_at <= now() AND (leased_until IS NULL OR leased_until <= now())"
        " AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.aggregate_id = o.aggregate_id"
        " AND e.relayed_at IS NULL AND e.seq < o.seq)"
    )
    one = pipeline.relay(pool, temporal_env.client, settings)
    two = pipeline.relay(pool, temporal_env.client, settings)
    first, second = await asyncio.gather(one.relay_once(), two.relay_once())
    assert first.claimed + second.claimed == eligible  # each row claimed by exactly one
    assert first.relayed + second.relayed == eligible
    for order in placed:
        assert (await outbox_rows(pool, order.id))[0].relayed


async def test_a_notify_wakes_the_relay_without_waiting_for_the_poll(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, cache: OrderCache, settings: Settings
) -> None:
    slow_poll = settings.model_copy(update={"relay_poll_interval_seconds": 120.0})
    relay = pipeline.relay(pool, temporal_env.client, slow_poll)
    async with running(relay):
        placed = await place_order(pool, cache)

        async def relayed() -> bool:
            return (await outbox_rows(pool, placed.id))[0].relayed

        await eventually(relayed, what="the NOTIFY to wake the relay", deadline_s=10)


@pytest.mark.timeout(60)
async def test_the_listener_reconnects_when_its_connection_drops(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, cache: OrderCache, settings: Settings
) -> None:
    slow_poll = settings.model_copy(update={"relay_poll_interval_seconds": 120.0})
    relay = pipeline.relay(pool, temporal_env.client, slow_poll)
    find = (
        "SELECT pid FROM pg_stat_activity"
        " WHERE datname = current_database() AND application_name = $1"
    )
    async with running(relay):
        old_pid = await pool.fetchval(find, APPLICATION_NAME)
        assert old_pid is not None
        await pool.execute("SELECT pg_terminate_backend($1)", old_pid)

        async def new_pid() -> int | None:
            pid = await pool.fetchval(find, APPLICATION_NAME)
            return pid if pid not in (None, old_pid) and relay.listening.is_set() else None

        await eventually(new_pid, what="the listener to reconnect", deadline_s=20)
        placed = await place_order(pool, cache)

        async def relayed() -> bool:
            return (await outbox_rows(pool, placed.id))[0].relayed

        await eventually(relayed, what="a NOTIFY after the reconnect", deadline_s=10)
