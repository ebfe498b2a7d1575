"""The workflow sandbox, one configuration for the worker and for replays."""

from __future__ import annotations

from typing import Final

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

# Deterministic modules the workflow needs, loaded once outside the sandbox instead of
# re-imported for every workflow run: our pure core, the workflow's own vocabulary, the
# activities' interface and payloads, and the JSON library.
PASSTHROUGH_MODULES: Final = (
    "core",
    "orjson",
    "workflows.types",
    "workflows.names",
    "workflows.policies",
    "activities",
)


def workflow_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH_MODULES)
    )
