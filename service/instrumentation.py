"""The OpenTelemetry SDK side of tracing, imported only when tracing is on (it is heavy):
the tracer provider with our resource and sampler, the OTLP/HTTP exporter, and the
instrumentation of asyncpg, aio-pika, Celery and the aiohttp server.

Sampling: a child follows its parent's decision. A root span is kept where work enters (a
request, a message, a task); a client call with no parent (the relay's claim every second,
the backlog monitor's count, a readiness ping) and the probes' requests start no trace.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from typing import Final

from aiohttp import web
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

log = logging.getLogger(__name__)

# Requests of probes and scrapers: frequent, and no order's business.
PROBES: Final = frozenset({"GET /health", "GET /ready", "GET /metrics"})


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


def start(*, traces_url: str, service_name: str) -> TracerProvider:
    """Export over OTLP/HTTP in batches and instrument the libraries; once per process."""
    provider = tracer_provider(service_name)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=traces_url)))
    trace.set_tracer_provider(provider)
    instrument(provider)
    log.info("tracing on endpoint=%s service=%s", traces_url, service_name)
    return provider


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
    # explicitly (service.tracing.server_middleware), so undo the swap.
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
