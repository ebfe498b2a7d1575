"""Tracing (service.tracing): off unless OTEL_EXPORTER_OTLP_ENDPOINT is set; then OTLP/HTTP
under the service's name; the sampler keeps what starts work, not background chatter."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from pydantic import ValidationError

from service import instrumentation, tracing
from tests.support.settings import make_settings


@pytest.fixture(autouse=True)
def no_otel_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SERVICE_NAME"):
        monkeypatch.delenv(name, raising=False)


# In a process of its own: instrumentation and the global tracer provider are process-wide
# (the provider can be set only once). First without the endpoint, then with it.
_PROCESS = """
import json, os, sys, threading
from aiohttp import web, web_app
from opentelemetry import trace
from service import tracing
from service.app import create_app
from service.keys import TRACER_PROVIDER
from tests.support.settings import make_settings

settings = make_settings(service_roles="api,worker,relay,consumer")
app = create_app(settings, tracer_provider=tracing.start_from(settings))
heavy = ("opentelemetry.exporter", "opentelemetry.instrumentation", "service.instrumentation")
off = {
    "loaded": sorted(m for m in sys.modules if m.startswith(heavy)),
    "provider": type(trace.get_tracer_provider()).__name__,
    "threads": [t.name for t in threading.enumerate() if t.name.startswith("Otel")],
    "application": web.Application is web_app.Application,
    "app": TRACER_PROVIDER in app,
    "middlewares": [m.__module__ for m in app.middlewares if "opentelemetry" in m.__module__],
    "interceptors": tracing.temporal_interceptors(None),
}

os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:9/"
os.environ["OTEL_SERVICE_NAME"] = "orders-test"
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
provider = tracing.start_from(make_settings())
[processor] = provider._active_span_processor._span_processors
app = create_app(settings, tracer_provider=provider)
on = {
    "global": trace.get_tracer_provider() is provider,
    "service": provider.resource.attributes["service.name"],
    "processor": type(processor).__name__,
    "endpoint": processor._batch_processor._exporter._endpoint,
    "asyncpg": AsyncPGInstrumentor().is_instrumented_by_opentelemetry,
    "application": web.Application is web_app.Application,
    "middleware": app.middlewares[0].__module__,
}
provider.shutdown()
print(json.dumps({"off": off, "on": on}))
"""


def test_off_without_the_endpoint_and_batched_to_otlp_http_with_it() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROCESS], capture_output=True, text=True, timeout=60, check=True
    )
    found = json.loads(out.stdout)
    assert found["off"] == {
        "loaded": [],  # neither an exporter nor any instrumentation was even imported
        "provider": "ProxyTracerProvider",
        "threads": [],
        "application": True,
        "app": False,
        "middlewares": [],
        "interceptors": [],
    }
    assert found["on"] == {
        "global": True,
        "service": "orders-test",
        "processor": "BatchSpanProcessor",
        "endpoint": "http://127.0.0.1:9/v1/traces",
        "asyncpg": True,
        "application": True,  # the middleware is added explicitly, web.Application untouched
        "middleware": "opentelemetry.instrumentation.aiohttp_server",
    }


def test_the_variables_name_the_collector_and_the_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/")
    assert tracing.tracing_config(make_settings()) == tracing.TracingConfig(
        "http://collector:4318/", "orders"
    )
    monkeypatch.setenv("OTEL_SERVICE_NAME", "orders-eu")
    config = tracing.tracing_config(make_settings())
    assert config == tracing.TracingConfig("http://collector:4318/", "orders-eu")
    assert config.traces_url == "http://collector:4318/v1/traces"  # OTLP/HTTP's traces path
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")  # compose's unset variable: off
    assert tracing.tracing_config(make_settings()) is None
    with pytest.raises(ValidationError, match="OTLP/HTTP base URL"):
        make_settings(otel_exporter_otlp_endpoint="127.0.0.1:4318")


def test_a_trace_starts_where_work_enters() -> None:
    exporter = InMemorySpanExporter()
    provider = instrumentation.tracer_provider("orders-test")
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
