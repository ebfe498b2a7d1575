"""The Temporal worker for OrderWorkflow and its activities, kept running across outages.

A worker needs a connected (not lazy) client, so this runner connects itself and, while
Temporal is unreachable, keeps retrying in the background instead of failing the process.
On shutdown the worker stops polling and lets in-flight activities finish.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Final

from temporalio.client import Client
from temporalio.runtime import Runtime
from temporalio.worker import PollerBehaviorSimpleMaximum, Worker

from activities.order import OrderActivities
from core.backoff import Backoff, BackoffPolicy
from workflows.client import TemporalConnection
from workflows.order import OrderWorkflow
from workflows.publish import PublishEventWorkflow
from workflows.sandbox import workflow_runner

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


def build_worker(
    client: Client,
    task_queue: str,
    activities: OrderActivities,
    *,
    sandboxed: bool,
    workflow_cache: int = WORKFLOW_CACHE,
) -> Worker:
    """`sandboxed`: run the workflows in the Temporal sandbox (workflows/sandbox.py)."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[OrderWorkflow, PublishEventWorkflow],
        activities=[activities.publish_event, activities.expire_order],
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
    ) -> None:
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
                )
                self._client = client
                log.info(
                    "temporal worker running task_queue=%s sandboxed=%s",
                    self._task_queue,
                    self._sandboxed,
                )
                backoff.reset()
                await self._worker.run()
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
        """The connected client the worker polls with, while it runs: a workflow started
        through it with `request_eager_start` gets its first task handed to this worker
        in the start's answer (no poll, no matching)."""
        return self._client

    async def shutdown(self) -> None:
        """Stop polling and wait for in-flight activities (bounded by GRACEFUL_SHUTDOWN)."""
        self._stopping = True
        if self._worker is not None:
            await self._worker.shutdown()
