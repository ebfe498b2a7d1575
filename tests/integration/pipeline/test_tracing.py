"""One order, one trace (service.tracing): from `POST /orders/` through the outbox relay, the
workflow and its activity, RabbitMQ and Celery's `process_order`, every span connected.

The app runs every role against the real dev server, PostgreSQL, RabbitMQ and Redis, and
a real Celery worker runs in a thread; spans go to an in-memory exporter on the test's
provider (the service's own sampler and instrumentation), uninstrumented afterwards.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import asyncpg
import pytest
import redis.asyncio as aioredis
from celery import Celery
from celery.contrib.testing.worker import start_worker
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from pytest_aiohttp import AiohttpClient
from temporalio.testing import WorkflowEnvironment

from core.events import NEW_ORDER
from messaging.topology import Topology
from processing.dispatch import CeleryDispatch
from processing.tasks import close_connection
from service import celery_config, instrumentation
from service.app import create_app
from service.settings import Role, Settings
from tests.support.api import ApiUser
from tests.support.events import new_order_event
from tests.support.waiting import eventually
from workflows.names import workflow_id

MESSAGE_ID = "messaging.message.id"  # the event id: AMQP message id and Celery task id


@dataclass(frozen=True)
class Traced:
    provider: TracerProvider
    exporter: InMemorySpanExporter

    def spans(self) -> Sequence[ReadableSpan]:
        return self.exporter.get_finished_spans()


@pytest.fixture
def traced() -> Iterator[Traced]:
    exporter = InMemorySpanExporter()
    provider = instrumentation.tracer_provider("orders-test")
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentation.instrument(provider)
    try:
        yield Traced(provider, exporter)
    finally:
        instrumentation.uninstrument()
        provider.shutdown()


def span_named(spans: Sequence[ReadableSpan], name: str) -> ReadableSpan | None:
    return next((s for s in spans if s.name == name), None)


def span_id(span: ReadableSpan | None) -> int | None:
    return span.context.span_id if span is not None and span.context is not None else None


def parent_id(span: ReadableSpan | None) -> int | None:
    return span.parent.span_id if span is not None and span.parent is not None else None


def trace_id(span: ReadableSpan) -> int | None:
    return span.context.trace_id if span.context is not None else None


@dataclass(frozen=True)
class OrderTrace:
    spans: list[ReadableSpan]  # those of the trace the request's server span started
    missing: list[str]  # required span names not in it
    orphans: list[str]  # its spans whose parent is not in it


def order_trace(spans: Sequence[ReadableSpan], required: Sequence[str]) -> OrderTrace:
    root = span_named(spans, "POST /orders/")
    trace = [s for s in spans if root is not None and trace_id(s) == trace_id(root)]
    names = {s.name for s in trace}
    ids = {span_id(s) for s in trace}
    return OrderTrace(
        trace,
        [n for n in required if n not in names],
        [s.name for s in trace if s.parent is not None and parent_id(s) not in ids],
    )


async def test_one_order_is_one_connected_trace(
    traced: Traced,
    temporal_env: WorkflowEnvironment,
    settings: Settings,
    topology: Topology,
    celery_redis: aioredis.Redis,
    pool: asyncpg.Pool,
    aiohttp_client: AiohttpClient,
) -> None:
    required = [
        "POST /orders/",  # the HTTP server span
        "StartWorkflow:OrderWorkflow",  # the relay hands the outbox row to Temporal
        "RunWorkflow:OrderWorkflow",
        "StartActivity:publish_event",
        "RunActivity:publish_event",
        f"{topology.exchange},{NEW_ORDER} send",  # the RabbitMQ publish (exchange, routing key)
        f"{topology.exchange} receive",  # the consumer
        "apply_async/process_order",  # the consumer hands the order to Celery
        "run/process_order",  # the Celery worker
    ]
    every_role = settings.model_copy(
        update={
            "service_roles": frozenset(Role),
            "temporal_address": temporal_env.client.service_client.config.target_host,
        }
    )
    worker_app = celery_config.celery(every_role)
    with start_worker(worker_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        try:
            client = await aiohttp_client(create_app(every_role, tracer_provider=traced.provider))
            user = await ApiUser(client.session, str(client.make_url(""))).sign_up()
            order = await user.create_order()

            def settled() -> bool:  # children may end after their parents: wait for both
                found = order_trace(traced.spans(), required)
                return not found.missing and not found.orphans

            with contextlib.suppress(AssertionError):  # asserted below, with the details
                await eventually(settled, what="the order's trace", deadline_s=60)
        finally:
            close_connection(worker_app)
    worker_app.close()

    found = order_trace(traced.spans(), required)
    assert found.missing == []
    assert found.orphans == []
    [root] = [s for s in found.spans if s.parent is None]
    assert (root.name, root.kind) == ("POST /orders/", SpanKind.SERVER)
    # Across the outbox: the relay's start of the workflow is a child of the request.
    assert parent_id(span_named(found.spans, "StartWorkflow:OrderWorkflow")) == span_id(root)
    # Nothing of this order went into another trace.
    order_id = uuid.UUID(order["id"])
    event_id = await pool.fetchval(
        "SELECT id::text FROM outbox WHERE aggregate_id = $1 AND event_type = $2",
        order_id,
        NEW_ORDER,
    )
    ours = [
        s
        for s in traced.spans()
        if s.attributes
        and (
            s.attributes.get("temporalWorkflowID") == workflow_id(order_id)
            or s.attributes.get(MESSAGE_ID) == event_id
        )
    ]
    assert {s.name for s in ours} >= {
        "RunWorkflow:OrderWorkflow",
        f"{topology.exchange} receive",
        "run/process_order",
    }
    assert {trace_id(s) for s in ours} == {trace_id(root)}


async def test_the_hand_off_to_celery_ends_its_publish_span(
    traced: Traced, settings: Settings, celery_redis: aioredis.Redis
) -> None:
    # Celery's instrumentation looks a published task up in the current app to end its
    # span there. In the consumer's process no app that knows process_order is current or
    # the default (above, start_worker's app was the default): the span must end anyway
    # (it does, as soon as the signal handler returns) or process_order's parent is lost.
    Celery("bystander", set_as_current=False).set_default()
    app = celery_config.celery(settings)
    try:
        with traced.provider.get_tracer(__name__).start_as_current_span("consume"):
            await CeleryDispatch(app).submit(new_order_event())
    finally:
        app.close()
    spans = traced.spans()
    publish = span_named(spans, "apply_async/process_order")
    assert publish is not None, [s.name for s in spans]  # ended, so exported
    assert parent_id(publish) == span_id(span_named(spans, "consume"))
