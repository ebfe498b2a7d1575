"""Outbox rows handed to Temporal: a `new_order` starts the order's workflow, a later event
reaches it as a signal. Every call is idempotent, so a row relayed twice is harmless: the
workflow id admits one execution ever, and the workflow ignores a repeated signal.

A signal that finds no running workflow is told apart (`describe`: closed, and how, or
gone). A status event is then published by a workflow of its own
(`PublishEventWorkflow`, id `order-<id>-event-<event id>`), so it still reaches RabbitMQ;
an `order_processed` event needs nothing more, its effect being already in PostgreSQL
and the workflow it would have told being over.

`TemporalHandoff` is the relay's Handoff. The workflow id always comes from the row's
order id; the event's JSON text is validated here and forwarded as it was stored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from activities.types import PublishInput
from core.events import (
    NEW_ORDER,
    ORDER_PROCESSED,
    STATUS_CHANGED,
    InvalidEvent,
    json_object,
    parse_new_order,
    parse_order_processed,
    parse_status_changed,
)
from core.lifecycle import INITIAL_STATUS
from store.outbox import OutboxRow
from workflows.names import (
    CUSTOMER_ID,
    ORDER_STATUS,
    SIGNAL_PROCESSED,
    SIGNAL_STATUS_CHANGED,
    publish_workflow_id,
    workflow_id,
)
from workflows.order import OrderWorkflow
from workflows.publish import PublishEventWorkflow
from workflows.types import REVISION, OrderWorkflowInput, Processed, StatusChanged

log = logging.getLogger(__name__)

# What a hand-off can fail with, to be tried again: Temporal unreachable (the SDK raises
# RuntimeError when it cannot connect), an RPC error, our own timeout. A row whose payload
# is not an event, or that Temporal refuses as invalid, raises InvalidEvent: it never will
# succeed, and the relay parks it at once with the reason.
HANDOFF_ERRORS: Final = (RPCError, RuntimeError, TimeoutError)
# Answers that no retry can change: the request itself is wrong (an unregistered search
# attribute, a value out of range, a payload over the server's limit).
REFUSALS: Final = frozenset({RPCStatusCode.INVALID_ARGUMENT})


class UnknownEventType(InvalidEvent):
    pass


class RefusedByTemporal(InvalidEvent):
    """Temporal refused the row's start or signal as invalid: retrying cannot help."""


class TemporalNotSetUp(RuntimeError):
    """The namespace lacks what a start needs (the process's setup check): try again later."""


class SignalRaced(RuntimeError):
    """A signal found no running workflow, yet it runs: try again."""


@dataclass(frozen=True, slots=True)
class TemporalHandoff:
    client: Client
    task_queue: str
    payment_timeout: timedelta
    timeout: float
    processing_timeout: timedelta = timedelta(minutes=5)
    errors: tuple[type[Exception], ...] = HANDOFF_ERRORS
    # The client a worker of this process polls with (None while it does not run): a
    # workflow started through it asks for an eager start, its first task handed to that
    # worker in the start's answer instead of through a poll.
    worker_client: Callable[[], Client | None] | None = None
    # What the namespace lacks, when the process's setup check knows (None: nothing known):
    # a start would be refused, so the row waits instead of being parked.
    setup_problem: Callable[[], str | None] | None = None

    async def hand_over(self, row: OutboxRow) -> None:
        """Start or signal the row's workflow; raises one of `errors` on failure, and
        InvalidEvent when the row can never be handed over."""
        try:
            async with asyncio.timeout(self.timeout):
                if row.event_type == NEW_ORDER:
                    await self._start(row)
                elif row.event_type == STATUS_CHANGED:
                    await self._signal(row, SIGNAL_STATUS_CHANGED, _status_changed(row))
                elif row.event_type == ORDER_PROCESSED:
                    await self._signal(row, SIGNAL_PROCESSED, _processed(row))
                else:
                    raise UnknownEventType(f"unknown outbox event type {row.event_type!r}")
        except RPCError as exc:
            if exc.status in REFUSALS:
                raise RefusedByTemporal(f"Temporal refused it ({exc.status.name}): {exc}") from exc
            raise

    async def _start(self, row: OutboxRow) -> None:
        problem = self.setup_problem() if self.setup_problem is not None else None
        if problem:
            raise TemporalNotSetUp(problem)
        event = parse_new_order(json_object(row.payload))
        order = OrderWorkflowInput(
            order_id=str(row.aggregate_id),
            user_id=event.user_id,
            event_id=str(row.id),
            event_json=row.payload,
            created_at=event.created_at,
            payment_timeout_seconds=self.payment_timeout.total_seconds(),
            correlation_id=row.correlation_id or "",
            processing_timeout_seconds=self.processing_timeout.total_seconds(),
            revision=REVISION,
        )
        local = self.worker_client() if self.worker_client is not None else None
        try:
            await (local or self.client).start_workflow(
                OrderWorkflow.run,
                order,
                id=workflow_id(row.aggregate_id),
                task_queue=self.task_queue,
                request_eager_start=local is not None,
                # One execution per order, ever: a re-run of this row finds it started.
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(CUSTOMER_ID, event.user_id),
                        SearchAttributePair(ORDER_STATUS, INITIAL_STATUS.value),
                    ]
                ),
                rpc_timeout=self._rpc_timeout,
                static_summary=f"order {row.aggregate_id} of customer {event.user_id}",
            )
        except WorkflowAlreadyStartedError:
            log.info("workflow already started order_id=%s", row.aggregate_id)

    async def _signal(self, row: OutboxRow, signal: str, arg: Any) -> None:
        handle = self.client.get_workflow_handle(workflow_id(row.aggregate_id))
        try:
            await handle.signal(signal, arg, rpc_timeout=self._rpc_timeout)
            return
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
        # Rows of one order are relayed in order, so the workflow was started: it closed,
        # or it is gone after the namespace's retention.
        state = await self._closed_state(handle)
        if row.event_type != STATUS_CHANGED:
            log.info(
                "workflow %s, signal not needed order_id=%s signal=%s",
                state,
                row.aggregate_id,
                signal,
            )
            return
        await self._publish_alone(row, f"order workflow {state}")

    async def _closed_state(self, handle: WorkflowHandle[Any, Any]) -> str:
        """How the workflow ended ("terminated", "failed", ...), or "gone"."""
        try:
            desc = await handle.describe(rpc_timeout=self._rpc_timeout)
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            return "gone"
        if desc.status in (None, WorkflowExecutionStatus.RUNNING):
            raise SignalRaced(f"workflow {handle.id} refused a signal but is running")
        return desc.status.name.lower()

    async def _publish_alone(self, row: OutboxRow, reason: str) -> None:
        """Publish a status event through a workflow of its own; idempotent by its id."""
        event = PublishInput(
            order_id=str(row.aggregate_id),
            event_id=str(row.id),
            event_type=row.event_type,
            body=row.payload,
            correlation_id=row.correlation_id or "",
            reason=reason,
        )
        try:
            await self.client.start_workflow(
                PublishEventWorkflow.run,
                event,
                id=publish_workflow_id(row.aggregate_id, row.id),
                task_queue=self.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                rpc_timeout=self._rpc_timeout,
            )
        except WorkflowAlreadyStartedError:
            return
        log.warning(
            "%s, status event published by a workflow of its own order_id=%s event_id=%s",
            reason,
            row.aggregate_id,
            row.id,
        )

    @property
    def _rpc_timeout(self) -> timedelta:
        return timedelta(seconds=self.timeout)


def _status_changed(row: OutboxRow) -> StatusChanged:
    event = parse_status_changed(json_object(row.payload))
    return StatusChanged(
        event_id=str(row.id),
        old_status=event.old_status.value,
        new_status=event.new_status.value,
        changed_at=event.changed_at,
        event_json=row.payload,
        correlation_id=row.correlation_id or "",
    )


def _processed(row: OutboxRow) -> Processed:
    event = parse_order_processed(json_object(row.payload))
    return Processed(event_id=str(row.id), processed_at=event.processed_at)
