"""The pipeline's pieces built from the settings: each edge gets plain values, never them."""

from __future__ import annotations

from collections.abc import Callable

import asyncpg
from celery import Celery
from temporalio.client import Client

from messaging.consumer import ConsumerConfig, EventConsumer
from messaging.publisher import Publisher
from messaging.topology import Topology
from processing.dispatch import CeleryDispatch
from relay.outbox import Handoff, OutboxRelay, RelayConfig
from relay.retention import OutboxRetention
from service.settings import Settings
from service.tracing import TracedHandoff
from workflows.starter import TemporalHandoff


def topology(settings: Settings) -> Topology:
    return Topology(
        settings.rabbitmq_exchange,
        settings.rabbitmq_new_order_queue,
        settings.rabbitmq_status_queue,
    )


def publisher(settings: Settings) -> Publisher:
    return Publisher(
        settings.rabbitmq_url, topology(settings), timeout=settings.rabbitmq_timeout_seconds
    )


def relay(
    pool: asyncpg.Pool,
    client: Client,
    settings: Settings,
    worker_client: Callable[[], Client | None] | None = None,
    *,
    traced: bool = False,
) -> OutboxRelay:
    """`worker_client`: the worker's client in this process, for eager starts; `traced`: each
    row's hand-off continues the trace of the request that wrote it."""
    handoff: Handoff = TemporalHandoff(
        client,
        task_queue=settings.temporal_task_queue,
        payment_timeout=settings.payment_timeout,
        timeout=settings.temporal_timeout_seconds,
        processing_timeout=settings.processing_timeout,
        worker_client=worker_client,
    )
    if traced:
        handoff = TracedHandoff(handoff)
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
    retention = OutboxRetention(pool, keep=settings.outbox_retention)
    return OutboxRelay(pool, handoff, config, retention)


def consumer(settings: Settings, celery_app: Celery) -> EventConsumer:
    config = ConsumerConfig(
        url=settings.rabbitmq_url,
        topology=topology(settings),
        prefetch=settings.consumer_prefetch,
        timeout_seconds=settings.rabbitmq_timeout_seconds,
    )
    return EventConsumer(config, CeleryDispatch(celery_app))
