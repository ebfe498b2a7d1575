"""The next version of OrderWorkflow, for the deploy test: it waits a millisecond before it
begins, which no history of version 5 did. A task of a version-5 run given to it would
fail with a non-determinism error; a run it begins (or continues) runs as usual. Its own
module, so the sandbox can import it cheaply."""

from datetime import timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.names import WORKFLOW_NAME
    from workflows.order import OrderWorkflow
    from workflows.types import LifecycleView, OrderWorkflowInput


@workflow.defn(name=WORKFLOW_NAME)
class NextOrderWorkflow(OrderWorkflow):
    @workflow.run
    async def run(self, order: OrderWorkflowInput | dict[str, Any]) -> LifecycleView:
        await workflow.sleep(timedelta(milliseconds=1))
        return await super().run(order)
