"""The background roles of the service, each opened and closed by a cleanup context.

WORKER runs the Temporal worker (with a RabbitMQ publisher for its activities, and what
its processing check reads: PostgreSQL, the `new_order` queue's depth and Celery's queue
length, both also sampled as gauges, with the overdue orders per phase), RELAY the outbox
relay, CONSUMER the RabbitMQ consumer. Each runs as a background task under
the process's supervisor (`service.supervision`): restarted with backoff when it fails,
stopped gracefully on shutdown, and reported by /ready (its state, and RabbitMQ's), so
the roles can run together or apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import redis.asyncio as aioredis
from aiohttp import web
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from activities.broker_gate import BrokerGate
from activities.order import OrderActivities
from api.keys import ORDERS, READINESS
from api.readiness import Probe
from messaging.failures import AMQP_FAILURES
from relay.backlog import BacklogMonitor
from service import celery_config, pipeline
from service.keys import (
    DB_POOL,
    PUBLISHER,
    SETTINGS,
    SUPERVISOR,
    TEMPORAL,
    TEMPORAL_CONNECTION,
    TEMPORAL_METRICS_PORT,
    TEMPORAL_SETUP,
    TRACER_PROVIDER,
    WORKER_RUNNER,
)
from service.settings import Role
from service.supervision import Supervisor
from service.telemetry import temporal_runtime
from service.worker import WorkerRunner
from store.db import FAILURES as DB_FAILURES
from usecases.outbox import Outbox
from workflows.stuck import PhaseMonitor

log = logging.getLogger(__name__)


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _start(
    app: web.Application, name: str, run: Callable[[], Awaitable[None]]
) -> asyncio.Task[None]:
    """Run a role under the supervisor; /ready is 503 while it waits to restart."""
    task = app[SUPERVISOR].start(name, run)
    app[READINESS].add(Probe(name, app[SUPERVISOR].roles[name].up))
    return task


def _rabbitmq_critical(app: web.Application) -> bool:
    """RabbitMQ down: a process serving the API stays ready (orders are still taken and
    wait in the outbox and in Temporal), a process that only moves events is not."""
    return Role.API not in app[SETTINGS].service_roles


async def supervision(app: web.Application) -> AsyncIterator[None]:
    """The supervisor of this process's roles; their state goes into /ready's details."""
    app[SUPERVISOR] = Supervisor()
    app[READINESS].add_detail("roles", app[SUPERVISOR].details)
    yield


async def publisher(app: web.Application) -> AsyncIterator[None]:
    """The RabbitMQ publisher; if RabbitMQ is down now, it connects on first publish."""
    app[PUBLISHER] = pipeline.publisher(app[SETTINGS])
    try:
        await app[PUBLISHER].connect()
    except AMQP_FAILURES as exc:
        log.warning("RabbitMQ unreachable at start, publishing will retry error=%r", exc)
    app[READINESS].add(Probe("rabbitmq", app[PUBLISHER].ping, critical=_rabbitmq_critical(app)))
    yield
    await app[PUBLISHER].close()


async def temporal_worker(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    # Celery's broker (maybe not the cache's Redis), for its queue's length: one attempt,
    # bounded by the reader's own timeout, as the cache's client (service/resources.py).
    celery_redis = aioredis.Redis.from_url(
        settings.broker_url,
        socket_connect_timeout=settings.rabbitmq_timeout_seconds,
        retry=Retry(NoBackoff(), 0),
    )
    queues = pipeline.queue_lengths(settings, celery_redis)
    probe = pipeline.ProcessingProbe(app[DB_POOL], queues)
    gate = BrokerGate(
        app[PUBLISHER],
        wait_seconds=settings.publish_broker_wait.total_seconds(),
        max_waiting=settings.publish_max_waiting,
    )
    activities = OrderActivities(app[ORDERS], Outbox(app[DB_POOL]), app[PUBLISHER], probe, gate)
    deployment = pipeline.deployment(settings) if settings.temporal_worker_versioning else None
    port = app.get(TEMPORAL_METRICS_PORT)
    runner = WorkerRunner(
        runtime=temporal_runtime(port) if port else None,
        connection=app[TEMPORAL_CONNECTION],
        task_queue=settings.temporal_task_queue,
        activities=activities,
        connect_timeout=settings.temporal_timeout_seconds,
        sandboxed=settings.workflow_sandbox,
        workflow_cache=settings.temporal_workflow_cache,
        deployment=deployment,
        promote=settings.temporal_worker_promote,
        max_activities=settings.temporal_max_activities,
    )
    app[WORKER_RUNNER] = runner

    async def version() -> object:
        return runner.version()

    app[READINESS].add_detail("worker_version", version)
    task = _start(app, Role.WORKER.value, runner.run)
    samplers = [  # gauges only: not in /ready
        app[SUPERVISOR].start("queue-lengths", lambda: pipeline.sample(queues)),
        app[SUPERVISOR].start("overdue-orders", PhaseMonitor(app[TEMPORAL]).run),
    ]
    yield
    await runner.shutdown()
    await _stop(task)
    for sampler in samplers:
        await _stop(sampler)
    for queue in queues:
        await queue.close()
    await celery_redis.aclose()


async def outbox_relay(app: web.Application) -> AsyncIterator[None]:
    # With the worker in this process, workflows start through its client, eagerly.
    runner = app.get(WORKER_RUNNER)
    worker_client = (lambda: runner.client) if runner is not None else None
    traced = TRACER_PROVIDER in app
    setup = app[TEMPORAL_SETUP]  # new orders wait in the outbox while the namespace lacks setup
    compat = pipeline.compat_gate(app[TEMPORAL], app[SETTINGS])  # v5's fields while v5 may read
    relay = pipeline.relay(
        app[DB_POOL],
        app[TEMPORAL],
        app[SETTINGS],
        worker_client,
        traced=traced,
        setup_problem=lambda: setup.problem,
        v5_fields=compat.needed,
    )
    outbox = Outbox(app[DB_POOL])

    async def parked() -> int | None:
        try:
            return await outbox.parked_count()
        except DB_FAILURES:
            return None  # PostgreSQL's own probe says why

    app[READINESS].add_detail("outbox_parked", parked)

    async def v5_fields() -> bool:
        return compat.needed()

    app[READINESS].add_detail("v5_fields", v5_fields)  # sent beside each argument, or not
    monitor = BacklogMonitor(app[DB_POOL])
    tasks = [
        _start(app, Role.RELAY.value, relay.run),
        app[SUPERVISOR].start("outbox-backlog", monitor.run),  # gauges only: not in /ready
        app[SUPERVISOR].start("compat-check", compat.run),  # its failures mean "send them"
    ]
    yield
    for task in tasks:
        await _stop(task)


async def event_consumer(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    consumer = pipeline.consumer(settings, celery_config.celery(settings, tasks=False))
    if Role.WORKER not in settings.service_roles:  # else the publisher's probe tells

        async def connected() -> bool:
            return consumer.connected

        app[READINESS].add(Probe("rabbitmq", connected, critical=_rabbitmq_critical(app)))
    task = _start(app, Role.CONSUMER.value, consumer.run)
    yield
    await _stop(task)
