"""An OrderWorkflow changed without `workflow.patched`: it sleeps before publishing, which
no recorded history did. Its own module, so the sandbox can import it cheaply."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.names import WORKFLOW_NAME
    from workflows.types import OrderWorkflowInput


@workflow.defn(name=WORKFLOW_NAME)
class ChangedWithoutAPatch:
    @workflow.run
    async def run(self, order: OrderWorkflowInput) -> None:
        await workflow.sleep(timedelta(seconds=1))
