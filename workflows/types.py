"""The workflow's payloads: its input, its signals, its query's answer (activities' are in
`activities.types`).

They travel through Temporal's JSON converter, so they carry str, int, float, bool,
datetime and tuples only (no Decimal: amounts stay inside the event's JSON text).
A field added later must get a default, so recorded histories still decode.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

# OrderWorkflowInput.revision: 1 (the default, so the inputs of v1-v4 runs decode as it)
# for a run that v1-v4 code may have begun; 2 from v5's starter and continue-as-new on.
LEGACY_REVISION: Final = 1
REVISION: Final = 2


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
    revision: int = LEGACY_REVISION  # REVISION from v5's starter on (workflows/order.py)
    state: OrderState | None = None  # what the run it continues handed over; None: a new order


@dataclass(frozen=True)
class OrderState:
    """What one run of an order's workflow hands to the next when it continues as new (on
    a newer version, or to start a fresh history): everything it knows, nothing it was
    doing. A step in flight (a publish, an expiry, a processing check) is done again by
    the next run, and every one of them is idempotent."""

    status: str
    processed: bool
    seen: tuple[str, ...] = ()  # signal event ids already taken (the relay may repeat one)
    published: tuple[str, ...] = ()  # event ids RabbitMQ confirmed
    pending: tuple[StatusChanged, ...] = ()  # status events received, not yet published
    timeline: tuple[LifecycleEntry, ...] = ()
    republishes: int = 0  # `new_order` published again, in all
    checks: int = 0  # processing checks since the last `processed`-less round began
    phase: str = ""  # the OrderPhase search attribute's value ("": none)
    processing_due: datetime | None = None  # the next processing check; None: none planned
    expiry_done: bool = False  # the payment timeout was acted on


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
