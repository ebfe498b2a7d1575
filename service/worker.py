"""The Temporal worker for OrderWorkflow and its activities, kept running across outages.

A worker needs a connected (not lazy) client, so this runner connects itself and, while
Temporal is unreachable, keeps retrying in the background instead of failing the process.
On shutdown the worker stops polling and lets in-flight activities finish.

Versioned (TEMPORAL_WORKER_VERSIONING, the default), the worker is one version of the
Worker Deployment named after its task queue (`workflows.versions`): it gets the tasks of
the runs pinned to its version only. With TEMPORAL_WORKER_PROMOTE it makes its version
current when none is or an older `v<N>` is, then wakes the runs on the others; it lends
its client to eager starts only while its version is current (an eager start would pin
the new run to it even when it is not).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Final

from temporalio.client import Client
from temporalio.common import WorkerDeploymentVersion
from temporalio.runtime import Runtime
from temporalio.service import RPCError
from temporalio.worker import PollerBehaviorSimpleMaximum, Worker, WorkerDeploymentConfig

from activities.order import OrderActivities
from core.backoff import Backoff, BackoffPolicy
from service.logs import plain_activity_lines
from workflows import versions
from workflows.client import TemporalConnection
from workflows.replay import WORKFLOWS
from workflows.sandbox import workflow_runner
from workflows.versions import Deployment

log = logging.getLogger(__name__)

GRACEFUL_SHUTDOWN: Final = timedelta(seconds=10)
# Tuned for a 2-core machine. The cache (and its sticky queue) keeps an order's workflow
# in memory between its tasks, so the next one (the `processed` signal, a status change)
# replays no history. Each cached workflow holds about 0.1 MiB (docs/performance.md), and
# an open order stays cached until evicted (it waits up to a day for payment), so the
# cache is always full at steady state: its size is the worker's memory bound. 1000 is
# more than the orders in flight between start and `processed` in a 600-order burst (no
# eviction there); TEMPORAL_WORKFLOW_CACHE changes it. Few pollers: an idle long poll
# still costs the server; most publishes are local activities (no activity task).
WORKFLOW_CACHE: Final = 1000
WORKFLOW_POLLERS: Final = PollerBehaviorSimpleMaximum(4)
ACTIVITY_POLLERS: Final = PollerBehaviorSimpleMaximum(2)
MAX_ACTIVITIES: Final = 50  # publishes awaiting RabbitMQ's confirm, expiries
RECONNECT: Final = BackoffPolicy(initial=1.0, maximum=30.0)
# How often a versioned worker reads which version is current (for eager starts).
VERSION_CHECK_SECONDS: Final = 10.0
PROMOTE_TIMEOUT_SECONDS: Final = 120.0


def build_worker(
    client: Client,
    task_queue: str,
    activities: OrderActivities,
    *,
    sandboxed: bool,
    workflow_cache: int = WORKFLOW_CACHE,
    deployment: Deployment | None = None,
    workflows: Sequence[type] = WORKFLOWS,
) -> Worker:
    """`sandboxed`: run the workflows in the Temporal sandbox (workflows/sandbox.py);
    `deployment`: the version this worker is (None: an unversioned worker); `workflows`:
    another version's code (a deploy test)."""
    plain_activity_lines()
    config = None
    if deployment is not None:
        config = WorkerDeploymentConfig(
            version=WorkerDeploymentVersion(deployment.name, deployment.build_id),
            use_worker_versioning=True,
            default_versioning_behavior=versions.BEHAVIOR,
        )
    return Worker(
        client,
        task_queue=task_queue,
        workflows=list(workflows),
        activities=[activities.publish_event, activities.expire_order, activities.check_processing],
        deployment_config=config,
        workflow_runner=workflow_runner(sandboxed=sandboxed),
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
        max_cached_workflows=workflow_cache,
        workflow_task_poller_behavior=WORKFLOW_POLLERS,
        activity_task_poller_behavior=ACTIVITY_POLLERS,
        max_concurrent_activities=MAX_ACTIVITIES,
    )


class WorkerRunner:
    def __init__(
        self,
        *,
        connection: TemporalConnection,
        task_queue: str,
        activities: OrderActivities,
        connect_timeout: float = 10.0,
        sandboxed: bool = False,
        runtime: Runtime | None = None,
        workflow_cache: int = WORKFLOW_CACHE,
        deployment: Deployment | None = None,
        promote: bool = False,
    ) -> None:
        self._deployment = deployment  # None: an unversioned worker
        self._promote = promote  # make its version current (when none is, or an older v<N>)
        self._current = False  # its version is the current one (as last read)
        self._workflow_cache = workflow_cache
        self._runtime = runtime  # None: the SDK's default (no metrics exporter)
        # The process's one recipe (TLS, API key, interceptors: the worker's are the client's).
        self._connection = connection
        self._connect_timeout = connect_timeout
        self._sandboxed = sandboxed  # settings' WORKFLOW_SANDBOX
        self._task_queue = task_queue
        self._activities = activities
        self._worker: Worker | None = None
        self._client: Client | None = None
        self._stopping = False

    async def run(self) -> None:
        """Connect and run the worker; on failure wait (with backoff) and start again."""
        backoff = Backoff(RECONNECT)
        while not self._stopping:
            try:
                async with asyncio.timeout(self._connect_timeout):
                    client = await self._connection.connect(runtime=self._runtime)
                self._worker = build_worker(
                    client,
                    self._task_queue,
                    self._activities,
                    sandboxed=self._sandboxed,
                    workflow_cache=self._workflow_cache,
                    deployment=self._deployment,
                )
                self._client = client
                log.info(
                    "temporal worker running task_queue=%s sandboxed=%s build_id=%s",
                    self._task_queue,
                    self._sandboxed,
                    self._deployment.build_id if self._deployment else "(unversioned)",
                )
                backoff.reset()
                follow = asyncio.create_task(self._follow_version(client))
                try:
                    await self._worker.run()
                finally:
                    follow.cancel()
            except (RuntimeError, TimeoutError) as exc:  # temporalio: RuntimeError when away
                if self._stopping:
                    return
                if backoff.failures == 0:
                    log.warning("temporal worker cannot run, retrying error=%s", exc)
                await asyncio.sleep(backoff.next())
            finally:
                self._worker = None
                self._client = None

    @property
    def client(self) -> Client | None:
        """The connected client the worker polls with, while it runs and its version is
        current: a workflow started through it with `request_eager_start` gets its first
        task handed to this worker in the start's answer (no poll, no matching)."""
        if self._deployment is not None and not self._current:
            return None
        return self._client

    def version(self) -> dict[str, object]:
        """For /ready's details: the version this worker is, and whether it is current."""
        if self._deployment is None:
            return {"versioned": False}
        return {
            "deployment": self._deployment.name,
            "build_id": self._deployment.build_id,
            "current": self._current,
        }

    async def _follow_version(self, client: Client) -> None:
        """Promote the version if told to and due, wake the runs on the others once it is
        current, then keep reading whether it still is."""
        deployment = self._deployment
        if deployment is None:
            return
        woken = False
        while True:
            try:
                current = await versions.current_build_id(client, deployment)
                if self._promote and versions.should_promote(deployment.build_id, current):
                    async with asyncio.timeout(PROMOTE_TIMEOUT_SECONDS):
                        await versions.promote(client, deployment)
                    current = deployment.build_id
                if self._promote and current == deployment.build_id and not woken:
                    await versions.wake_others(client, deployment)
                    woken = True
                self._current = current == deployment.build_id
            except (RPCError, RuntimeError, TimeoutError) as exc:
                log.warning("temporal worker cannot read its version's state error=%s", exc)
            await asyncio.sleep(VERSION_CHECK_SECONDS)

    async def shutdown(self) -> None:
        """Stop polling and wait for in-flight activities (bounded by GRACEFUL_SHUTDOWN)."""
        self._stopping = True
        if self._worker is not None:
            await self._worker.shutdown()
