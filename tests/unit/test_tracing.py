"""Tracing (service.tracing): off unless OTEL_EXPORTER_OTLP_ENDPOINT is set; then OTLP/HTTP
under the service's name; the sampler keeps what starts work, not background chatter."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest
from aiohttp import web, web_app
from opentelemetry import trace
from opentelemetry.instrumentation.aio_pika import AioPikaInstrumentor
from opentelemetry.instrumentation.aiohttp_server import AioHttpServerInstrumentor
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.instrumentation.celery import CeleryInstrumentor
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from service import tracing
from service.app import create_app
from service.keys import TRACER_PROVIDER
from tests.conftest import make_settings


@pytest.fixture(autouse=True)
def no_otel_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SERVICE_NAME"):
        monkeypatch.delenv(name, raising=False)


def test_without_the_endpoint_nothing_is_instrumented_and_nothing_exports() -> None:
    settings = make_settings()
    assert tracing.start_from(settings) is None
    instrumentors: list[BaseInstrumentor] = [
        AsyncPGInstrumentor(),  # type: ignore[no-untyped-call]
        AioPikaInstrumentor(),
        CeleryInstrumentor(),  # type: ignore[no-untyped-call]
        AioHttpServerInstrumentor(),
    ]
    assert [i.is_instrumented_by_opentelemetry for i in instrumentors] == [False] * 4
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
    assert not [t.name for t in threading.enumerate() if t.name.startswith("OtelBatch")]
    assert web.Application is web_app.Application
    app = create_app(settings)
    assert TRACER_PROVIDER not in app
    assert not [m for m in app.middlewares if m.__module__.startswith("opentelemetry")]
    assert tracing.temporal_interceptors(None) == []


def test_the_variables_name_the_collector_and_the_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/")
    assert tracing.tracing_config(make_settings()) == tracing.TracingConfig(
        "http://collector:4318/", "orders"
    )
    monkeypatch.setenv("OTEL_SERVICE_NAME", "orders-eu")
    config = tracing.tracing_config(make_settings())
    assert config == tracing.TracingConfig("http://collector:4318/", "orders-eu")
    assert config.traces_url == "http://collector:4318/v1/traces"  # OTLP/HTTP's traces path


# A process of its own: the global tracer provider can be set only once per process.
_START = """
import json
from opentelemetry import trace
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from service import tracing
from tests.conftest import make_settings
provider = tracing.start_from(make_settings())
[processor] = provider._active_span_processor._span_processors
print(json.dumps({
    "global": trace.get_tracer_provider() is provider,
    "service": provider.resource.attributes["service.name"],
    "processor": type(processor).__name__,
    "endpoint": processor._batch_processor._exporter._endpoint,
    "asyncpg": AsyncPGInstrumentor().is_instrumented_by_opentelemetry,
}))
provider.shutdown()
"""


def test_with_the_endpoint_spans_are_batched_to_otlp_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9/")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "orders-test")
    out = subprocess.run(
        [sys.executable, "-c", _START], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(out.stdout) == {
        "global": True,
        "service": "orders-test",
        "processor": "BatchSpanProcessor",
        "endpoint": "http://127.0.0.1:9/v1/traces",
        "asyncpg": True,
    }


def test_a_trace_starts_where_work_enters() -> None:
    exporter = InMemorySpanExporter()
    provider = tracing.tracer_provider("orders-test")
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer(__name__)
    # Background chatter with no parent: the relay's claim query, a readiness probe.
    tracer.start_span("SELECT", kind=SpanKind.CLIENT).end()
    tracer.start_span("GET /ready", kind=SpanKind.SERVER).end()
    # Work entering: a request (and its query), a message.
    with tracer.start_as_current_span("POST /orders/", kind=SpanKind.SERVER):
        tracer.start_span("WITH", kind=SpanKind.CLIENT).end()
    tracer.start_span("orders receive", kind=SpanKind.CONSUMER).end()
    assert [s.name for s in exporter.get_finished_spans()] == [
        "WITH",
        "POST /orders/",
        "orders receive",
    ]
