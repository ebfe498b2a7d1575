"""Outbox rows handed to Temporal, as core.registry says for their type: an event that
starts its order's workflow (`new_order`) is its input, a later one reaches it as a signal
(workflows.signals), each as its envelope; none is decoded to be routed. Every call is
idempotent, so a row relayed twice is harmless: the workflow id admits one execution
ever, and the workflow ignores a repeated signal.

`TemporalHandoff` is the relay's Handoff. The workflow id always comes from the envelope's
aggregate id. The start reads the one thing it needs from the payload: the customer, for
the run's CustomerId search attribute and its payment timeout's cancel.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from core.envelope import EventEnvelope
from core.events import InvalidEvent, json_object, parse_new_order
from core.lifecycle import INITIAL_STATUS
from core.registry import Handoff, event_type
from store.outbox import OutboxRow
from workflows.client import TEMPORAL_FAILURES
from workflows.compat import start_argument
from workflows.names import CUSTOMER_ID, ORDER_STATUS, WORKFLOW_NAME, workflow_id
from workflows.signals import publish_alone, signal
from workflows.types import LifecycleView, OrderWorkflowInput

log = logging.getLogger(__name__)

# A hand-off that fails with one of workflows.client.TEMPORAL_FAILURES is tried again. A
# row whose payload is not an event, or that Temporal refuses as invalid, raises
# InvalidEvent: it never will succeed, and the relay parks it at once with the reason.
# Answers that no retry can change: the request itself is wrong (an unregistered search
# attribute, a value out of range, a payload over the server's limit).
REFUSALS: Final = frozenset({RPCStatusCode.INVALID_ARGUMENT})


class RefusedByTemporal(InvalidEvent):
    """Temporal refused the row's start or signal as invalid: retrying cannot help."""


class TemporalNotSetUp(RuntimeError):
    """The namespace lacks what a start needs (the process's setup check): try again later."""


@dataclass(frozen=True, slots=True)
class TemporalHandoff:
    client: Client
    task_queue: str
    payment_timeout: timedelta
    timeout: float
    processing_timeout: timedelta
    errors: tuple[type[Exception], ...] = TEMPORAL_FAILURES
    # The client a worker of this process polls with (None while it does not run): a
    # workflow started through it asks for an eager start, its first task handed to that
    # worker in the start's answer instead of through a poll.
    worker_client: Callable[[], Client | None] | None = None
    # What the namespace lacks, when the process's setup check knows (None: nothing known):
    # a start would be refused, so the row waits instead of being parked.
    setup_problem: Callable[[], str | None] | None = None
    # Whether a reader of version 5 may exist, so v5's fields go beside each argument
    # (workflows.compat; `CompatGate.needed` in the service). None: always send them.
    v5_fields: Callable[[], bool] | None = None

    async def hand_over(self, row: OutboxRow) -> None:
        """Start or signal the row's workflow; raises one of `errors` on failure, and
        InvalidEvent when the row can never be handed over."""
        event = row.envelope
        kind = event_type(event.event_type)  # UnknownEventType: parked
        timeout = self._rpc_timeout
        try:
            async with asyncio.timeout(self.timeout):
                if kind.handoff is Handoff.START:
                    await self._start(event)
                elif kind.handoff is Handoff.SIGNAL:
                    await signal(
                        self.client,
                        self.task_queue,
                        kind,
                        event,
                        timeout,
                        v5_fields=self._v5_fields,
                    )
                else:
                    await publish_alone(self.client, self.task_queue, event, "", timeout)
        except RPCError as exc:
            if exc.status in REFUSALS:
                raise RefusedByTemporal(f"Temporal refused it ({exc.status.name}): {exc}") from exc
            raise

    async def _start(self, event: EventEnvelope) -> None:
        problem = self.setup_problem() if self.setup_problem is not None else None
        if problem:
            raise TemporalNotSetUp(problem)
        customer = parse_new_order(json_object(event.payload)).user_id
        order = OrderWorkflowInput(
            event=event,
            user_id=customer,
            payment_timeout_seconds=self.payment_timeout.total_seconds(),
            processing_timeout_seconds=self.processing_timeout.total_seconds(),
        )
        local = self.worker_client() if self.worker_client is not None else None
        try:
            await (local or self.client).start_workflow(
                WORKFLOW_NAME,
                start_argument(order, v5_fields=self._v5_fields),  # workflows.compat
                result_type=LifecycleView,
                id=workflow_id(event.aggregate_id),
                task_queue=self.task_queue,
                request_eager_start=local is not None,
                # One execution per order, ever: a re-run of this row finds it started.
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(CUSTOMER_ID, customer),
                        SearchAttributePair(ORDER_STATUS, INITIAL_STATUS.value),
                    ]
                ),
                rpc_timeout=self._rpc_timeout,
                static_summary=f"order {event.aggregate_id} of customer {customer}",
            )
        except WorkflowAlreadyStartedError:
            log.info("workflow already started order_id=%s", event.aggregate_id)

    @property
    def _v5_fields(self) -> bool:
        return self.v5_fields() if self.v5_fields is not None else True

    @property
    def _rpc_timeout(self) -> timedelta:
        return timedelta(seconds=self.timeout)
