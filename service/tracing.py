"""Traces with OpenTelemetry: one trace per order, from `POST /orders/` to `process_order`.

Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set: then `orders serve` and `orders celery` call
`start_from()`, which exports over OTLP/HTTP and instruments asyncpg, aio-pika and Celery
(`service.instrumentation`, imported only then); the app adds the HTTP server middleware,
every Temporal client gets Temporal's interceptor, and the relay continues, from the
traceparent stored with each outbox row, the trace of the request (or activity, or task)
that wrote it. Without the endpoint none of it runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from opentelemetry import context as otel_context
from opentelemetry.trace import TracerProvider

from service.settings import Settings
from usecases.trace_context import context_from

if TYPE_CHECKING:  # `orders celery` starts tracing too, and loads none of the relay
    from aiohttp.typedefs import Middleware
    from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
    from temporalio.client import Interceptor

    from relay.outbox import Handoff
    from store.outbox import OutboxRow


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


def start_from(settings: Settings) -> SdkTracerProvider | None:
    """What the commands call: tracing when the endpoint is set, else nothing at all."""
    config = tracing_config(settings)
    if config is None:
        return None
    from service import instrumentation

    return instrumentation.start(traces_url=config.traces_url, service_name=config.service_name)


def server_middleware(provider: TracerProvider) -> Middleware:
    """The server span of each request, continuing a caller's `traceparent` if it sent one
    (after `instrumentation.instrument()`, which prepares the library's state)."""
    from opentelemetry.instrumentation.aiohttp_server import create_aiohttp_middleware

    middleware: Middleware = create_aiohttp_middleware(tracer_provider=provider)
    return middleware


def temporal_interceptors(provider: TracerProvider | None) -> list[Interceptor]:
    """For every Temporal client: spans for starts, signals, workflow runs and activities,
    and the context carried in Temporal's headers from one to the next."""
    if provider is None:
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor(provider.get_tracer("temporalio.contrib.opentelemetry"))]


@dataclass(frozen=True, slots=True)
class TracedHandoff:
    """The relay's Handoff, run inside the trace of the request that wrote the row."""

    handoff: Handoff

    @property
    def errors(self) -> tuple[type[Exception], ...]:
        return self.handoff.errors

    async def hand_over(self, row: OutboxRow) -> None:
        token = otel_context.attach(context_from(row.envelope.traceparent))
        try:
            await self.handoff.hand_over(row)
        finally:
            otel_context.detach(token)
