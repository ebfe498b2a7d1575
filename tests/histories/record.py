"""Record the workflow histories that tests/unit/test_workflow_replay.py replays, and
retire those of versions the code no longer runs.

Histories are evidence of what running workflows did, so they are append-only while
their version lives: each version of the workflows records into its own folder,
`v<WORKFLOW_VERSION>/` (workflows/names.py), and an existing file is never written again.
After a change to a workflow (`WORKFLOW_VERSION` bumped: a new pinned version), run
`.venv/bin/python -m tests.histories.record` and commit the new folder. Each scenario runs
the real workflow on the time-skipping test server with stand-in activities (the history
records their results, so their implementation does not matter for replay).

The code replays every folder from `OLDEST_REPLAYED_VERSION` on. A version is retired
when no open workflow can need its code any more (docs/operations.md "Retiring old
code" says how to know): raise `OLDEST_REPLAYED_VERSION` past it, then
`.venv/bin/python -m tests.histories.record --retire` deletes the folders below it, and
the replay test holds the folders to exactly the versions kept.
"""

from __future__ import annotations

import argparse
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

from activities.names import (
    ACTIVITY_CHECK_PROCESSING,
    ACTIVITY_EXPIRE_ORDER,
    ACTIVITY_PUBLISH_EVENT,
)
from activities.types import (
    CheckInput,
    CheckResult,
    ExpireInput,
    ExpireResult,
    PublishInput,
    PublishResult,
)
from core.envelope import EventEnvelope
from core.events import (
    ORDER_PROCESSED,
    STATUS_CHANGED,
    OrderProcessedEvent,
    StatusChangedEvent,
    encode_event,
)
from core.lifecycle import OrderStatus
from tests.histories.corpus import folder, retire
from tests.support.temporal import start_time_skipping_server
from workflows.names import publish_workflow_id, workflow_id
from workflows.order import OrderWorkflow
from workflows.publish import PublishEventWorkflow
from workflows.sandbox import workflow_runner
from workflows.types import OrderWorkflowInput

TIMEOUT = timedelta(hours=24)
log = logging.getLogger("record")
Handle = WorkflowHandle[Any, Any]


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
        self,
        *,
        publish_failures: int = 0,
        expire_cancels: bool = True,
        poison: bool = False,
        found_processed: bool = False,
        waiting: int = 0,
    ) -> None:
        self.publish_failures = publish_failures
        self.expire_cancels = expire_cancels
        self.poison = poison
        self.found_processed = found_processed  # check_processing finds it in PostgreSQL
        self.waiting = waiting  # the backlog check_processing reports

    @activity.defn(name=ACTIVITY_PUBLISH_EVENT)
    async def publish_event(self, publish: PublishInput) -> PublishResult:
        if self.poison:
            raise ApplicationError("event_id is not a UUID: 'x'", non_retryable=True)
        if activity.info().attempt <= self.publish_failures:
            raise ConnectionError("broker down")
        event = publish.event
        return PublishResult(datetime.now(UTC), event.event_id, event.event_type, publish.reason)

    @activity.defn(name=ACTIVITY_EXPIRE_ORDER)
    async def expire_order(self, order: ExpireInput) -> ExpireResult:
        return ExpireResult(canceled=self.expire_cancels)

    @activity.defn(name=ACTIVITY_CHECK_PROCESSING)
    async def check_processing(self, order: CheckInput) -> CheckResult:
        if self.found_processed:
            return CheckResult(datetime.now(UTC))
        return CheckResult(None, self.waiting)


ORDER_ID = uuid.UUID(int=7)  # the order of every scenario (each runs on a server of its own)


def change(old: str, new: str) -> EventEnvelope:
    event_id, at = uuid.uuid4(), datetime.now(UTC)
    event = StatusChangedEvent(7, OrderStatus(old), OrderStatus(new), at)
    payload = encode_event(event_id, ORDER_ID, event).decode()
    return EventEnvelope(str(event_id), STATUS_CHANGED, str(ORDER_ID), at, payload)


def processed() -> EventEnvelope:
    event_id, at = uuid.uuid4(), datetime.now(UTC)
    payload = encode_event(event_id, ORDER_ID, OrderProcessedEvent(at)).decode()
    return EventEnvelope(str(event_id), ORDER_PROCESSED, str(ORDER_ID), at, payload)


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


async def stuck_then_retried(env: WorkflowEnvironment, handle: Handle) -> None:
    # Checks after 1, 2, 4, 8, 16 and 32 minutes, each republishing: then stuck.
    await env.sleep(timedelta(minutes=64))
    await handle.signal(OrderWorkflow.retry_processing)  # an operator's
    await env.sleep(timedelta(seconds=30))
    await handle.signal(OrderWorkflow.processed, processed())
    await handle.signal(OrderWorkflow.status_changed, change("PENDING", "CANCELED"))


async def checked_then_canceled(env: WorkflowEnvironment, handle: Handle) -> None:
    await env.sleep(timedelta(minutes=4))  # checks at 1 and 3 minutes
    await handle.signal(OrderWorkflow.status_changed, change("PENDING", "CANCELED"))


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
    # v5
    "stuck_until_retried": Scenario(StandIns(), stuck_then_retried, timedelta(minutes=1)),
    "found_processed_in_postgres": Scenario(
        StandIns(found_processed=True), checked_then_canceled, timedelta(minutes=1)
    ),
    "waited_behind_a_backlog": Scenario(
        StandIns(waiting=40), checked_then_canceled, timedelta(minutes=1)
    ),
}


async def start(env: WorkflowEnvironment, scenario: Scenario, queue: str) -> Handle:
    order_id = ORDER_ID
    if scenario.publish_alone:
        event = change("PAID", "SHIPPED")
        return await env.client.start_workflow(
            PublishEventWorkflow.run,
            PublishInput(event, reason="order workflow gone"),
            id=publish_workflow_id(order_id, event.event_id),
            task_queue=queue,
        )
    event_id = str(uuid.uuid4())
    order = OrderWorkflowInput(
        event=EventEnvelope(
            event_id=event_id,
            event_type="new_order",
            aggregate_id=str(order_id),
            occurred_at=await env.get_current_time(),
            payload=f'{{"event_id": "{event_id}", "event_type": "new_order",'
            f' "order_id": "{order_id}", "user_id": 7}}',
        ),
        user_id=7,
        payment_timeout_seconds=TIMEOUT.total_seconds(),
        processing_timeout_seconds=scenario.processing_timeout.total_seconds(),
    )
    return await env.client.start_workflow(
        OrderWorkflow.run,
        order,
        id=workflow_id(order_id),
        task_queue=queue,
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
        activities=[
            scenario.stand_ins.publish_event,
            scenario.stand_ins.expire_order,
            scenario.stand_ins.check_processing,
        ],
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
    parser = argparse.ArgumentParser(prog="python -m tests.histories.record")
    parser.add_argument(
        "--retire",
        action="store_true",
        help="delete the folders of versions below OLDEST_REPLAYED_VERSION instead",
    )
    if parser.parse_args().retire:
        retire()
    else:
        asyncio.run(main())
