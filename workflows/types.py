"""The workflow's and the activities' payloads: one frozen dataclass in, one out.

They travel through Temporal's JSON converter, so they carry str, int, float, bool,
datetime and tuples only (no Decimal: amounts stay inside the event's JSON text).
A field added later must get a default, so recorded histories still decode.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class OrderWorkflowInput:
    order_id: str
    user_id: int
    event_id: str
    event_json: str  # the `new_order` event, the contract's message body
    created_at: datetime
    payment_timeout_seconds: float
    correlation_id: str = ""  # of the request that created the order


@dataclass(frozen=True)
class StatusChanged:
    """Signal: the order's status changed in PostgreSQL (its `order_status_changed` event)."""

    event_id: str
    old_status: str
    new_status: str
    changed_at: datetime
    event_json: str
    correlation_id: str = ""  # of the request (or expiry) that changed it


@dataclass(frozen=True)
class Processed:
    """Signal: Celery's `process_order` recorded its effect."""

    event_id: str
    processed_at: datetime


@dataclass(frozen=True)
class PublishInput:
    order_id: str
    event_id: str
    event_type: str  # also the routing key
    body: str
    correlation_id: str = ""  # becomes the message's AMQP correlation_id


@dataclass(frozen=True)
class PublishResult:
    published_at: datetime


@dataclass(frozen=True)
class ExpireInput:
    order_id: str
    user_id: int
    correlation_id: str = ""


@dataclass(frozen=True)
class ExpireResult:
    canceled: bool


@dataclass(frozen=True)
class LifecycleEntry:
    kind: str  # created | published | status_changed | processed | expired
    at: datetime
    detail: str = ""


@dataclass(frozen=True)
class LifecycleView:
    """The `lifecycle` query's answer, and the workflow's result."""

    order_id: str
    status: str
    processed: bool
    published_event_ids: tuple[str, ...] = ()
    timeline: tuple[LifecycleEntry, ...] = ()
