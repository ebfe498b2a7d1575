"""Re-record the OrderWorkflow histories that tests/unit/test_workflow_replay.py replays.

Run `.venv/bin/python -m tests.histories.record` after an intended change to the
workflow, and commit the JSON files. Each scenario runs the real workflow on the
time-skipping test server with stand-in activities (the workflow's history records
their results, so their implementation does not matter for replay).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio import activity
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.names import ACTIVITY_EXPIRE_ORDER, ACTIVITY_PUBLISH_EVENT
from activities.types import ExpireInput, ExpireResult, PublishInput, PublishResult
from tests.support.temporal import start_time_skipping_server
from workflows.names import (
    workflow_id,
)
from workflows.order import OrderWorkflow
from workflows.sandbox import workflow_runner
from workflows.types import (
    LifecycleView,
    OrderWorkflowInput,
    Processed,
    StatusChanged,
)

HERE = Path(__file__).parent
TIMEOUT = timedelta(hours=24)
log = logging.getLogger("record")
Handle = WorkflowHandle[OrderWorkflow, LifecycleView]


class StandIns:
    def __init__(self, *, publish_failures: int = 0, expire_cancels: bool = True) -> None:
        self.publish_failures = publish_failures
        self.expire_cancels = expire_cancels

    @activity.defn(name=ACTIVITY_PUBLISH_EVENT)
    async def publish_event(self, event: PublishInput) -> PublishResult:
        if activity.info().attempt <= self.publish_failures:
            raise ConnectionError("broker down")
        return PublishResult(published_at=datetime.now(UTC))

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


Scenario = Callable[[WorkflowEnvironment, Handle], Awaitable[None]]
SCENARIOS: dict[str, tuple[StandIns, Scenario]] = {
    "shipped_and_processed": (StandIns(), shipped),
    "expired_unpaid": (StandIns(expire_cancels=True), expired),
    "paid_before_expiry": (StandIns(expire_cancels=False), paid_meanwhile),
    "publish_retried": (StandIns(publish_failures=3), broker_down),
}


async def record(env: WorkflowEnvironment, name: str, stand_ins: StandIns, run: Scenario) -> None:
    from temporalio.worker import Worker

    queue = f"record-{uuid.uuid4()}"
    order_id = uuid.uuid4()
    order = OrderWorkflowInput(
        order_id=str(order_id),
        user_id=7,
        event_id=str(uuid.uuid4()),
        event_json=f'{{"event_type": "new_order", "order_id": "{order_id}"}}',
        created_at=await env.get_current_time(),
        payment_timeout_seconds=TIMEOUT.total_seconds(),
    )
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[OrderWorkflow],
        activities=[stand_ins.publish_event, stand_ins.expire_order],
        workflow_runner=workflow_runner(),
    ):
        handle = await env.client.start_workflow(
            OrderWorkflow.run, order, id=workflow_id(order_id), task_queue=queue
        )
        await run(env, handle)
        view = await asyncio.wait_for(handle.result(), timeout=60)
        history = await handle.fetch_history()
    (HERE / f"{name}.json").write_text(history.to_json())
    log.info("recorded %s: %s events, status=%s", name, len(history.events), view.status)


async def main() -> None:
    env = await start_time_skipping_server()
    async with env:
        for name, (stand_ins, run) in SCENARIOS.items():
            await record(env, name, stand_ins, run)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    asyncio.run(main())
