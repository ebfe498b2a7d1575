"""OrderWorkflow: one order's durable life, from its `new_order` event to its final status.

It publishes the order's events to RabbitMQ in order (retrying until the broker
answers; the first attempt at each as a local activity, inside the workflow task),
cancels an order still unpaid after the payment timeout, follows the status changes and
the `processed` signal the relay delivers from the outbox, and completes once the order
is final and processed (or canceled before processing). It does not trust the hops after
RabbitMQ: no `processed` within the processing timeout, and it asks PostgreSQL and the
queues, and publishes `new_order` again only when the order is neither processed nor
waiting in a backlog, a bounded number of times; then the order is stuck, for an
operator. An input that can never work parks the order: the run fails with the reason.
Deterministic: time comes from `workflow.now()` and timers, I/O only through activities.

Versions: each run is pinned to the Worker Deployment Version that started it (build id
`v<WORKFLOW_VERSION>`), so this code runs only the runs it began (`workflows.lifecycle`),
and those that unversioned v1-v4 workers began, which it inherits (`workflows.legacy`).
A run moves to a newer version by continuing as new on it, at its next workflow task
once that version is current. docs/architecture.md "Versions and deploys" says why.

No `from __future__ import annotations` here: a sandboxed run executes this module again
and `workflow.defn` reads the handlers' type hints, which would be strings to compile and
resolve on every run (docs/architecture.md "The workflow sandbox").
"""

from typing import Any

from temporalio import workflow

from workflows.handover import upsert_phase

# Workflow code, run in the sandbox like this module (when it runs in one).
from workflows.legacy import LegacyRun
from workflows.lifecycle import Lifecycle

# Loaded once, outside the sandbox: deterministic modules, and the payload types must
# be the real classes (with the real datetime) for the data converter.
with workflow.unsafe.imports_passed_through():
    from core.envelope import EventEnvelope
    from core.events import InvalidEvent
    from workflows import inputs
    from workflows.log import WorkflowLog
    from workflows.names import (
        ORDER_STATUS,
        PATCH_RECONCILE,
        QUERY_LIFECYCLE,
        SIGNAL_CHECK_VERSION,
        SIGNAL_PROCESSED,
        SIGNAL_RETRY_PROCESSING,
        SIGNAL_STATUS_CHANGED,
        WORKFLOW_NAME,
    )
    from workflows.state import RunState
    from workflows.types import V5_REVISION, LifecycleView, OrderWorkflowInput


@workflow.defn(name=WORKFLOW_NAME)
class OrderWorkflow:
    # The input and signals are this version's (an envelope), or a JSON object that
    # versions 1-5 sent (recorded histories, a v5 relay during a deploy): workflows.inputs.
    @workflow.init
    def __init__(self, order: OrderWorkflowInput | dict[str, Any]) -> None:
        self._state = RunState(inputs.order_input(order))
        self._log = WorkflowLog(self._state.correlation_id)

    @workflow.run
    async def run(self, order: OrderWorkflowInput | dict[str, Any]) -> LifecycleView:
        if begun_by_legacy_code(self._state.order):
            return await LegacyRun(self._state, self._log).run()
        return await Lifecycle(self._state, self._log).run()

    @workflow.signal(name=SIGNAL_STATUS_CHANGED)
    def status_changed(self, event: EventEnvelope | dict[str, Any]) -> None:
        try:
            change = inputs.status_change(event, self._state.order_id)
        except InvalidEvent as exc:  # written by our own code: a bug, logged, not retried
            self._log.error("status event ignored order_id=%s error=%s", self._state.order_id, exc)
            return
        if not self._state.take_status_change(change):
            return
        workflow.upsert_search_attributes([ORDER_STATUS.value_set(change.new_status)])
        workflow.set_current_details(self._state.summary())
        self._log.info(
            "order status changed order_id=%s %s->%s",
            self._state.order_id,
            change.old_status,
            change.new_status,
        )

    @workflow.signal(name=SIGNAL_PROCESSED)
    def processed(self, event: EventEnvelope | dict[str, Any]) -> None:
        phase = self._state.phase
        if not self._state.take_processed(*inputs.processed(event)):
            return
        if self._state.phase != phase:  # it had been republishing or stuck
            upsert_phase(self._state)
        workflow.set_current_details(self._state.summary())
        self._log.info("order processed order_id=%s", self._state.order_id)

    @workflow.signal(name=SIGNAL_RETRY_PROCESSING)
    def retry_processing(self) -> None:
        """An operator's: a stuck order checks its processing again, and republishes."""
        self._state.retry_requested = True

    @workflow.signal(name=SIGNAL_CHECK_VERSION)
    def check_version(self) -> None:
        """Nothing to do: the workflow task this signal causes tells the run whether a
        newer version is current (it then continues as new on it)."""

    @workflow.query(name=QUERY_LIFECYCLE)
    def lifecycle(self) -> LifecycleView:
        return self._state.view()


def begun_by_legacy_code(order: OrderWorkflowInput) -> bool:
    """Whether code of versions 1-4 began this run, so its history replays only through it.

    An input without a revision comes from their starter. One of v5's may still have had
    its first task run by an unversioned v4 worker: a v5 relay started it before v5 was
    current. Then that task recorded v4's first patch marker, which `patched` finds while
    the history replays. On a live first task (nothing recorded yet) this code begins the
    run itself, so it never asks there, and so records no marker of its own; nor for a
    run of v6's, which no unversioned worker ever ran.
    """
    if order.revision < V5_REVISION:
        return True
    if order.revision > V5_REVISION:
        return False
    return workflow.unsafe.is_replaying() and workflow.patched(PATCH_RECONCILE)
