"""The server's dynamic config the service benefits from, and whether this server has it.

Two settings of the server save a round trip per order (docs/performance.md): eager
workflow start (the relay beside a worker gets a new order's first workflow task in the
start's answer) and eager activity execution (an activity scheduled by a workflow task
runs on the worker that completed it). The server's API does not show its dynamic config,
so the first is measured: a probe workflow is started eagerly on a task queue of its own,
with a worker of this process, and the answer says whether the server granted it. The
second leaves no trace a client can see; it is reported as needed, unknown.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from temporalio import workflow
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

EAGER_WORKFLOW_START: Final = "system.enableEagerWorkflowStart"
EAGER_ACTIVITIES: Final = "system.enableActivityEagerExecution"
PROBE_WORKFLOW_ID_PREFIX: Final = "orders-setup-probe-"


@workflow.defn(name="OrdersSetupProbe")
class SetupProbe:
    """Does nothing: only how it was started matters."""

    @workflow.run
    async def run(self) -> None:
        return None


@dataclass(frozen=True, slots=True)
class DynamicConfig:
    name: str
    why: str
    on: bool | None  # None: the server does not say


async def eager_start_granted(client: Client, *, rpc_timeout: timedelta) -> bool:
    """Start the probe eagerly with a worker of this process; True when the server handed
    its first workflow task back in the start's answer."""
    probe_id = f"{PROBE_WORKFLOW_ID_PREFIX}{uuid.uuid4()}"
    worker = Worker(
        client,
        task_queue=probe_id,
        workflows=[SetupProbe],
        workflow_runner=UnsandboxedWorkflowRunner(),
        max_cached_workflows=1,
    )
    async with worker:
        handle: WorkflowHandle[SetupProbe, None] = await client.start_workflow(
            SetupProbe.run,
            id=probe_id,
            task_queue=probe_id,
            request_eager_start=True,
            execution_timeout=rpc_timeout,
            rpc_timeout=rpc_timeout,
        )
        await handle.result(rpc_timeout=rpc_timeout)
    # The SDK records the server's answer on the handle; no public accessor yet.
    return bool(getattr(handle, "__temporal_eagerly_started", False))


async def dynamic_config(client: Client, *, rpc_timeout: timedelta) -> list[DynamicConfig]:
    return [
        DynamicConfig(
            f"{EAGER_WORKFLOW_START}=true",
            "a new order's first workflow task comes back with its start (relay beside a worker)",
            await eager_start_granted(client, rpc_timeout=rpc_timeout),
        ),
        DynamicConfig(
            f"{EAGER_ACTIVITIES}=true",
            "an activity runs on the worker whose workflow task scheduled it",
            None,
        ),
    ]
