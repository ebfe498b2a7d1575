"""The pipeline's pieces built from the settings: each edge gets plain values, never them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any, Protocol
from uuid import UUID

import asyncpg
import redis.asyncio as aioredis
from celery import Celery
from temporalio.client import Client

from messaging.backlog import QueueDepth
from messaging.consumer import ConsumerConfig, EventConsumer
from messaging.publisher import Publisher
from messaging.topology import Topology
from processing.backlog import CeleryQueueLength
from processing.dispatch import CeleryDispatch
from relay.outbox import Handoff, OutboxRelay, RelayConfig
from relay.retention import OutboxRetention
from service.settings import Settings
from service.tracing import TracedHandoff
from workflows.compat_gate import CompatGate, look
from workflows.starter import TemporalHandoff
from workflows.versions import Deployment, default_build_id


def topology(settings: Settings) -> Topology:
    return Topology(
        settings.rabbitmq_exchange,
        settings.rabbitmq_new_order_queue,
        settings.rabbitmq_status_queue,
        settings.rabbitmq_queue_type,
    )


def publisher(settings: Settings) -> Publisher:
    return Publisher(
        settings.rabbitmq_url,
        topology(settings),
        timeout=settings.rabbitmq_timeout_seconds,
        reconnect_interval=settings.rabbitmq_reconnect_interval.total_seconds(),
    )


def deployment(settings: Settings) -> Deployment:
    """This code's version of the Worker Deployment that serves the task queue."""
    return Deployment(
        settings.temporal_task_queue, settings.temporal_build_id or default_build_id()
    )


def compat_gate(client: Client, settings: Settings) -> CompatGate:
    """Whether a v5 reader may exist, for the relay's arguments (run its `run` beside it)."""
    ours = deployment(settings)
    return CompatGate(
        partial(look, client, ours),
        ours.build_id,
        interval_seconds=settings.temporal_compat_check_interval.total_seconds(),
        timeout_seconds=settings.temporal_timeout_seconds,
    )


def relay(
    pool: asyncpg.Pool,
    client: Client,
    settings: Settings,
    worker_client: Callable[[], Client | None] | None = None,
    *,
    traced: bool = False,
    setup_problem: Callable[[], str | None] | None = None,
    v5_fields: Callable[[], bool] | None = None,
) -> OutboxRelay:
    """`worker_client`: the worker's client in this process, for eager starts; `traced`: each
    row's hand-off continues the trace of the request that wrote it; `setup_problem`: what
    the namespace lacks, if anything (`SetupCheck.problem`), new orders waiting meanwhile;
    `v5_fields`: whether v5's fields go beside each argument (`CompatGate.needed`; None:
    always)."""
    handoff: Handoff = TemporalHandoff(
        client,
        task_queue=settings.temporal_task_queue,
        payment_timeout=settings.payment_timeout,
        timeout=settings.temporal_timeout_seconds,
        processing_timeout=settings.processing_timeout,
        worker_client=worker_client,
        setup_problem=setup_problem,
        v5_fields=v5_fields,
    )
    if traced:
        handoff = TracedHandoff(handoff)
    retention = OutboxRetention(pool, keep=settings.outbox_retention)
    return OutboxRelay(pool, handoff, relay_config(settings), retention)


def relay_config(settings: Settings, **changes: Any) -> RelayConfig:
    """The relay's config from the settings; `changes`: a test's own values."""
    config = RelayConfig(
        dsn=settings.dsn,
        batch_size=settings.relay_batch_size,
        min_batch_size=settings.relay_min_batch_size,
        latency_tolerance=settings.relay_latency_tolerance,
        latency_target_seconds=settings.relay_latency_target_seconds,
        poll_interval_seconds=settings.relay_poll_interval_seconds,
        db_timeout_seconds=settings.db_command_timeout_seconds,
        max_attempts=settings.outbox_max_attempts,
        lease_seconds=settings.relay_lease_seconds,
    )
    return replace(config, **changes)


def consumer(settings: Settings, celery_app: Celery) -> EventConsumer:
    config = ConsumerConfig(
        url=settings.rabbitmq_url,
        topology=topology(settings),
        prefetch=settings.consumer_prefetch,
        timeout_seconds=settings.rabbitmq_timeout_seconds,
        reconnect_seconds=settings.rabbitmq_reconnect_interval.total_seconds(),
    )
    return EventConsumer(config, CeleryDispatch(celery_app))


class QueueLength(Protocol):
    async def length(self) -> int | None:
        """Messages waiting (and the queue's gauge set); None when it cannot tell now."""
        ...

    async def close(self) -> None: ...


async def sample(queues: tuple[QueueLength, ...], *, interval_seconds: float = 5.0) -> None:
    """Read each queue's length every few seconds, for its gauge, until cancelled."""
    while True:
        for queue in queues:
            await queue.length()
        await asyncio.sleep(interval_seconds)


def queue_lengths(settings: Settings, celery_redis: aioredis.Redis) -> tuple[QueueLength, ...]:
    """What waits before `process_order`: the `new_order` queue, then Celery's."""
    timeout = settings.rabbitmq_timeout_seconds
    return (
        QueueDepth(settings.rabbitmq_url, settings.rabbitmq_new_order_queue, timeout=timeout),
        CeleryQueueLength(celery_redis, settings.celery_queue, timeout=timeout),
    )


@dataclass(frozen=True, slots=True)
class ProcessingProbe:
    """`activities.order.ProcessingProbe`: PostgreSQL's processed record, and the queues."""

    pool: asyncpg.Pool
    queues: tuple[QueueLength, ...]

    async def processed_at(self, order_id: UUID) -> datetime | None:
        # Imported when first needed: its module also holds the Celery task's SQL, over
        # psycopg (12 MiB the worker process pays only once an order is overdue).
        from store.processed import processed_at

        return await processed_at(self.pool, order_id=order_id)

    async def waiting(self) -> int | None:
        lengths = await asyncio.gather(*(queue.length() for queue in self.queues))
        if any(n is None for n in lengths):
            return None
        return sum(n for n in lengths if n is not None)
