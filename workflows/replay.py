"""Replay the histories of a running server with the current code: a deploy check.

A sample of the `OrderWorkflow` (and `PublishEventWorkflow`) histories the query lists is
replayed by a Replayer with the worker's own workflows and sandbox. A history that no
longer replays is a workflow the new code would break: fix the code before deploying.
`orders workflows replay` runs it, by default on the histories the new code may be given:
those of runs on its own version (a release that keeps the build id joins it) and those
still unversioned (the current version inherits them). The runs pinned to other versions
never reach it. The sample (`workflows.replay_sample`) is bounded, so the check ends in
bounded time on any namespace: at most a number of runs per workflow type, execution
status, `OrderPhase` and `OrderStatus`, and a number in all.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Final

from temporalio.client import Client, WorkflowHistory
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Replayer

from workflows.names import PUBLISH_WORKFLOW_NAME, WORKFLOW_NAME
from workflows.order import OrderWorkflow
from workflows.publish import PublishEventWorkflow
from workflows.replay_sample import Run, Sampling, draw
from workflows.sandbox import workflow_runner
from workflows.versions import VERSION_ATTRIBUTE, Deployment

log = logging.getLogger(__name__)

WORKFLOW_TYPES: Final = [WORKFLOW_NAME, PUBLISH_WORKFLOW_NAME]
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
    matching: int = 0  # histories the query listed: what the sample was drawn from
    strata: dict[str, int] = field(default_factory=dict)  # stratum -> histories replayed

    @property
    def ok(self) -> bool:
        return not self.failures


async def replay_histories(
    client: Client,
    *,
    query: str = ALL_OURS,
    workflows: Sequence[type] = WORKFLOWS,
    sampling: Sampling | None = None,
) -> ReplayReport:
    """Replay a bounded sample of the histories `query` lists (open and closed)."""
    sampling = sampling or Sampling()
    sample = await draw(client, query=query, workflow_types=WORKFLOW_TYPES, sampling=sampling)
    replayer = Replayer(
        workflows=list(workflows), workflow_runner=workflow_runner(), namespace=client.namespace
    )
    ids = {run.run_id: run.workflow_id for run in sample.runs}
    replayed: list[Run] = []

    async def histories() -> AsyncIterator[WorkflowHistory]:
        for run in sample.runs:
            handle = client.get_workflow_handle(run.workflow_id, run_id=run.run_id)
            try:
                history = await handle.fetch_history()
            except RPCError as exc:  # deleted since it was listed (the retention): skip it
                if exc.status != RPCStatusCode.NOT_FOUND:
                    raise
                continue
            replayed.append(run)
            yield history

    results = await replayer.replay_workflows(histories(), raise_on_replay_failure=False)
    failures = {ids[run]: f"{type(e).__name__}: {e}" for run, e in results.replay_failures.items()}
    for workflow_id, error in failures.items():
        log.error("history does not replay workflow_id=%s error=%s", workflow_id, error)
    log.info(
        "replayed %d of %d histories, %d failed query=%s",
        len(replayed),
        sample.matching,
        len(failures),
        query,
    )
    strata = Counter(run.stratum for run in replayed)
    return ReplayReport(len(replayed), failures, sample.matching, dict(sorted(strata.items())))
