"""The workflow's payloads: its input, its signals, its query's answer (activities' are in
`activities.types`).

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
    # Not processed this long after `new_order` was published: publish it again.
    processing_timeout_seconds: float = 300.0


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
class LifecycleEntry:
    kind: str  # a core.timeline.TimelineKind value
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
