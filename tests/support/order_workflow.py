"""The order workflow as the pipeline tests run it: the real activities (a publisher double
or a real one) in a worker on the test's task queue, and a workflow started for a placed
order as the relay would start it."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import asyncpg
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.order import EventPublisher, OrderActivities
from core.events import NewOrderEvent
from service import pipeline
from service.settings import Settings
from service.worker import build_worker
from store.cache import OrderCache
from tests.support.events import envelope
from tests.support.orders import PlacedOrder, order_usecases
from usecases.outbox import Outbox
from workflows.names import workflow_id
from workflows.order import OrderWorkflow
from workflows.types import LifecycleView, OrderWorkflowInput

PAYMENT_TIMEOUT = timedelta(hours=1)


def order_activities(
    pool: asyncpg.Pool,
    cache: OrderCache,
    publisher: EventPublisher,
    queues: tuple[pipeline.QueueLength, ...] = (),
) -> OrderActivities:
    probe = pipeline.ProcessingProbe(pool, queues)
    return OrderActivities(order_usecases(pool, cache), Outbox(pool), publisher, probe)


def worker(
    env: WorkflowEnvironment,
    settings: Settings,
    pool: asyncpg.Pool,
    cache: OrderCache,
    publisher: EventPublisher,
    queues: tuple[pipeline.QueueLength, ...] = (),
) -> Worker:
    activities = order_activities(pool, cache, publisher, queues)
    return build_worker(env.client, settings.temporal_task_queue, activities, sandboxed=True)


async def start(
    env: WorkflowEnvironment,
    settings: Settings,
    placed: PlacedOrder,
    *,
    processing_timeout: timedelta | None = None,  # None: the setting's
    order_id: str | None = None,
    correlation_id: str = "",
) -> WorkflowHandle[OrderWorkflow, LifecycleView]:
    event = envelope(
        NewOrderEvent.for_order(placed.order),
        event_id=placed.event_id,
        order_id=placed.id,
        correlation_id=correlation_id,
    )
    event = dataclasses.replace(
        event,
        aggregate_id=order_id or str(placed.id),
        occurred_at=await env.get_current_time(),
    )
    return await env.client.start_workflow(
        OrderWorkflow.run,
        OrderWorkflowInput(
            event=event,
            user_id=placed.order.user_id,
            payment_timeout_seconds=PAYMENT_TIMEOUT.total_seconds(),
            processing_timeout_seconds=(
                processing_timeout or settings.processing_timeout
            ).total_seconds(),
        ),
        id=workflow_id(placed.id),
        task_queue=settings.temporal_task_queue,
    )
