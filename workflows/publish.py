"""PublishEventWorkflow: one status event published on its own, when its order's workflow
is closed (terminated by an operator, parked) or gone (past the namespace's retention).

The relay starts it instead of the signal that found no running workflow, with the id
`order-<order id>-event-<event id>` (one execution per event, ever), so the event still
reaches RabbitMQ, is marked published in the outbox, and its start is idempotent.
No `from __future__ import annotations`, as in order.py.
"""

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.order import OrderActivities
    from activities.types import PublishInput, PublishResult
    from workflows import inputs
    from workflows.log import WorkflowLog
    from workflows.names import PUBLISH_WORKFLOW_NAME
    from workflows.policies import ACTIVITY_TIMEOUT, RETRY_FOREVER


@workflow.defn(name=PUBLISH_WORKFLOW_NAME)
class PublishEventWorkflow:
    @workflow.run
    async def run(self, publish: PublishInput | dict[str, Any]) -> PublishResult:
        publish = inputs.publish_input(publish, workflow.now())  # v1-v5's: a JSON object
        result = await workflow.execute_activity_method(
            OrderActivities.publish_event,
            publish,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRY_FOREVER,
        )
        event = publish.event
        WorkflowLog(event.correlation_id).info(
            "event published without its order's workflow order_id=%s event_id=%s reason=%s",
            event.aggregate_id,
            event.event_id,
            publish.reason,
        )
        return result
