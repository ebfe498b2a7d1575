"""The background roles of the service, each opened and closed by a cleanup context.

WORKER runs the Temporal worker (with a RabbitMQ publisher for its activities), RELAY
the outbox relay, CONSUMER the RabbitMQ consumer. Each runs as a background task that
is stopped gracefully on shutdown, so the roles can run together or apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from activities.order import OrderActivities
from relay.backlog import BacklogMonitor
from service import pipeline
from service.keys import (
    DB_POOL,
    ORDER_USECASES,
    PUBLISHER,
    SETTINGS,
    TEMPORAL,
    TEMPORAL_METRICS_PORT,
    TRACER_PROVIDER,
)
from service.telemetry import temporal_runtime
from service.tracing import temporal_interceptors
from service.worker import WorkerRunner
from usecases.outbox import Outbox

log = logging.getLogger(__name__)


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def publisher(app: web.Application) -> AsyncIterator[None]:
    """The RabbitMQ publisher; if RabbitMQ is down now, it connects on first publish."""
    app[PUBLISHER] = pipeline.publisher(app[SETTINGS])
    try:
        await app[PUBLISHER].connect()
    except (OSError, TimeoutError) as exc:  # aio-pika's connection errors are OSErrors
        log.warning("RabbitMQ unreachable at start, publishing will retry error=%r", exc)
    yield
    await app[PUBLISHER].close()


async def temporal_worker(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    activities = OrderActivities(app[ORDER_USECASES], Outbox(app[DB_POOL]), app[PUBLISHER])
    port = app.get(TEMPORAL_METRICS_PORT)
    runner = WorkerRunner(
        runtime=temporal_runtime(port) if port else None,
        address=settings.temporal_address,
        namespace=settings.temporal_namespace,
        task_queue=settings.temporal_task_queue,
        activities=activities,
        connect_timeout=settings.temporal_timeout_seconds,
        interceptors=temporal_interceptors(app.get(TRACER_PROVIDER)),
    )
    task = asyncio.create_task(runner.run(), name="temporal-worker")
    yield
    await runner.shutdown()
    await _stop(task)


async def outbox_relay(app: web.Application) -> AsyncIterator[None]:
    traced = TRACER_PROVIDER in app
    relay = pipeline.relay(app[DB_POOL], app[TEMPORAL], app[SETTINGS], traced=traced)
    monitor = BacklogMonitor(app[DB_POOL])
    tasks = [
        asyncio.create_task(relay.run(), name="outbox-relay"),
        asyncio.create_task(monitor.run(), name="outbox-backlog"),
    ]
    yield
    for task in tasks:
        await _stop(task)


async def event_consumer(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    consumer = pipeline.consumer(settings, pipeline.celery(settings))
    task = asyncio.create_task(consumer.run(), name="event-consumer")
    yield
    await _stop(task)
