"""The event envelope: one event as every hop carries it, from the outbox to Celery.

An envelope says what the event is (its id and type), what it is about (the aggregate: an
order), when it happened, which request caused it (correlation id, W3C traceparent), and
holds the event's JSON text as written, the payload, which no hop in between decodes: the
relay routes by the type (core.registry), RabbitMQ's message body is the payload as it is
(the contract's), and only the payload's own readers parse it (core.events).

It is the outbox row (store.outbox), the workflow's input and signals (workflows.types),
the publish activity's input (activities.types), the RabbitMQ message's properties
(messaging.envelope) and the Celery task's argument (processing.dispatch). Temporal's JSON
converter carries it as it is (str and datetime only); `to_dict`/`from_dict` are the codec
of the hops outside Temporal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class EventEnvelope:
    event_id: str  # a UUID: the outbox row's id, the message id, the Celery task id
    event_type: str  # a core.registry name: also how the event is routed
    aggregate_id: str  # the order's id (a UUID)
    occurred_at: datetime  # when the event was written (timezone-aware)
    payload: str  # the event's JSON text, as written: RabbitMQ's message body
    correlation_id: str = ""  # of the request that caused it ("": none)
    traceparent: str = ""  # the writer's W3C trace context ("": not traced)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["occurred_at"] = self.occurred_at.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EventEnvelope:
        """The envelope `to_dict` gave; KeyError, TypeError or ValueError when it is not one."""
        return cls(
            event_id=str(data["event_id"]),
            event_type=str(data["event_type"]),
            aggregate_id=str(data["aggregate_id"]),
            occurred_at=datetime.fromisoformat(str(data["occurred_at"])),
            payload=str(data["payload"]),
            correlation_id=str(data.get("correlation_id") or ""),
            traceparent=str(data.get("traceparent") or ""),
        )
