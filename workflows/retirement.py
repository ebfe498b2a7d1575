"""Which open runs may still need the old branch of a `workflow.patched` call.

`workflow.patched(P)` writes a marker into the history of a run that takes the new branch,
and the SDK adds P to the run's TemporalChangeVersion search attribute. A run whose
history lacks the marker took (or may yet take, on replay) the old branch. The old branch
can be dropped, by `workflow.deprecate_patch(P)`, once no open run of the code that holds
the call lacks the marker: `scope` selects those runs (the unversioned ones for the v1-v4
patches that version 5 keeps; `TemporalWorkerDeploymentVersion = '<deployment>:<build>'`
for a patch made to a version's code in place). docs/operations.md "Retiring old code"
walks through the three steps: this query, `deprecate_patch`, removal.
"""

from __future__ import annotations

from typing import Final

from temporalio.client import Client

from workflows.names import WORKFLOW_NAME

CHANGE_VERSION: Final = "TemporalChangeVersion"
# The runs version 5 inherited from unversioned workers, which its legacy code runs.
UNVERSIONED_RUNS: Final = "TemporalWorkerDeploymentVersion IS NULL"


def old_branch_query(patch_id: str, scope: str, *, workflow_type: str = WORKFLOW_NAME) -> str:
    """Open runs, among those `scope` selects, whose history lacks the patch's marker."""
    return (
        f"WorkflowType = '{workflow_type}' AND ExecutionStatus = 'Running' AND ({scope})"
        f" AND ({CHANGE_VERSION} IS NULL OR {CHANGE_VERSION} != '{patch_id}')"
    )


async def runs_needing_old_branch(
    client: Client, patch_id: str, scope: str, *, workflow_type: str = WORKFLOW_NAME
) -> int:
    query = old_branch_query(patch_id, scope, workflow_type=workflow_type)
    return (await client.count_workflows(query)).count
