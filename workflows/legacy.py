"""The order workflow as versions 1 to 4 ran it: for the runs that unversioned workers began.

Version 5 is the first Worker Deployment Version: when it becomes current, the server
hands it every run that unversioned workers started (docs/architecture.md "Versions and
deploys"), and it must replay their histories, so it keeps their code here, unchanged,
with its patches (`PATCH_*`: each history takes the branch it took when recorded). Such a
run continues as new, as a version-5 run, at its first workflow task on a versioned
worker, whatever it was doing: the step in flight is done again, idempotently, by the new
run. So this code runs each inherited run for one task (the runs still on it: `orders
workflows versions`, "unversioned"). No `from __future__ import annotations`, as order.py.
"""

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

from workflows.handover import continue_as_new  # workflow code: sandboxed
from workflows.steps import poison

with workflow.unsafe.imports_passed_through():
    from activities.order import OrderActivities
    from activities.types import ExpireInput, PublishInput, PublishResult
    from core.backoff import BackoffPolicy
    from core.envelope import EventEnvelope
    from core.lifecycle import OrderStatus
    from core.timeline import TimelineKind
    from workflows.log import WorkflowLog
    from workflows.names import (
        PATCH_LOCAL_PUBLISH,
        PATCH_LOCAL_STATUS,
        PATCH_PARK,
        PATCH_RECONCILE,
    )
    from workflows.policies import (
        ACTIVITY_TIMEOUT,
        LOCAL_TIMEOUT,
        MAX_PROCESSING_WAIT_SECONDS,
        ONE_ATTEMPT,
        RETRY_FOREVER,
    )
    from workflows.state import RunState
    from workflows.types import LifecycleView


def inherited_by_versioned_worker() -> bool:
    """This workflow task runs on a worker of a Worker Deployment Version (read from the
    history on replay: deterministic). Never on the time-skipping server, which records
    no version, nor on an unversioned worker."""
    version = workflow.info().get_current_deployment_version()
    return version is not None and bool(version.deployment_name)


def plan_checks(state: RunState) -> None:
    """The version-5 run this one continues as starts a fresh round of processing checks
    if `new_order` went out and no `processed` came (v1-v4 counted their republishes in a
    local variable, not in the state)."""
    if state.event.event_id in state.published and not state.processed:
        state.processing_due = workflow.now() + timedelta(seconds=state.waits.delay(0))


class LegacyRun:
    def __init__(self, state: RunState, log: WorkflowLog) -> None:
        self._state = state
        self._log = log

    async def run(self) -> LifecycleView:
        state = self._state
        order_id = state.order_id
        duties = [self._publish_all(), self._watch_payment()]
        if workflow.patched(PATCH_RECONCILE):
            duties.append(self._reconcile_processing())
        # Created after the duties, so their commands keep the order v1-v4 recorded.
        done = asyncio.gather(*duties)
        leave = asyncio.ensure_future(workflow.wait_condition(inherited_by_versioned_worker))
        try:
            waiting: list[asyncio.Future[Any]] = [done, leave]
            await workflow.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if not done.done():
                self._log.info(
                    "order workflow of version 1-4 continues on this version order_id=%s",
                    order_id,
                )
                plan_checks(state)
                continue_as_new(state)
            leave.cancel()
            done.result()
        except ActivityError as exc:
            reason = poison(exc)
            if reason is None or not workflow.patched(PATCH_PARK):
                raise
            state.note(TimelineKind.PARKED, workflow.now(), reason)
            self._log.error("order parked order_id=%s reason=%s", order_id, reason)
            raise ApplicationError(f"order parked: {reason}", non_retryable=True) from exc
        self._log.info(
            "order workflow complete order_id=%s status=%s processed=%s",
            order_id,
            state.status,
            state.processed,
        )
        return state.view()

    async def _publish_all(self) -> None:
        state = self._state
        await self._publish(state.event, local_first=workflow.patched(PATCH_LOCAL_PUBLISH))
        while True:
            await workflow.wait_condition(lambda: bool(state.pending) or state.over())
            if not state.pending:
                return
            await self._publish(state.pending[0], local_first=workflow.patched(PATCH_LOCAL_STATUS))
            state.pending.pop(0)

    async def _publish(
        self, event: EventEnvelope, reason: str = "", *, local_first: bool = False
    ) -> None:
        publish = PublishInput(event, reason)
        result = None
        if local_first:
            result = await self._publish_locally(publish)
        if result is None:
            result = await workflow.execute_activity_method(
                OrderActivities.publish_event,
                publish,
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=RETRY_FOREVER,
            )
        detail = f"{event.event_type} {event.event_id}" + (f" ({reason})" if reason else "")
        self._state.note_published(event.event_id, result.published_at, detail)

    async def _publish_locally(self, event: PublishInput) -> PublishResult | None:
        try:
            return await workflow.execute_local_activity_method(
                OrderActivities.publish_event,
                event,
                start_to_close_timeout=LOCAL_TIMEOUT,
                retry_policy=ONE_ATTEMPT,
            )
        except FailureError as exc:
            self._log.warning(
                "local publish failed, retrying as an activity order_id=%s event_id=%s error=%s",
                event.event.aggregate_id,
                event.event.event_id,
                exc,
            )
            return None

    async def _reconcile_processing(self) -> None:
        state = self._state
        timeout = state.order.processing_timeout_seconds
        waits = BackoffPolicy(initial=timeout, maximum=max(timeout, MAX_PROCESSING_WAIT_SECONDS))
        await workflow.wait_condition(
            lambda: state.event.event_id in state.published or state.over()
        )
        republished = 0
        while True:
            try:
                await workflow.wait_condition(
                    lambda: state.processed or state.over(), timeout=waits.delay(republished)
                )
                return
            except TimeoutError:
                republished += 1
            waited = waits.delay(republished - 1)
            self._log.warning(
                "order not processed %.0f s after publishing, publishing new_order again"
                " order_id=%s republished=%d",
                waited,
                state.order_id,
                republished,
            )
            reason = f"not processed after {waited:.0f} s, republish {republished}"
            await self._publish(state.event, reason)

    async def _watch_payment(self) -> None:
        state = self._state
        remaining = (state.payment_deadline - workflow.now()).total_seconds()
        if remaining > 0:
            try:
                await workflow.wait_condition(
                    lambda: state.status is not OrderStatus.PENDING, timeout=remaining
                )
                return
            except TimeoutError:
                pass
        if state.status is not OrderStatus.PENDING:
            return
        result = await workflow.execute_activity_method(
            OrderActivities.expire_order,
            ExpireInput(state.order_id, state.order.user_id, state.correlation_id),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRY_FOREVER,
        )
        state.expiry_done = True
        if result.canceled:
            state.note(TimelineKind.EXPIRED, workflow.now())
        self._log.info(
            "payment timeout reached order_id=%s canceled=%s", state.order_id, result.canceled
        )
