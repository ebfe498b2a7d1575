"""How the Temporal worker for OrderWorkflow and its activities is built: its tuning (cache,
pollers, concurrency, shutdown), its sandbox, and the Worker Deployment Version it is.
`service.worker.WorkerRunner` builds one each time it (re)connects; tests build their own."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Final

from temporalio.client import Client
from temporalio.common import WorkerDeploymentVersion
from temporalio.worker import PollerBehaviorSimpleMaximum, Worker, WorkerDeploymentConfig

from activities.order import OrderActivities
from service.logs import plain_activity_lines
from service.settings import setting_default
from workflows import versions
from workflows.replay import WORKFLOWS
from workflows.sandbox import workflow_runner
from workflows.versions import Deployment

GRACEFUL_SHUTDOWN: Final = timedelta(seconds=10)
# Tuned for a 2-core machine (the cache's size: TEMPORAL_WORKFLOW_CACHE, whose default is
# the one given here; service/settings/pipeline.py says why). Few pollers: an idle long poll
# still costs the server; most publishes are local activities (no activity task).
WORKFLOW_CACHE: Final[int] = setting_default("temporal_workflow_cache")
WORKFLOW_POLLERS: Final = PollerBehaviorSimpleMaximum(4)
ACTIVITY_POLLERS: Final = PollerBehaviorSimpleMaximum(2)
# Activities run at once (TEMPORAL_MAX_ACTIVITIES): publishes awaiting RabbitMQ, checks, expiries.
MAX_ACTIVITIES: Final[int] = setting_default("temporal_max_activities")


def build_worker(
    client: Client,
    task_queue: str,
    activities: OrderActivities,
    *,
    sandboxed: bool,
    workflow_cache: int = WORKFLOW_CACHE,
    deployment: Deployment | None = None,
    workflows: Sequence[type] = WORKFLOWS,
    max_activities: int = MAX_ACTIVITIES,
) -> Worker:
    """`sandboxed`: run the workflows in the Temporal sandbox (workflows/sandbox.py);
    `deployment`: the version this worker is (None: an unversioned worker); `workflows`:
    another version's code (a deploy test); `max_activities`: activities run at once."""
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
        max_concurrent_activities=max_activities,
    )
