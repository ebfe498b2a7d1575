"""An order's life from version 5 on, for a run it began. The publisher (workflows.publishing)
puts `new_order` on RabbitMQ, then each status event in the order it arrived; meanwhile the
run's loop keeps ONE timer (workflows.alarm), for the nearest deadline, and starts the step
that falls due:
- a processing check: no `processed` came in time, so ask PostgreSQL (and the queues):
  processed after all, it completes that step; still waiting in a backlog, it waits
  again; neither, it publishes `new_order` again (same event id: the effect happens
  once); after PROCESSING_CHECKS of them the order is stuck, and waits for `processed`
  or an operator's `retry_processing` signal, with no timer (bounded history);
- the payment timeout: an order still PENDING is canceled (a conditional update);
between two of them, a newer current version (or a long history) makes the run continue
as new (workflows.handover). No `from __future__ import annotations`, as in order.py.
"""

import asyncio
from collections.abc import Coroutine
from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

# Workflow code: sandboxed.
from workflows.alarm import Alarm
from workflows.handover import continue_as_new, upsert_phase
from workflows.publishing import Publishing
from workflows.steps import poison, run_step

with workflow.unsafe.imports_passed_through():
    from activities.order import OrderActivities
    from activities.types import CheckInput, ExpireInput
    from core.lifecycle import OrderStatus
    from core.timeline import TimelineKind
    from workflows.log import WorkflowLog
    from workflows.names import OrderPhase
    from workflows.policies import HISTORY_LIMIT
    from workflows.state import RunState
    from workflows.types import REVISION, LifecycleView


class Lifecycle:
    def __init__(self, state: RunState, log: WorkflowLog) -> None:
        self._state = state
        self._log = log
        self._checking = False
        self._expiring = False
        self._running: list[asyncio.Task[None]] = []
        self._publishing = Publishing(state, log)
        self._alarm = Alarm(keeps_later_timer=state.order.revision >= REVISION)

    async def run(self) -> LifecycleView:
        state = self._state
        publisher = self._start(self._publishing.run())
        await workflow.wait_condition(lambda: self._publishing.settled or publisher.done())
        while True:
            self._reap()
            if publisher.done() and not self._running:
                break
            if state.retry_requested and state.retry(workflow.now()):
                # The check it starts now sets the phase.
                self._log.info("order retries processing order_id=%s", state.order_id)
            if self._should_continue_as_new():
                self._continue_as_new()
            due = self._nearest()
            now = workflow.now()
            if due is not None and due <= now:
                self._start_due(now)
                continue
            workflow.set_current_details(state.summary())
            await self._alarm.wait(self._nearest, self._wake, now)
        self._log.info(
            "order workflow complete order_id=%s status=%s processed=%s",
            state.order_id,
            state.status,
            state.processed,
        )
        return state.view()

    def _nearest(self) -> datetime | None:
        deadlines = self._state.deadlines(checking=self._checking, expiring=self._expiring)
        return min(deadlines, default=None)

    def _wake(self) -> bool:
        """Something the loop must act on besides a deadline (the alarm's): a step ended
        or failed, an operator's retry, a newer version."""
        state = self._state
        return (
            any(task.done() for task in self._running)
            or (state.retry_requested and not self._checking)
            or (state.over() and not state.pending)
            or self._should_continue_as_new()
        )

    def _should_continue_as_new(self) -> bool:
        info = workflow.info()
        return (
            info.is_target_worker_deployment_version_changed()
            or info.get_current_history_length() > HISTORY_LIMIT
        )

    def _continue_as_new(self) -> None:
        self._log.info(
            "order workflow continues as new order_id=%s history_length=%d",
            self._state.order_id,
            workflow.info().get_current_history_length(),
        )
        continue_as_new(self._state)

    def _start_due(self, now: datetime) -> None:
        state = self._state
        if state.processing_due is not None and state.processing_due <= now and not self._checking:
            state.processing_due = None
            self._checking = True
            self._start(self._check())
        payment_due = state.status is OrderStatus.PENDING and now >= state.payment_deadline
        if payment_due and not self._expiring and not state.expiry_done:
            self._expiring = True
            self._start(self._expire())

    def _start(self, step: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(step)
        self._running.append(task)
        return task

    def _reap(self) -> None:
        """Forget the steps that ended; one that failed parks the order, or fails the task."""
        for task in [t for t in self._running if t.done()]:
            self._running.remove(task)
            failure = task.exception()
            if failure is not None:
                self._park(failure)

    def _park(self, failure: BaseException) -> None:
        reason = poison(failure)
        if reason is None:
            raise failure
        state = self._state
        state.note(TimelineKind.PARKED, workflow.now(), reason)
        state.phase = OrderPhase.PARKED
        upsert_phase(state)
        self._log.error("order parked order_id=%s reason=%s", state.order_id, reason)
        raise ApplicationError(f"order parked: {reason}", non_retryable=True) from failure

    async def _check(self) -> None:
        """The processing deadline passed with no `processed`: ask, then act on the answer."""
        state = self._state
        order_id = state.order_id
        try:
            waited = state.waits.delay(state.checks)
            check = CheckInput(order_id, state.correlation_id)
            result = await run_step(OrderActivities.check_processing, check, self._log)
            phase = state.phase
            step = state.after_check(result)
            if step is None:
                if state.phase != phase:
                    upsert_phase(state)
                self._log.info("order found processed order_id=%s", order_id)
                return
            self._log.warning(
                "order not processed %.0f s after publishing order_id=%s waiting=%s"
                " republishes=%d checks=%d",
                waited,
                order_id,
                result.waiting,
                state.republishes,
                state.checks,
            )
            upsert_phase(state)
            if step.republish:
                reason = f"not processed after {waited:.0f} s, republish {state.republishes}"
                await self._publishing.publish(state.event, reason)
            if step.stuck:
                self._log.error(
                    "order stuck: not processed after %d checks, waiting for an operator"
                    " order_id=%s (orders workflows retry %s)",
                    state.checks,
                    order_id,
                    order_id,
                )
            else:
                state.schedule_check(workflow.now())
        finally:
            self._checking = False

    async def _expire(self) -> None:
        """The payment timeout: cancel the order if it is still PENDING in PostgreSQL (a
        concurrent PAID wins; either way the change comes back as a status signal)."""
        state = self._state
        order_id = state.order_id
        try:
            expire = ExpireInput(order_id, state.order.user_id, state.correlation_id)
            result = await run_step(OrderActivities.expire_order, expire, self._log)
            state.expiry_done = True
            if result.canceled:
                state.note(TimelineKind.EXPIRED, workflow.now())
            self._log.info(
                "payment timeout reached order_id=%s canceled=%s", order_id, result.canceled
            )
        finally:
            self._expiring = False
