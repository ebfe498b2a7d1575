"""How the worker runs workflow code: in the Temporal sandbox, or not (a deliberate choice,
docs/architecture.md "The workflow sandbox").

The sandbox builds a new sandboxed instance for every workflow run: a fresh importer with
its restriction proxies, `workflows/order.py`'s module body executed again and its
workflow definition rebuilt, then every activation entered through it. That is what it
costs to catch, at run time, a workflow that reads the clock, draws random numbers or does
I/O. Replays (the recorded histories in the tests, `orders workflows replay` before a
deploy) and the workflow's integration tests always run sandboxed; the production worker
runs sandboxed only with `WORKFLOW_SANDBOX=true`.
"""

from __future__ import annotations

from typing import Final

from temporalio.worker import UnsandboxedWorkflowRunner, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

# Deterministic modules the workflow needs, loaded once outside the sandbox instead of
# re-imported for every workflow run: our pure core, the workflow's own vocabulary, the
# activities' interface and payloads, and the JSON library. (The standard library,
# temporalio and pydantic pass through by default.)
PASSTHROUGH_MODULES: Final = (
    "core",
    "orjson",
    "workflows.types",
    "workflows.names",
    "workflows.policies",
    "workflows.state",
    "workflows.log",
    "activities",
)


def workflow_runner(*, sandboxed: bool = True) -> WorkflowRunner:
    """The sandbox with our pass-through modules, or no sandbox at all."""
    if not sandboxed:
        return UnsandboxedWorkflowRunner()
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH_MODULES)
    )
