"""Replay the histories of a running server with the current code: a deploy check.

Every `OrderWorkflow` (and `PublishEventWorkflow`) history the query lists is replayed
by a Replayer with the worker's own workflows and sandbox. A history that no longer
replays is a workflow the new code would break: fix the code before deploying.
`orders workflows replay` runs it, by default on the histories the new code may be given:
those of runs on its own version (a release that keeps the build id joins it) and those
still unversioned (the current version inherits them). The runs pinned to other versions
never reach it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Final

from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer

from workflows.names import PUBLISH_WORKFLOW_NAME, WORKFLOW_NAME
from workflows.order import OrderWorkflow
from workflows.publish import PublishEventWorkflow
from workflows.sandbox import workflow_runner
from workflows.versions import VERSION_ATTRIBUTE, Deployment

log = logging.getLogger(__name__)

ALL_OURS: Final = f"WorkflowType IN ('{WORKFLOW_NAME}', '{PUBLISH_WORKFLOW_NAME}')"


def runnable_by(deployment: Deployment) -> str:
    """Our histories that a worker of this version may be given: its own, and unversioned."""
    attribute = VERSION_ATTRIBUTE
    return (
        f"{ALL_OURS} AND TaskQueue = '{deployment.task_queue}' AND "
        f"({attribute} = '{deployment.attribute()}' OR {attribute} IS NULL)"
    )


WORKFLOWS: Final = (OrderWorkflow, PublishEventWorkflow)


@dataclass(frozen=True, slots=True)
class ReplayReport:
    replayed: int
    failures: dict[str, str] = field(default_factory=dict)  # workflow id -> why

    @property
    def ok(self) -> bool:
        return not self.failures


async def replay_histories(
    client: Client,
    *,
    query: str = ALL_OURS,
    workflows: Sequence[type] = WORKFLOWS,
    limit: int | None = None,
) -> ReplayReport:
    """Replay every history `query` lists (open and closed) with `workflows`."""
    replayer = Replayer(
        workflows=list(workflows), workflow_runner=workflow_runner(), namespace=client.namespace
    )
    ids: dict[str, str] = {}  # run id -> workflow id

    async def histories() -> AsyncIterator[WorkflowHistory]:
        async for history in client.list_workflows(query, limit=limit).map_histories():
            ids[history.run_id] = history.workflow_id
            yield history

    results = await replayer.replay_workflows(histories(), raise_on_replay_failure=False)
    failures = {ids[run]: f"{type(e).__name__}: {e}" for run, e in results.replay_failures.items()}
    for workflow_id, error in failures.items():
        log.error("history does not replay workflow_id=%s error=%s", workflow_id, error)
    log.info("replayed %d histories, %d failed query=%s", len(ids), len(failures), query)
    return ReplayReport(len(ids), failures)
