"""The workflow's payloads: its input, its state handed over, its query's answer
(activities' are in `activities.types`). Its signals carry the event's envelope
(core.envelope) as it is.

They travel through Temporal's JSON converter, so they carry str, int, float, bool,
datetime and tuples only (no Decimal: amounts stay inside the event's JSON text).
A field added later must get a default, so recorded histories still decode. What versions
1-5 sent (another input shape, other signal shapes) is read by `workflows.inputs`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from core.envelope import EventEnvelope

# OrderWorkflowInput.revision: which version's code began the run. 1 (v1-v4's inputs had
# none) for a run v1-v4 code may have begun; 2 from v5's starter and continue-as-new; 3
# from v6's. Each run keeps the code of its revision (workflows/order.py).
LEGACY_REVISION: Final = 1
V5_REVISION: Final = 2
REVISION: Final = 3
# PROCESSING_TIMEOUT's default (service.settings reads it from here), and what a run whose
# input does not carry one waits before its first processing check.
PROCESSING_TIMEOUT_SECONDS: Final = 300.0


@dataclass(frozen=True)
class OrderWorkflowInput:
    event: EventEnvelope  # the order's `new_order` event: the contract's message body
    user_id: int
    payment_timeout_seconds: float
    # Not processed this long after `new_order` was published: check, publish it again.
    # The starter always sets it (the setting's value); the default is there so an input
    # recorded without it still decodes.
    processing_timeout_seconds: float = PROCESSING_TIMEOUT_SECONDS
    revision: int = REVISION
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
    pending: tuple[EventEnvelope, ...] = ()  # status events received, not yet published
    timeline: tuple[LifecycleEntry, ...] = ()
    republishes: int = 0  # `new_order` published again, in all
    checks: int = 0  # processing checks since the last `processed`-less round began
    phase: str = ""  # the OrderPhase search attribute's value ("": none)
    processing_due: datetime | None = None  # the next processing check; None: none planned
    expiry_done: bool = False  # the payment timeout was acted on


@dataclass(frozen=True)
class StatusChange:
    """What a `status_changed` signal tells the run: the event to publish, and the change."""

    event: EventEnvelope
    old_status: str
    new_status: str
    changed_at: datetime


@dataclass(frozen=True)
class LifecycleEntry:
    """A step of the order's life as the workflow itself noted it (`RunState.note`),
    for its query, its result and the state a continued run inherits.

    Not core.timeline.TimelineEntry, which the API serves, read from the history by
    workflows.timeline: this one's JSON (`kind`, `at`, a `detail` string) is recorded in
    every v6 history, in each continue-as-new input (OrderState.timeline) and in each
    completed run's result, and a continued run decodes its input through this class. One
    model for both would change those payloads: a new workflow version, whose input
    reader still takes this shape. Until then the kinds are shared (TimelineKind values)
    and this one stays a flat record of the run's own bookkeeping."""

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
