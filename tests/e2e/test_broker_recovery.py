"""A RabbitMQ outage and its end: waiting publishes resume within seconds of the broker's
return, and while it is away their attempts per second stay under a bound that does not
grow with the backlog.

RabbitMQ sits behind a TCP proxy the test cuts and restores (the shared server is never
stopped). The settings are scaled down so that a 20 s outage shows what an hour would:
10 activity slots, 8 publishes waiting at most 8 s for the broker, the others 5 s.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import aiohttp
import asyncpg
import pytest
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.client import Client

from tests.e2e.checks import DEADLINE_S, assert_processed_exactly_once, create_many, outbox_count
from tests.support.api import ApiUser
from tests.support.faults import tcp_proxy
from tests.support.stack import Stack
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow

ORDERS = 50
OUTAGE_S = 20.0
SLOTS, WAITERS, WAIT_S = 10, 8, 8.0
OVERFLOW_WAIT_S = 5.0  # activities.broker_gate.OVERFLOW_WAIT_SECONDS
COUNTED_S = 12.0  # the attempts counted: from 8 s into the outage to its end


def attempts_bound(seconds: float) -> float:
    """While RabbitMQ is away each attempt holds its activity slot for its wait, so in any
    `seconds` a slot starts at most seconds / wait + 1 of them: WAITERS / WAIT_S +
    (SLOTS - WAITERS) / OVERFLOW_WAIT_S a second in the long run (1.4 here), however many
    orders wait (docs/architecture.md, "Every loop ends")."""
    return WAITERS * (seconds / WAIT_S + 1) + (SLOTS - WAITERS) * (seconds / OVERFLOW_WAIT_S + 1)


async def publish_attempts(client: Client, order_ids: list[str]) -> int:
    """The publish activity attempts the orders' workflows have started so far (their local
    first attempt not counted): a pending activity's `attempt` is the one running, or the
    next one while it waits out its retry delay."""
    total = 0
    for order_id in order_ids:
        described = await client.get_workflow_handle(f"order-{order_id}").describe()
        for pending in described.raw_description.pending_activities:
            started = pending.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
            total += pending.attempt if started else pending.attempt - 1
    return total


async def first_processed(db: asyncpg.Connection, order_ids: list[str]) -> int:
    n: int = await db.fetchval(
        "SELECT count(*) FROM processed_orders WHERE order_id = ANY($1::uuid[])",
        [uuid.UUID(i) for i in order_ids],
    )
    return n


async def test_publishes_resume_at_once_and_attempts_stay_bounded(
    stack: Stack, http: aiohttp.ClientSession, db: asyncpg.Connection
) -> None:
    with tcp_proxy("127.0.0.1", 5672) as rabbit:
        stack.overrides.update(
            RABBITMQ_PORT=str(rabbit.port),
            RABBITMQ_TIMEOUT_SECONDS="2",
            TEMPORAL_MAX_ACTIVITIES=str(SLOTS),
            PUBLISH_MAX_WAITING=str(WAITERS),
            PUBLISH_BROKER_WAIT=f"{WAIT_S}s",
        )
        stack.start_service()
        celery = stack.start_celery()
        user = await ApiUser(http, stack.base_url).sign_up()

        rabbit.cut()
        cut_at = time.monotonic()
        ids = await create_many(user, ORDERS)

        async def all_handed_to_temporal() -> bool:
            return await outbox_count(db, ids, "relayed_at IS NOT NULL") == len(ids)

        await eventually(all_handed_to_temporal, deadline_s=DEADLINE_S, what="relay")
        # Past the first attempts' burst, count the attempts of the outage's steady state.
        await asyncio.sleep(max(0.0, cut_at + OUTAGE_S - COUNTED_S - time.monotonic()))
        client = stack.temporal.client
        counted_from, attempts_before = time.monotonic(), await publish_attempts(client, ids)
        await asyncio.sleep(max(0.0, cut_at + OUTAGE_S - time.monotonic()))
        attempts = await publish_attempts(client, ids) - attempts_before
        counted_s = time.monotonic() - counted_from
        assert await outbox_count(db, ids, "published_at IS NOT NULL") == 0

        rabbit.restore()
        back_at = time.monotonic()
        await eventually(
            lambda: first_processed(db, ids), deadline_s=DEADLINE_S, what="a first order processed"
        )
        first_s = time.monotonic() - back_at
        await assert_processed_exactly_once(db, [celery], ids)
        all_s = time.monotonic() - back_at
        # Stopped while RabbitMQ is still reachable: a consumer cut off from it waits out its
        # shutdown grace cancelling its subscription (5 s of the fixture's teardown).
        stack.stop_all()

    assert attempts <= attempts_bound(counted_s), f"{attempts} publish attempts in {counted_s:.1f}s"
    assert first_s <= 10.0, f"the first order was processed {first_s:.1f}s after RabbitMQ's return"
    assert all_s <= 60.0, f"{ORDERS} orders were processed {all_s:.1f}s after RabbitMQ's return"
