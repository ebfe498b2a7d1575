"""Worker Deployment Versions of our workflows: which one is current, making one current,
waking the runs still on the others, and counting the open runs on each.

The worker of a task queue joins the Worker Deployment of the same name as one version
(build id `v<WORKFLOW_VERSION>` unless TEMPORAL_BUILD_ID says otherwise). New runs start
on the current version and stay pinned to it; a run on another version moves at its next
workflow task once the one it is pinned to is no longer current, by continuing as new
(workflows/lifecycle.py), so the promotion wakes them with a signal. A version's workers
may stop once no open run is left on it (docs/operations.md "Deploying a new version").
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Final

from temporalio.api.deployment.v1 import WorkerDeploymentInfo
from temporalio.api.enums.v1 import RoutingConfigUpdateState
from temporalio.api.workflowservice.v1 import (
    DescribeWorkerDeploymentRequest,
    SetWorkerDeploymentCurrentVersionRequest,
)
from temporalio.client import Client
from temporalio.common import VersioningBehavior
from temporalio.service import RPCError, RPCStatusCode

from workflows.names import SIGNAL_CHECK_VERSION, WORKFLOW_NAME, WORKFLOW_VERSION

log = logging.getLogger(__name__)

# Both workflow types are pinned: a run finishes on the version that started it, or moves
# by continuing as new (docs/architecture.md "Versions and deploys" says why, for each).
# The versioned worker applies it as its default: a behavior on `workflow.defn` would make
# an unversioned worker (the tests', a deployment without versioning) fail every task.
BEHAVIOR: Final = VersioningBehavior.PINNED
VERSION_ATTRIBUTE: Final = "TemporalWorkerDeploymentVersion"  # the server's, `<name>:<build>`
UNVERSIONED: Final = "unversioned"
OPEN_ORDERS: Final = f"WorkflowType = '{WORKFLOW_NAME}' AND ExecutionStatus = 'Running'"
WAKE_CONCURRENCY: Final = 32  # signals in flight while waking the runs of other versions
_NUMBERED = re.compile(r"v(\d+)")


def default_build_id() -> str:
    """The build id of this code: its workflows' version (a change to them bumps it)."""
    return f"v{WORKFLOW_VERSION}"


@dataclass(frozen=True, slots=True)
class Deployment:
    """One version of the Worker Deployment that serves a task queue."""

    task_queue: str
    build_id: str

    @property
    def name(self) -> str:
        """The deployment's name: its task queue's ('.' is the server's separator)."""
        return self.task_queue.replace(".", "-")

    def attribute(self, build_id: str | None = None) -> str:
        """A version as the TemporalWorkerDeploymentVersion search attribute holds it."""
        return f"{self.name}:{build_id or self.build_id}"


def should_promote(ours: str, current: str | None) -> bool:
    """Whether a worker of build `ours` makes itself current: when none is, or when the
    current one is an older `v<N>`; never backwards (an old worker restarting mid-deploy),
    nor over a build id of another form (promote those with `orders workflows promote`)."""
    if current is None:
        return True
    a, b = _NUMBERED.fullmatch(ours), _NUMBERED.fullmatch(current)
    return a is not None and b is not None and int(a[1]) > int(b[1])


async def current_build_id(client: Client, deployment: Deployment) -> str | None:
    """The current version's build id; None while unversioned workers get the tasks."""
    return (await routing(client, deployment))[0]


async def routing(client: Client, deployment: Deployment) -> tuple[str | None, str | None]:
    """The build ids of the current version and of the ramping one (None: none, or the
    unversioned workers)."""
    info = await _describe(client, deployment)
    if info is None:
        return None, None
    config = info.routing_config
    current = config.current_deployment_version.build_id or None
    return current, config.ramping_deployment_version.build_id or None


async def build_ids(client: Client, deployment: Deployment) -> list[str]:
    """Every version the deployment knows (each had pollers once)."""
    info = await _describe(client, deployment)
    if info is None:
        return []
    return [s.deployment_version.build_id for s in info.version_summaries]


async def promote(client: Client, deployment: Deployment) -> None:
    """Make the version current, once its pollers have reached the server, and wait until
    every task queue routes to it (so a run woken next sees that it changed). Retries
    until then: bound it with `asyncio.timeout`."""
    request = SetWorkerDeploymentCurrentVersionRequest(
        namespace=client.namespace,
        deployment_name=deployment.name,
        build_id=deployment.build_id,
        identity=client.identity,
    )
    while True:
        try:
            await client.workflow_service.set_worker_deployment_current_version(request)
            break
        except RPCError as exc:  # no pollers of that version seen yet: try again
            if exc.status not in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
                raise
            log.debug("version not ready to be current yet error=%s", exc)
        await asyncio.sleep(0.5)
    done = RoutingConfigUpdateState.ROUTING_CONFIG_UPDATE_STATE_COMPLETED
    while True:
        info = await _describe(client, deployment)
        if info is not None and info.routing_config_update_state == done:
            break
        log.debug(
            "routing to the version not complete yet state=%s",
            info and info.routing_config_update_state,
        )
        await asyncio.sleep(0.2)
    log.info("version current deployment=%s build_id=%s", deployment.name, deployment.build_id)


def others_query(deployment: Deployment) -> str:
    """Open orders on any version but this one, unversioned ones included."""
    attribute = VERSION_ATTRIBUTE
    return (
        f"{OPEN_ORDERS} AND TaskQueue = '{deployment.task_queue}' AND "
        f"({attribute} IS NULL OR {attribute} != '{deployment.attribute()}')"
    )


async def wake_others(client: Client, deployment: Deployment) -> int:
    """Signal every open order on another version, once: each one continues as new on the
    current version at the workflow task this causes. The count signalled.

    One signal per run, WAKE_CONCURRENCY at a time, rather than a batch operation: a batch
    delivers at least once, and a second wake-up landing while a run continues as new
    makes the server refuse that task once (UnhandledCommand, a failed workflow task that
    is retried at once, but one all the same)."""
    query = others_query(deployment)
    gate = asyncio.Semaphore(WAKE_CONCURRENCY)

    async def wake(workflow_id: str, run_id: str | None) -> None:
        async with gate:
            handle = client.get_workflow_handle(workflow_id, run_id=run_id)
            try:
                await handle.signal(SIGNAL_CHECK_VERSION)
            except RPCError as exc:  # it closed meanwhile: nothing to wake
                if exc.status != RPCStatusCode.NOT_FOUND:
                    raise

    runs = [(w.id, w.run_id) async for w in client.list_workflows(query)]
    await asyncio.gather(*(wake(workflow_id, run_id) for workflow_id, run_id in runs))
    log.info("woke open orders on other versions count=%d query=%s", len(runs), query)
    return len(runs)


async def open_by_version(client: Client, deployment: Deployment) -> dict[str, int]:
    """Open orders of the task queue on each version the deployment knows, and unversioned."""
    base = f"{OPEN_ORDERS} AND TaskQueue = '{deployment.task_queue}'"
    unversioned = f"{base} AND {VERSION_ATTRIBUTE} IS NULL"
    counts = {UNVERSIONED: (await client.count_workflows(unversioned)).count}
    for build_id in await build_ids(client, deployment):
        query = f"{base} AND {VERSION_ATTRIBUTE} = '{deployment.attribute(build_id)}'"
        counts[build_id] = (await client.count_workflows(query)).count
    return counts


async def _describe(client: Client, deployment: Deployment) -> WorkerDeploymentInfo | None:
    try:
        response = await client.workflow_service.describe_worker_deployment(
            DescribeWorkerDeploymentRequest(
                namespace=client.namespace, deployment_name=deployment.name
            )
        )
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    return response.worker_deployment_info
