"""Traces with OpenTelemetry: one trace per order, from `POST /orders/` to `process_order`.

Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set: then `orders serve` and `orders celery` call
`start()`, which exports over OTLP/HTTP and instruments asyncpg, aio-pika and Celery; the
app adds the HTTP server middleware, every Temporal client gets Temporal's interceptor,
and the relay continues, from the traceparent stored with each outbox row, the trace of
the request (or activity, or task) that wrote it. Without the endpoint nothing here runs.

Sampling: a child follows its parent's decision. A root span is kept where work enters (a
request, a message, a task); a client call with no parent (the relay's claim every second,
the backlog monitor's count, a readiness ping) and the probes' requests are not traces.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Middleware
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation import aiohttp_server
from opentelemetry.instrumentation.aio_pika import AioPikaInstrumentor
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.instrumentation.celery import CeleryInstrumentor
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import Decision, ParentBased, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes
from temporalio.client import Interceptor
from temporalio.contrib.opentelemetry import TracingInterceptor

from relay.outbox import Handoff
from service.settings import Settings
from store.outbox import OutboxRow
from usecases.trace_context import context_from

log = logging.getLogger(__name__)

# Requests of probes and scrapers: frequent, and no order's business.
PROBES: Final = frozenset({"GET /health", "GET /ready", "GET /metrics"})


@dataclass(frozen=True, slots=True)
class TracingConfig:
    endpoint: str  # the collector's OTLP/HTTP base URL, e.g. http://127.0.0.1:4318
    service_name: str = "orders"

    @property
    def traces_url(self) -> str:
        """The traces path under the base URL, as the OTLP specification builds it."""
        return self.endpoint.rstrip("/") + "/v1/traces"


def tracing_config(settings: Settings) -> TracingConfig | None:
    if not settings.otel_exporter_otlp_endpoint:
        return None
    return TracingConfig(settings.otel_exporter_otlp_endpoint, settings.otel_service_name)


class _WhereWorkEnters(Sampler):
    """For root spans only (ParentBased asks it when a span has no parent)."""

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        if kind is SpanKind.CLIENT or name in PROBES:
            return SamplingResult(Decision.DROP)
        return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes)

    def get_description(self) -> str:
        return "WhereWorkEnters"


def tracer_provider(service_name: str) -> TracerProvider:
    """A provider with our resource and sampler, and no exporter yet."""
    return TracerProvider(
        resource=Resource.create({SERVICE_NAME: service_name}),
        sampler=ParentBased(root=_WhereWorkEnters()),
    )


def start(config: TracingConfig) -> TracerProvider:
    """Export over OTLP/HTTP in batches and instrument the libraries; once per process."""
    provider = tracer_provider(config.service_name)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=config.traces_url)))
    trace.set_tracer_provider(provider)
    instrument(provider)
    log.info("tracing on endpoint=%s service=%s", config.traces_url, config.service_name)
    return provider


def start_from(settings: Settings) -> TracerProvider | None:
    """What the commands call: tracing when the endpoint is set, else nothing at all."""
    config = tracing_config(settings)
    return start(config) if config else None


def _libraries() -> tuple[BaseInstrumentor, ...]:
    """The instrumentors of asyncpg, aio-pika and Celery (each one a singleton)."""
    return (AsyncPGInstrumentor(), AioPikaInstrumentor(), CeleryInstrumentor())  # type: ignore[no-untyped-call]


def instrument(provider: TracerProvider) -> None:
    """Instrument asyncpg, aio-pika and Celery, and prepare the HTTP server middleware."""
    for library in _libraries():
        library.instrument(tracer_provider=provider)
    # The middleware reads module state that only instrument() sets (excluded URLs, its
    # meters); instrument() also swaps web.Application for a subclass that adds the
    # middleware itself (aiohttp warns about such subclasses). We add the middleware
    # explicitly (server_middleware), so undo the swap.
    application = web.Application
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Inheritance class", DeprecationWarning)
        aiohttp_server.AioHttpServerInstrumentor().instrument(tracer_provider=provider)
    web.Application = application  # type: ignore[misc]


def uninstrument() -> None:
    """Undo `instrument()` (tests: other tests run uninstrumented)."""
    for library in _libraries():
        library.uninstrument()
    aiohttp_server.AioHttpServerInstrumentor().uninstrument()


def server_middleware(provider: TracerProvider) -> Middleware:
    """The server span of each request, continuing a caller's `traceparent` if it sent one."""
    middleware: Middleware = aiohttp_server.create_aiohttp_middleware(tracer_provider=provider)
    return middleware


def temporal_interceptors(provider: TracerProvider | None) -> list[Interceptor]:
    """For every Temporal client: spans for starts, signals, workflow runs and activities,
    and the context carried in Temporal's headers from one to the next."""
    if provider is None:
        return []
    return [TracingInterceptor(provider.get_tracer("temporalio.contrib.opentelemetry"))]


@dataclass(frozen=True, slots=True)
class TracedHandoff:
    """The relay's Handoff, run inside the trace of the request that wrote the row."""

    handoff: Handoff

    @property
    def errors(self) -> tuple[type[Exception], ...]:
        return self.handoff.errors

    async def hand_over(self, row: OutboxRow) -> None:
        token = otel_context.attach(context_from(row.traceparent))
        try:
            await self.handoff.hand_over(row)
        finally:
            otel_context.detach(token)
