"""The production WorkerRunner as one version of the order worker, promoting itself when it
is due to, for the tests of deploys and operator workflows."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.order import OrderActivities
from service.settings import Settings
from service.worker import WorkerRunner
from workflows import versions
from workflows.client import TemporalConnection

# How often the runner reads which version is current: the production's 10 s
# (service.worker.VERSION_CHECK_SECONDS) shortened, so a promotion's tests wait for the old
# worker to see it about a second, not up to 10 s. Not much shorter: the dev server limits
# the requests to one Worker Deployment, and at 0.2 s a promotion's own were refused ("too
# many requests issued to Worker Deployment").
VERSION_CHECK_SECONDS = 1.0


@contextlib.asynccontextmanager
async def versioned_runner(
    env: WorkflowEnvironment, settings: Settings, acts: OrderActivities, build_id: str
) -> AsyncIterator[WorkerRunner]:
    """The production runner as one version, promoting itself when it is due to."""
    runner = WorkerRunner(
        connection=TemporalConnection(
            env.client.service_client.config.target_host, namespace=env.client.namespace
        ),
        task_queue=settings.temporal_task_queue,
        activities=acts,
        sandboxed=True,
        deployment=versions.Deployment(settings.temporal_task_queue, build_id),
        promote=True,
        version_check_seconds=VERSION_CHECK_SECONDS,
    )
    task = asyncio.create_task(runner.run())
    try:
        yield runner
    finally:
        await runner.shutdown()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def current(runner: WorkerRunner) -> Client | None:
    return runner.client  # set once the runner's version is current
