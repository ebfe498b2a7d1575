"""Record the workflow histories that tests/unit/test_workflow_replay.py replays.

Histories are evidence of what running workflows did, so they are append-only: each
version of the workflow records into its own folder, `v<WORKFLOW_VERSION>/`
(workflows/names.py), and an existing file is never written again. After a change to
the workflow (behind `workflow.patched`, with `WORKFLOW_VERSION` bumped), run
`.venv/bin/python -m tests.histories.record` and commit the new folder; every folder
keeps replaying in CI. Each scenario runs the real workflow on the time-skipping test
server with stand-in activities (the history records their results, so their
implementation does not matter for replay).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.client import WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.names import ACTIVITY_EXPIRE_ORDER, ACTIVITY_PUBLISH_EVENT
from activities.types import ExpireInput, ExpireResult, PublishInput, PublishResult
from tests.support.temporal import start_time_skipping_server
from workflows.names import WORKFLOW_VERSION, publish_workflow_id, workflow_id
from workflows.order import OrderWorkflow
from workflows.publish import PublishEventWorkflow
from workflows.sandbox import workflow_runner
from workflows.types import OrderWorkflowInput, Processed, StatusChanged

HERE = Path(__file__).parent
TIMEOUT = timedelta(hours=24)
log = logging.getLogger("record")
Handle = WorkflowHandle[Any, Any]


def folder(version: int = WORKFLOW_VERSION) -> Path:
    return HERE / f"v{version}"


def save(path: Path, text: str) -> bool:
    """Write a new history; an existing one is kept as it is (False)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x") as f:
            f.write(text)
    except FileExistsError:
        return False
    return True


class StandIns:
    def __init__(
        self, *, publish_failures: int = 0, expire_cancels: bool = True, poison: bool = False
    ) -> None:
        self.publish_failures = publish_failures
        self.expire_cancels = expire_cancels
        self.poison = poison

    @activity.defn(name=ACTIVITY_PUBLISH_EVENT)
    async def publish_event(self, event: PublishInput) -> PublishResult:
        if self.poison:
            raise ApplicationError("event_id is not a UUID: 'x'", non_retryable=True)
        if activity.info().attempt <= self.publish_failures:
            raise ConnectionError("broker down")
        return PublishResult(datetime.now(UTC), event.event_id, event.event_type)

    @activity.defn(name=ACTIVITY_EXPIRE_ORDER)
    async def expire_order(self, order: ExpireInput) -> ExpireResult:
        return ExpireResult(canceled=self.expire_cancels)


def change(old: str, new: str) -> StatusChanged:
    event_id = str(uuid.uuid4())
    return StatusChanged(event_id, old, new, datetime.now(UTC), f'{{"event_id": "{event_id}"}}')


def processed() -> Processed:
    return Processed(str(uuid.uuid4()), datetime.now(UTC))


async def shipped(env: WorkflowEnvironment, handle: Handle) -> None:
    await handle.signal(OrderWorkflow.status_changed, change("PENDING", "PAID"))
    await handle.signal(OrderWorkflow.processed, processed())
    again = change("PAID", "SHIPPED")
    await handle.signal(OrderWorkflow.status_changed, again)
    await handle.signal(OrderWorkflow.status_changed, again)  # a duplicate delivery


async def expired(env: WorkflowEnvironment, handle: Handle) -> None:
    await env.sleep(TIMEOUT + timedelta(seconds=1))
    await handle.signal(OrderWorkflow.status_changed, change("PENDING", "CANCELED"))


async def paid_meanwhile(env: WorkflowEnvironment, handle: Handle) -> None:
    await env.sleep(TIMEOUT + timedelta(seconds=1))  # expire finds it PAID already
    await handle.signal(OrderWorkflow.status_changed, change("PENDING", "PAID"))
    await handle.signal(OrderWorkflow.status_changed, change("PAID", "CANCELED"))


async def broker_down(env: WorkflowEnvironment, handle: Handle) -> None:
    await handle.signal(OrderWorkflow.processed, processed())
    await handle.signal(OrderWorkflow.status_changed, change("PENDING", "CANCELED"))


async def lost_after_handoff(env: WorkflowEnvironment, handle: Handle) -> None:
    await env.sleep(timedelta(minutes=4))  # 1 min, then 2 min: published twice more
    await handle.signal(OrderWorkflow.processed, processed())
    await handle.signal(OrderWorkflow.status_changed, change("PENDING", "PAID"))
    await handle.signal(OrderWorkflow.status_changed, change("PAID", "SHIPPED"))


async def nothing(env: WorkflowEnvironment, handle: Handle) -> None:
    return None


@dataclass(frozen=True)
class Scenario:
    stand_ins: StandIns
    run: Callable[[WorkflowEnvironment, Handle], Awaitable[None]]
    processing_timeout: timedelta = timedelta(minutes=5)
    publish_alone: bool = False  # PublishEventWorkflow instead of OrderWorkflow


SCENARIOS: dict[str, Scenario] = {
    "shipped_and_processed": Scenario(StandIns(), shipped),
    "expired_unpaid": Scenario(StandIns(expire_cancels=True), expired),
    "paid_before_expiry": Scenario(StandIns(expire_cancels=False), paid_meanwhile),
    "publish_retried": Scenario(StandIns(publish_failures=3), broker_down),
    # v2
    "republished_until_processed": Scenario(StandIns(), lost_after_handoff, timedelta(minutes=1)),
    "parked_on_poison_input": Scenario(StandIns(poison=True), nothing),
    "status_published_alone": Scenario(StandIns(publish_failures=1), nothing, publish_alone=True),
}


async def start(env: WorkflowEnvironment, scenario: Scenario, queue: str) -> Handle:
    order_id = uuid.uuid4()
    if scenario.publish_alone:
        event_id = str(uuid.uuid4())
        event = PublishInput(
            str(order_id), event_id, "order_status_changed", "{}", reason="order workflow gone"
        )
        return await env.client.start_workflow(
            PublishEventWorkflow.run,
            event,
            id=publish_workflow_id(order_id, event_id),
            task_queue=queue,
        )
    order = OrderWorkflowInput(
        order_id=str(order_id),
        user_id=7,
        event_id=str(uuid.uuid4()),
        event_json=f'{{"event_type": "new_order", "order_id": "{order_id}"}}',
        created_at=await env.get_current_time(),
        payment_timeout_seconds=TIMEOUT.total_seconds(),
        processing_timeout_seconds=scenario.processing_timeout.total_seconds(),
    )
    return await env.client.start_workflow(
        OrderWorkflow.run, order, id=workflow_id(order_id), task_queue=queue
    )


async def record(env: WorkflowEnvironment, name: str, scenario: Scenario) -> None:
    path = folder() / f"{name}.json"
    if path.exists():
        log.info("kept %s: recorded histories are never written again", path)
        return
    queue = f"record-{uuid.uuid4()}"
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[OrderWorkflow, PublishEventWorkflow],
        activities=[scenario.stand_ins.publish_event, scenario.stand_ins.expire_order],
        workflow_runner=workflow_runner(),
    ):
        handle = await start(env, scenario, queue)
        await scenario.run(env, handle)
        with contextlib.suppress(WorkflowFailureError):  # a parked order fails
            await asyncio.wait_for(handle.result(), timeout=60)
        history = await handle.fetch_history()
    save(path, history.to_json())
    log.info("recorded %s: %s events", path, len(history.events))


async def main() -> None:
    env = await start_time_skipping_server()
    async with env:
        for name, scenario in SCENARIOS.items():
            await record(env, name, scenario)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    asyncio.run(main())
