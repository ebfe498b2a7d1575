"""The service's background roles wired by create_app: worker, relay and consumer in one
process, against the real dev server, PostgreSQL, RabbitMQ and Redis (Celery's worker is
stood in for by running its task in-process)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest
import redis.asyncio as aioredis
from aiohttp import web
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from core import correlation
from core.lifecycle import OrderStatus
from messaging.topology import Topology
from processing.names import PROCESS_ORDER
from processing.tasks import close_connection
from service import celery_config
from service.app import create_app
from service.keys import WORKER_RUNNER
from service.settings import Role, Settings
from store.cache import OrderCache
from tests.support.consumer import celery_tasks
from tests.support.orders import change_status, place_order
from tests.support.outbox import outbox_rows
from tests.support.rabbitmq import take
from tests.support.waiting import eventually
from workflows.names import workflow_id


@pytest.fixture
async def service(
    temporal_env: WorkflowEnvironment, settings: Settings, topology: Topology
) -> AsyncIterator[Settings]:
    address = temporal_env.client.service_client.config.target_host
    roles = settings.model_copy(
        update={
            "service_roles": frozenset({Role.WORKER, Role.RELAY, Role.CONSUMER}),
            "temporal_address": address,
        }
    )
    app = create_app(roles)
    runner = web.AppRunner(app)
    await runner.setup()  # runs every cleanup context's start-up

    async def worker_connected() -> bool:
        return app[WORKER_RUNNER].client is not None

    await eventually(worker_connected, what="the worker connected")
    yield roles
    started = time.monotonic()
    await runner.cleanup()
    assert time.monotonic() - started < 15, "roles must stop promptly"


async def test_an_order_travels_the_whole_pipeline(
    service: Settings,
    temporal_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    cache: OrderCache,
    celery_redis: aioredis.Redis,
) -> None:
    # Written under a request's id: that id must reach Celery through every hop.
    token = correlation.correlation_id.set("req-pipeline")
    try:
        placed = await place_order(pool, cache)
    finally:
        correlation.correlation_id.reset(token)

    async def handed_to_celery() -> list[dict[str, object]]:
        tasks = await celery_tasks(celery_redis, service.celery_queue)
        return [t for t in tasks if t["id"] == str(placed.event_id)]

    [task] = await eventually(handed_to_celery, what="outbox -> workflow -> RabbitMQ -> Celery")
    assert task["args"] == [str(placed.id)]
    kwargs = task["kwargs"]
    assert isinstance(kwargs, dict)
    assert kwargs["event"]["correlation_id"] == "req-pipeline"  # its envelope

    async def published() -> bool:  # confirmed by RabbitMQ first, then recorded
        return (await outbox_rows(pool, placed.id))[0].published

    await eventually(published, what="the outbox row marked published")

    celery = celery_config.celery(service)
    try:
        await asyncio.to_thread(celery.tasks[PROCESS_ORDER].apply, args=(str(placed.id),))
    finally:
        close_connection(celery)
        celery.close()
    await change_status(pool, cache, placed, OrderStatus.PAID)
    await change_status(pool, cache, placed, OrderStatus.SHIPPED)

    handle = temporal_env.client.get_workflow_handle(workflow_id(placed.id))

    async def completed() -> bool:
        return (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED

    await eventually(completed, what="the workflow to complete", deadline_s=30)

    async def all_relayed() -> bool:  # the last signal's mark follows its hand-off
        return all(r.relayed for r in await outbox_rows(pool, placed.id))

    await eventually(all_relayed, what="every row marked relayed")
    rows = await outbox_rows(pool, placed.id)
    assert [r.published for r in rows if r.event_type != "order_processed"] == [True] * 3


async def test_the_relay_starts_workflows_eagerly_on_the_worker_of_its_process(
    service: Settings,
    temporal_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    cache: OrderCache,
) -> None:
    """Worker and relay in one process: the start goes through the worker's client with
    `request_eager_start`, and the server hands the first workflow task back in its
    answer (no poll)."""
    placed = await place_order(pool, cache)
    handle = temporal_env.client.get_workflow_handle(workflow_id(placed.id))

    async def published() -> bool:
        return (await outbox_rows(pool, placed.id))[0].published

    await eventually(published, what="new_order relayed and published")
    [started] = [
        e.workflow_execution_started_event_attributes
        async for e in handle.fetch_history_events()
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
    ]
    assert started.eager_execution_accepted
    await handle.terminate("test done")


async def test_a_status_event_reaches_rabbitmq_after_an_operator_terminated_the_workflow(
    service: Settings,
    temporal_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    cache: OrderCache,
    topology: Topology,
) -> None:
    placed = await place_order(pool, cache)

    async def published() -> bool:
        return (await outbox_rows(pool, placed.id))[0].published

    await eventually(published, what="new_order published")
    await temporal_env.client.get_workflow_handle(workflow_id(placed.id)).terminate("operator")
    await change_status(pool, cache, placed, OrderStatus.PAID)

    async def change_published() -> bool:
        rows = await outbox_rows(pool, placed.id)
        return len(rows) == 2 and rows[1].relayed and rows[1].published

    await eventually(change_published, what="the status event relayed and published")
    message = await take(topology.status_queue)
    assert message is not None
    event_id = await pool.fetchval(
        "SELECT id FROM outbox WHERE aggregate_id = $1 AND event_type = 'order_status_changed'",
        placed.id,
    )
    assert message.message_id == str(event_id)
