"""Outbox rows handed to Temporal: a `new_order` starts the order's workflow, a later event
reaches it as a signal. Every call is idempotent, so a row relayed twice is harmless: the
workflow id admits one execution ever, and the workflow ignores a repeated signal.

`TemporalHandoff` is the relay's Handoff. The workflow id always comes from the row's
order id; the event's JSON text is validated here and forwarded as it was stored.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

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
    workflow_id,
)
from workflows.order import OrderWorkflow
from workflows.types import OrderWorkflowInput, Processed, StatusChanged

log = logging.getLogger(__name__)

# What a hand-off can fail with, to be tried again: Temporal unreachable (the SDK raises
# RuntimeError when it cannot connect), an RPC error, our own timeout. A row whose payload
# is not an event raises InvalidEvent: it never will succeed, and the relay parks it.
HANDOFF_ERRORS: Final = (RPCError, RuntimeError, TimeoutError)


class UnknownEventType(InvalidEvent):
    pass


@dataclass(frozen=True, slots=True)
class TemporalHandoff:
    client: Client
    task_queue: str
    payment_timeout: timedelta
    timeout: float
    errors: tuple[type[Exception], ...] = HANDOFF_ERRORS

    async def hand_over(self, row: OutboxRow) -> None:
        """Start or signal the row's workflow; raises one of `errors` on failure."""
        async with asyncio.timeout(self.timeout):
            if row.event_type == NEW_ORDER:
                await self._start(row)
            elif row.event_type == STATUS_CHANGED:
                await self._signal(row, SIGNAL_STATUS_CHANGED, _status_changed(row))
            elif row.event_type == ORDER_PROCESSED:
                await self._signal(row, SIGNAL_PROCESSED, _processed(row))
            else:
                raise UnknownEventType(f"unknown outbox event type {row.event_type!r}")

    async def _start(self, row: OutboxRow) -> None:
        event = parse_new_order(json_object(row.payload))
        order = OrderWorkflowInput(
            order_id=str(row.aggregate_id),
            user_id=event.user_id,
            event_id=str(row.id),
            event_json=row.payload,
            created_at=event.created_at,
            payment_timeout_seconds=self.payment_timeout.total_seconds(),
            correlation_id=row.correlation_id or "",
        )
        try:
            await self.client.start_workflow(
                OrderWorkflow.run,
                order,
                id=workflow_id(row.aggregate_id),
                task_queue=self.task_queue,
                # One execution per order, ever: a re-run of this row finds it started.
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(CUSTOMER_ID, event.user_id),
                        SearchAttributePair(ORDER_STATUS, INITIAL_STATUS.value),
                    ]
                ),
                rpc_timeout=timedelta(seconds=self.timeout),
            )
        except WorkflowAlreadyStartedError:
            log.info("workflow already started order_id=%s", row.aggregate_id)

    async def _signal(self, row: OutboxRow, signal: str, arg: Any) -> None:
        handle = self.client.get_workflow_handle(workflow_id(row.aggregate_id))
        try:
            await handle.signal(signal, arg, rpc_timeout=timedelta(seconds=self.timeout))
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            # Rows of one order are relayed in order, so the workflow was started: it
            # has completed, and this late event changes nothing there.
            log.info(
                "workflow already closed, signal dropped order_id=%s signal=%s",
                row.aggregate_id,
                signal,
            )


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
