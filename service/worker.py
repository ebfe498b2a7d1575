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
from typing import Final

from temporalio.client import Client
from temporalio.runtime import Runtime
from temporalio.worker import Worker

from activities.order import OrderActivities
from core.backoff import RECONNECT, Backoff
from service.settings import setting_default
from service.worker_build import MAX_ACTIVITIES, WORKFLOW_CACHE, build_worker
from workflows import versions
from workflows.client import TEMPORAL_FAILURES, TemporalConnection
from workflows.versions import Deployment

__all__ = ["WorkerRunner", "build_worker"]  # build_worker: tests build workers with it

log = logging.getLogger(__name__)

# How often a versioned worker reads which version is current (for eager starts).
VERSION_CHECK_SECONDS: Final = 10.0
PROMOTE_TIMEOUT_SECONDS: Final = 120.0
CONNECT_TIMEOUT: Final[float] = setting_default("temporal_timeout_seconds")
SANDBOXED: Final[bool] = setting_default("workflow_sandbox")
PROMOTE: Final[bool] = setting_default("temporal_worker_promote")


class WorkerRunner:
    def __init__(
        self,
        *,
        connection: TemporalConnection,
        task_queue: str,
        activities: OrderActivities,
        connect_timeout: float = CONNECT_TIMEOUT,
        sandboxed: bool = SANDBOXED,
        runtime: Runtime | None = None,
        workflow_cache: int = WORKFLOW_CACHE,
        deployment: Deployment | None = None,
        promote: bool = PROMOTE,
        max_activities: int = MAX_ACTIVITIES,
        version_check_seconds: float = VERSION_CHECK_SECONDS,
    ) -> None:
        self._max_activities = max_activities
        self._deployment = deployment  # None: an unversioned worker
        self._version_check_seconds = version_check_seconds
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
                    max_activities=self._max_activities,
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
            except TEMPORAL_FAILURES as exc:
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
            except TEMPORAL_FAILURES as exc:
                log.warning("temporal worker cannot read its version's state error=%s", exc)
            await asyncio.sleep(self._version_check_seconds)

    async def shutdown(self) -> None:
        """Stop polling and wait for in-flight activities (bounded by GRACEFUL_SHUTDOWN)."""
        self._stopping = True
        if self._worker is not None:
            await self._worker.shutdown()
