"""Traces across processes: `orders serve` and `orders celery`, started with
OTEL_EXPORTER_OTLP_ENDPOINT, export one order's spans over OTLP/HTTP to a collector (here
a fake one in the test), all in one trace, each under the service's name."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tests.e2e.checks import ONE_ORDER_DEADLINE_S, processed_once
from tests.support.api import ApiUser
from tests.support.faults import free_port
from tests.support.stack import Stack
from tests.support.waiting import eventually


@dataclass(frozen=True)
class ExportedSpan:
    service: str
    name: str
    trace_id: bytes


@dataclass
class Collector:
    """Answers OTLP/HTTP trace exports (protobuf) and keeps what it was sent."""

    port: int = field(default_factory=free_port)
    spans: list[ExportedSpan] = field(default_factory=list)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def export(self, request: web.Request) -> web.Response:
        batch = ExportTraceServiceRequest.FromString(await request.read())
        for resource_spans in batch.resource_spans:
            attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                self.spans.extend(
                    ExportedSpan(attributes["service.name"], s.name, s.trace_id)
                    for s in scope_spans.spans
                )
        body = ExportTraceServiceResponse().SerializeToString()
        return web.Response(body=body, content_type="application/x-protobuf")


@pytest.fixture
async def collector() -> AsyncIterator[Collector]:
    found = Collector()
    app = web.Application()
    app.router.add_post("/v1/traces", found.export)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", found.port).start()
    yield found
    await runner.cleanup()


async def test_the_processes_export_one_trace_per_order(
    stack: Stack, collector: Collector, http: aiohttp.ClientSession
) -> None:
    stack.overrides.update(
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
            "OTEL_SERVICE_NAME": "orders-e2e",
            "OTEL_BSP_SCHEDULE_DELAY": "100",  # the batch processor's export interval (ms)
        }
    )
    stack.start_service()
    celery = stack.start_celery()  # a prefork pool: the children export too
    user = await ApiUser(http, stack.base_url).sign_up()
    await user.create_order()
    order = await user.create_order()
    await processed_once(celery, order["id"])

    def exported(name: str) -> list[ExportedSpan]:
        return [s for s in collector.spans if s.name == name]

    await eventually(
        lambda: len(exported("run/process_order")) == 2,
        deadline_s=ONE_ORDER_DEADLINE_S,
        what="both orders' process_order spans exported",
    )
    posts = exported("POST /orders/")
    assert {s.service for s in collector.spans} == {"orders-e2e"}
    assert len(posts) == 2
    # Each task's span is in the trace of the request that placed its order.
    assert {s.trace_id for s in exported("run/process_order")} == {s.trace_id for s in posts}
    for name in ("StartWorkflow:OrderWorkflow", "RunActivity:publish_event"):
        assert {s.trace_id for s in exported(name)} == {s.trace_id for s in posts}, name
