"""What an order's workflow knows, kept apart from what it does: plain data and rules, no
Temporal call, so the rules are tested alone (tests/unit/test_order_state.py).

One run's state comes from its input: a new order's, or the `OrderState` the run it
continues handed over (`handover()`), so a continue-as-new loses nothing it knew.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from activities.types import CheckResult
from core.backoff import BackoffPolicy
from core.lifecycle import INITIAL_STATUS, OrderStatus, is_final
from core.timeline import TimelineKind
from workflows.names import OrderPhase
from workflows.policies import MAX_PROCESSING_WAIT_SECONDS, PROCESSING_CHECKS
from workflows.types import (
    LifecycleEntry,
    LifecycleView,
    OrderState,
    OrderWorkflowInput,
    StatusChange,
)


@dataclass(frozen=True, slots=True)
class CheckStep:
    """What a processing check that found no `processed` leads to."""

    republish: bool  # nothing waits in the queues: publish `new_order` again
    stuck: bool  # the last check of the round: stop, and wait for an operator


class RunState:
    def __init__(self, order: OrderWorkflowInput) -> None:
        self.order = order
        self.event = order.event  # the order's `new_order` event
        self.order_id = order.event.aggregate_id
        carried = order.state
        if carried is None:
            created = LifecycleEntry(
                TimelineKind.CREATED.value, self.created_at, self.event.event_id
            )
            carried = OrderState(status=INITIAL_STATUS.value, processed=False, timeline=(created,))
        self.status = OrderStatus(carried.status)
        self.processed = carried.processed
        self.seen = set(carried.seen)  # the relay may deliver a signal twice
        self.published = list(carried.published)
        self.pending = list(carried.pending)  # status events received, not yet published
        self.timeline = list(carried.timeline)
        self.republishes = carried.republishes
        self.checks = carried.checks
        self.phase = carried.phase
        self.processing_due = carried.processing_due
        self.expiry_done = carried.expiry_done
        self.retry_requested = False  # an operator's `retry_processing` signal, not yet acted on

    @property
    def created_at(self) -> datetime:
        return self.event.occurred_at

    @property
    def correlation_id(self) -> str:
        return self.event.correlation_id

    @property
    def payment_deadline(self) -> datetime:
        return self.created_at + timedelta(seconds=self.order.payment_timeout_seconds)

    def over(self) -> bool:
        """Final and processed, or canceled (before or after processing)."""
        return is_final(self.status) and (self.processed or self.status is OrderStatus.CANCELED)

    def take_status_change(self, change: StatusChange) -> bool:
        """Record a status change; False for one already taken."""
        if change.event.event_id in self.seen:
            return False
        self.seen.add(change.event.event_id)
        self.status = OrderStatus(change.new_status)
        self.pending.append(change.event)
        detail = f"{change.old_status}->{change.new_status}"
        self.note(TimelineKind.STATUS_CHANGED, change.changed_at, detail)
        return True

    def take_processed(self, event_id: str, at: datetime) -> bool:
        """Record that `process_order` recorded the order; False when known already."""
        if self.processed:
            return False
        self.processed = True
        self.processing_due = None
        if self.phase in (OrderPhase.REPUBLISHING, OrderPhase.STUCK):
            self.phase = OrderPhase.PROCESSED
        self.note(TimelineKind.PROCESSED, at, event_id)
        return True

    def note_published(self, event_id: str, at: datetime, detail: str) -> None:
        if event_id not in self.published:
            self.published.append(event_id)
        self.note(TimelineKind.PUBLISHED, at, detail)

    def note(self, kind: TimelineKind, at: datetime, detail: str = "") -> None:
        self.timeline.append(LifecycleEntry(kind.value, at, detail))

    @property
    def waits(self) -> BackoffPolicy:
        """The waits between processing checks: PROCESSING_TIMEOUT, doubling, capped."""
        timeout = self.order.processing_timeout_seconds
        return BackoffPolicy(initial=timeout, maximum=max(timeout, MAX_PROCESSING_WAIT_SECONDS))

    def schedule_check(self, now: datetime) -> None:
        """The next processing check: a timeout after `new_order` reached RabbitMQ, then
        longer after each check (none once processed, or stuck)."""
        if not self.processed and self.phase != OrderPhase.STUCK:
            self.processing_due = now + timedelta(seconds=self.waits.delay(self.checks))

    def after_check(self, result: CheckResult) -> CheckStep | None:
        """A processing check's answer: None when the order was processed after all."""
        if result.processed_at is not None:
            self.take_processed("found processed in PostgreSQL", result.processed_at)
            return None
        self.checks += 1
        # A backlog is not a loss: the order may wait in it. Unknown counts as a backlog.
        backlog = result.waiting is None or result.waiting > 0
        stuck = self.checks >= PROCESSING_CHECKS
        self.phase = OrderPhase.STUCK if stuck else OrderPhase.REPUBLISHING
        self.processing_due = None  # set again once the step is done (schedule_check)
        if not backlog:
            self.republishes += 1
        return CheckStep(republish=not backlog, stuck=stuck)

    def retry(self, now: datetime) -> bool:
        """An operator's retry of a stuck order: a new round of checks, the first one now."""
        self.retry_requested = False
        if self.phase != OrderPhase.STUCK or self.processed:
            return False
        self.checks = 0
        self.phase = OrderPhase.REPUBLISHING
        self.processing_due = now
        return True

    def deadlines(self, *, checking: bool, expiring: bool) -> list[datetime]:
        """What the run must wake up for: its next processing check, while `new_order` is
        published and neither processed, nor stuck, nor being checked; the payment timeout,
        while the order is PENDING and it was not acted on."""
        due = []
        if self.processing_due is not None and not self.processed and not checking:
            due.append(self.processing_due)
        if self.status is OrderStatus.PENDING and not self.expiry_done and not expiring:
            due.append(self.payment_deadline)
        return due

    def view(self) -> LifecycleView:
        return LifecycleView(
            order_id=self.order_id,
            status=self.status.value,
            processed=self.processed,
            published_event_ids=tuple(self.published),
            timeline=tuple(self.timeline),
        )

    def handover(self) -> OrderState:
        """Everything the next run needs to carry on where this one stands."""
        return OrderState(
            status=self.status.value,
            processed=self.processed,
            seen=tuple(sorted(self.seen)),
            published=tuple(self.published),
            pending=tuple(self.pending),
            timeline=tuple(self.timeline),
            republishes=self.republishes,
            checks=self.checks,
            phase=self.phase,
            processing_due=self.processing_due,
            expiry_done=self.expiry_done,
        )

    def summary(self) -> str:
        """A line for the Temporal UI's current details."""
        parts = [self.status.value, "processed" if self.processed else "not processed yet"]
        if self.republishes:
            parts.append(f"new_order republished {self.republishes}x")
        if self.phase:
            parts.append(f"phase {self.phase}")
        if self.pending:
            parts.append(f"{len(self.pending)} status event(s) to publish")
        return ", ".join(parts)
