"""OrderWorkflow: one order's durable life, from its `new_order` event to its final status.

It publishes the order's events to RabbitMQ in order (retrying until the broker
answers; the first attempt at each event runs as a local activity, inside the workflow
task), cancels an order still unpaid after the payment timeout, follows the status
changes and the `processed` signal the relay delivers from the outbox, and completes
once the order is final and processed (or canceled before processing). It does not trust
the hops after RabbitMQ: no `processed` within the processing timeout, and it publishes
`new_order` again (same event id, so the effect still happens once), waiting longer each
time. An activity input that can never work parks the order: the workflow fails with
the reason, for an operator to fix and reset.
Deterministic: time comes from `workflow.now()` and timers, I/O only through activities.

Every change to what it does goes behind `workflow.patched` (the PATCH_* ids in
`workflows.names`), so histories recorded by earlier versions still replay:
`WORKFLOW_VERSION` names the folder of tests/histories/ that the current code records into.

No `from __future__ import annotations` here: a sandboxed run executes this module again
and `workflow.defn` reads the handlers' type hints, which would be strings to compile and
resolve on every run (docs/architecture.md "The workflow sandbox").
"""

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

# Loaded once, outside the sandbox: deterministic modules, and the payload types must
# be the real classes (with the real datetime) for the data converter.
with workflow.unsafe.imports_passed_through():
    from activities.order import OrderActivities
    from activities.types import ExpireInput, PublishInput, PublishResult
    from core.backoff import BackoffPolicy
    from core.events import NEW_ORDER, STATUS_CHANGED
    from core.lifecycle import INITIAL_STATUS, OrderStatus, is_final
    from core.timeline import TimelineKind
    from workflows.names import (
        ORDER_STATUS,
        PATCH_LOCAL_PUBLISH,
        PATCH_LOCAL_STATUS,
        PATCH_PARK,
        PATCH_RECONCILE,
        QUERY_LIFECYCLE,
        SIGNAL_PROCESSED,
        SIGNAL_STATUS_CHANGED,
        WORKFLOW_NAME,
    )
    from workflows.policies import (
        ACTIVITY_TIMEOUT,
        LOCAL_TIMEOUT,
        MAX_PROCESSING_WAIT_SECONDS,
        ONE_ATTEMPT,
        RETRY_FOREVER,
    )
    from workflows.types import (
        LifecycleEntry,
        LifecycleView,
        OrderWorkflowInput,
        Processed,
        StatusChanged,
    )


@workflow.defn(name=WORKFLOW_NAME)
class OrderWorkflow:
    @workflow.init
    def __init__(self, order: OrderWorkflowInput) -> None:
        self._order_id = order.order_id
        self._status = INITIAL_STATUS
        self._processed = False
        self._queue: list[StatusChanged] = []  # status events received, not yet published
        self._seen: set[str] = set()  # event ids: the relay may deliver a signal twice
        self._published: list[str] = []
        self._timeline = [
            LifecycleEntry(TimelineKind.CREATED.value, order.created_at, order.event_id)
        ]

    @workflow.run
    async def run(self, order: OrderWorkflowInput) -> LifecycleView:
        duties = [self._publish_all(order), self._watch_payment(order)]
        if workflow.patched(PATCH_RECONCILE):
            duties.append(self._reconcile_processing(order))
        try:
            await asyncio.gather(*duties)
        except ActivityError as exc:
            reason = _poison(exc)
            if reason is None or not workflow.patched(PATCH_PARK):
                raise
            self._note(TimelineKind.PARKED, workflow.now(), reason)
            workflow.logger.error("order parked order_id=%s reason=%s", self._order_id, reason)
            raise ApplicationError(f"order parked: {reason}", non_retryable=True) from exc
        workflow.logger.info(
            "order workflow complete order_id=%s status=%s processed=%s",
            self._order_id,
            self._status,
            self._processed,
        )
        return self.lifecycle()

    @workflow.signal(name=SIGNAL_STATUS_CHANGED)
    def status_changed(self, change: StatusChanged) -> None:
        if change.event_id in self._seen:
            return
        self._seen.add(change.event_id)
        self._status = OrderStatus(change.new_status)
        self._queue.append(change)
        self._note(
            TimelineKind.STATUS_CHANGED,
            change.changed_at,
            f"{change.old_status}->{change.new_status}",
        )
        workflow.upsert_search_attributes([ORDER_STATUS.value_set(change.new_status)])
        workflow.logger.info(
            "order status changed order_id=%s %s->%s",
            self._order_id,
            change.old_status,
            change.new_status,
        )

    @workflow.signal(name=SIGNAL_PROCESSED)
    def processed(self, done: Processed) -> None:
        if self._processed:
            return
        self._processed = True
        self._note(TimelineKind.PROCESSED, done.processed_at, done.event_id)
        workflow.logger.info("order processed order_id=%s", self._order_id)

    @workflow.query(name=QUERY_LIFECYCLE)
    def lifecycle(self) -> LifecycleView:
        return LifecycleView(
            order_id=self._order_id,
            status=self._status.value,
            processed=self._processed,
            published_event_ids=tuple(self._published),
            timeline=tuple(self._timeline),
        )

    def _over(self) -> bool:
        """Final and processed, or canceled (before or after processing)."""
        return is_final(self._status) and (self._processed or self._status is OrderStatus.CANCELED)

    async def _publish_all(self, order: OrderWorkflowInput) -> None:
        """Publish `new_order`, then every status event in the order it arrived."""
        await self._publish(
            order.event_id,
            NEW_ORDER,
            order.event_json,
            order.correlation_id,
            local_first=workflow.patched(PATCH_LOCAL_PUBLISH),
        )
        while True:
            await workflow.wait_condition(lambda: bool(self._queue) or self._over())
            if not self._queue:
                return
            change = self._queue[0]
            await self._publish(
                change.event_id,
                STATUS_CHANGED,
                change.event_json,
                change.correlation_id,
                local_first=workflow.patched(PATCH_LOCAL_STATUS),
            )
            self._queue.pop(0)

    async def _publish(
        self,
        event_id: str,
        event_type: str,
        body: str,
        correlation_id: str,
        reason: str = "",
        *,
        local_first: bool = False,
    ) -> None:
        """`local_first`: one attempt as a local activity, then the regular activity."""
        event = PublishInput(self._order_id, event_id, event_type, body, correlation_id, reason)
        result = None
        if local_first:
            result = await self._publish_locally(event)
        if result is None:
            result = await workflow.execute_activity_method(
                OrderActivities.publish_event,
                event,
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=RETRY_FOREVER,
            )
        if event_id not in self._published:
            self._published.append(event_id)
        detail = f"{event_type} {event_id}" + (f" ({reason})" if reason else "")
        self._note(TimelineKind.PUBLISHED, result.published_at, detail)

    async def _publish_locally(self, event: PublishInput) -> PublishResult | None:
        """One attempt inside the workflow task (the common path: no activity task);
        None when it failed, and the regular activity takes over."""
        try:
            return await workflow.execute_local_activity_method(
                OrderActivities.publish_event,
                event,
                start_to_close_timeout=LOCAL_TIMEOUT,
                retry_policy=ONE_ATTEMPT,
            )
        except FailureError as exc:  # a local activity's failure comes unwrapped
            workflow.logger.warning(
                "local publish failed, retrying as an activity order_id=%s event_id=%s error=%s",
                self._order_id,
                event.event_id,
                exc,
            )
            return None

    async def _reconcile_processing(self, order: OrderWorkflowInput) -> None:
        """Publish `new_order` again while no `processed` comes (a task lost after the
        hand-off to Celery, a message dead-lettered): same event id, effect once."""
        timeout = order.processing_timeout_seconds
        waits = BackoffPolicy(initial=timeout, maximum=max(timeout, MAX_PROCESSING_WAIT_SECONDS))
        await workflow.wait_condition(lambda: order.event_id in self._published or self._over())
        republished = 0
        while True:
            try:
                await workflow.wait_condition(
                    lambda: self._processed or self._over(), timeout=waits.delay(republished)
                )
                return
            except TimeoutError:
                republished += 1
            waited = waits.delay(republished - 1)
            workflow.logger.warning(
                "order not processed %.0f s after publishing, publishing new_order again"
                " order_id=%s republished=%d",
                waited,
                self._order_id,
                republished,
            )
            reason = f"not processed after {waited:.0f} s, republish {republished}"
            await self._publish(
                order.event_id, NEW_ORDER, order.event_json, order.correlation_id, reason
            )

    async def _watch_payment(self, order: OrderWorkflowInput) -> None:
        """Cancel the order if it is still PENDING when the payment timeout runs out."""
        deadline = order.created_at + timedelta(seconds=order.payment_timeout_seconds)
        remaining = (deadline - workflow.now()).total_seconds()
        if remaining > 0:
            try:
                await workflow.wait_condition(
                    lambda: self._status is not OrderStatus.PENDING, timeout=remaining
                )
                return
            except TimeoutError:
                pass
        if self._status is not OrderStatus.PENDING:
            return
        # A conditional update in PostgreSQL: a concurrent PAID wins. Either way the
        # change that happened comes back as a status_changed signal from the outbox.
        result = await workflow.execute_activity_method(
            OrderActivities.expire_order,
            ExpireInput(self._order_id, order.user_id, order.correlation_id),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRY_FOREVER,
        )
        if result.canceled:
            self._note(TimelineKind.EXPIRED, workflow.now())
        workflow.logger.info(
            "payment timeout reached order_id=%s canceled=%s", self._order_id, result.canceled
        )

    def _note(self, kind: TimelineKind, at: datetime, detail: str = "") -> None:
        self._timeline.append(LifecycleEntry(kind.value, at, detail))


def _poison(error: ActivityError) -> str | None:
    """Why the activity can never succeed (its non-retryable failure); None if it can."""
    cause = error.cause
    if isinstance(cause, ApplicationError) and cause.non_retryable:
        return f"{error.activity_type}: {cause.message}"
    return None
