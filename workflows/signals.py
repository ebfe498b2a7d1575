"""An event that reaches its order's running workflow as a signal (core.registry's
Handoff.SIGNAL), its envelope as the signal's argument.

A signal that finds no running workflow is told apart (`describe`: closed, and how, or
gone). An event the registry publishes (a status event) is then published by a workflow of
its own (`PublishEventWorkflow`, id `order-<id>-event-<event id>`), so it still reaches
RabbitMQ; one it never publishes (`order_processed`) needs nothing more, its effect being
already in PostgreSQL and the workflow it would have told being over.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, Final

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from activities.types import PublishInput
from core.envelope import EventEnvelope
from core.registry import EventType
from workflows.compat import signal_argument
from workflows.names import publish_workflow_id, workflow_id
from workflows.publish import PublishEventWorkflow

log = logging.getLogger(__name__)

GONE: Final = "gone"


class SignalRaced(RuntimeError):
    """A signal found no running workflow, yet it runs: try again."""


async def signal(
    client: Client,
    task_queue: str,
    kind: EventType,
    event: EventEnvelope,
    rpc_timeout: timedelta,
    *,
    v5_fields: bool,
) -> None:
    """Signal the event's workflow with it (and v5's fields beside it, when `v5_fields`:
    workflows.compat); when that workflow is over, publish the event alone if its type is
    published."""
    handle = client.get_workflow_handle(workflow_id(event.aggregate_id))
    argument = signal_argument(event, v5_fields=v5_fields)
    try:
        await handle.signal(kind.signal, argument, rpc_timeout=rpc_timeout)
        return
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
    # Rows of one order are relayed in order, so the workflow was started: it closed,
    # or it is gone after the namespace's retention.
    state = await _closed_state(handle, rpc_timeout)
    if not kind.published:
        log.info(
            "workflow %s, signal not needed order_id=%s signal=%s",
            state,
            event.aggregate_id,
            kind.signal,
        )
        return
    await publish_alone(client, task_queue, event, f"order workflow {state}", rpc_timeout)


async def publish_alone(
    client: Client, task_queue: str, event: EventEnvelope, reason: str, rpc_timeout: timedelta
) -> None:
    """Publish an event through a workflow of its own; idempotent by its id."""
    try:
        await client.start_workflow(
            PublishEventWorkflow.run,
            PublishInput(event, reason),
            id=publish_workflow_id(event.aggregate_id, event.event_id),
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            rpc_timeout=rpc_timeout,
        )
    except WorkflowAlreadyStartedError:
        return
    log.warning(
        "%s, status event published by a workflow of its own order_id=%s event_id=%s",
        reason,
        event.aggregate_id,
        event.event_id,
    )


async def _closed_state(handle: WorkflowHandle[Any, Any], rpc_timeout: timedelta) -> str:
    """How the workflow ended ("terminated", "failed", ...), or "gone"."""
    try:
        desc = await handle.describe(rpc_timeout=rpc_timeout)
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
        return GONE
    if desc.status in (None, WorkflowExecutionStatus.RUNNING):
        raise SignalRaced(f"workflow {handle.id} refused a signal but is running")
    return desc.status.name.lower()
