"""The trace context an event carries across the outbox: the W3C `traceparent` of the
span current when the event is written (an HTTP request, an activity, a Celery task).

The outbox is an asynchronous hop: the request that wrote a row has finished before the
relay reads it, so the context is stored with the row and the relay continues the trace
from it. Only the OpenTelemetry API is used here: with tracing off there is no current
span, `current_traceparent()` is None and the rows carry NULL.
"""

from __future__ import annotations

from opentelemetry.context import Context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

TRACEPARENT = "traceparent"
_W3C = TraceContextTextMapPropagator()


def current_traceparent() -> str | None:
    """The current span's `traceparent` (sampled or not), or None outside any span."""
    carrier: dict[str, str] = {}
    _W3C.inject(carrier)
    return carrier.get(TRACEPARENT)


def context_from(traceparent: str | None) -> Context:
    """A context whose parent is the span `traceparent` names (empty when None or invalid)."""
    return _W3C.extract({TRACEPARENT: traceparent} if traceparent else {})
