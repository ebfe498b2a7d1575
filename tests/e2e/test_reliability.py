"""The pipeline never wedges and never drops an order silently: poisoned outbox rows park
alone, and a task lost after the hand-off to Celery is published again by its workflow.
The service and Celery run as processes, against the real servers."""

from __future__ import annotations

import re
import uuid

import aiohttp
import asyncpg
import orjson
import redis.asyncio as aioredis

from tests.e2e.checks import assert_processed_exactly_once, create_many
from tests.support.api import ApiUser
from tests.support.faults import free_port
from tests.support.stack import Stack
from tests.support.waiting import eventually

GOOD_ORDERS_S = 30  # "within seconds": 150 orders take a few here


async def insert_row(db: asyncpg.Connection, payload: object, attempts: int = 0) -> uuid.UUID:
    event_id = uuid.uuid4()
    await db.execute(
        "INSERT INTO outbox (id, aggregate_id, event_type, payload, attempts)"
        " VALUES ($1, $2, 'new_order', $3, $4)",
        event_id,
        uuid.uuid4(),
        orjson.dumps(payload).decode(),
        attempts,
    )
    return event_id


async def test_poisoned_rows_ahead_of_150_orders_park_and_every_order_is_processed(
    stack: Stack, http: aiohttp.ClientSession, db: asyncpg.Connection
) -> None:
    """An overflowed row (2,000 attempts, and Temporal refuses it) and unparseable ones
    used to roll back every batch they were in, be retried forever, or kill the relay
    (an `event_id` that is a number raised AttributeError)."""
    event = {
        "event_id": str(uuid.uuid4()),
        "event_type": "new_order",
        "order_id": str(uuid.uuid4()),
        "user_id": 7,
        "items": [{"product_id": 1, "quantity": 1, "price": 1}],
        "total_price": 1,
        "created_at": "2024-05-06T07:08:09+00:00",
    }
    # Beyond the Int search attribute: Temporal refuses the start.
    overflowed = await insert_row(db, {**event, "user_id": 2**63}, attempts=2000)
    unparseable = await insert_row(db, {"event_id": 1})
    numeric_id = await insert_row(db, {**event, "event_id": 1})
    operator_port = free_port()
    service = stack.start_service(operator_port=operator_port)
    celery = stack.start_celery()
    user = await ApiUser(http, stack.base_url).sign_up()

    ids = await create_many(user, 150)

    await assert_processed_exactly_once(db, [celery], ids, deadline_s=GOOD_ORDERS_S)
    rows = await db.fetch("SELECT id, parked_reason FROM outbox WHERE parked_at IS NOT NULL")
    parked = {r["id"]: r["parked_reason"] for r in rows}
    assert parked.keys() == {overflowed, unparseable, numeric_id}
    # Temporal refuses it as invalid: parked at this attempt, not after a day of retries.
    assert parked[overflowed].startswith(
        "cannot be relayed: Temporal refused it (INVALID_ARGUMENT): "
    )
    assert parked[unparseable].startswith("cannot be relayed: event_type is None")
    assert parked[numeric_id] == "cannot be relayed: event_id is not a string"
    lines = [ln for ln in service.output().splitlines() if "outbox row parked" in ln]
    assert all(any(f"event_id={i}" in ln for ln in lines) for i in parked)
    assert all(" ERROR " in ln for ln in lines)
    # The operator listener tells how many are parked; the public /ready does not.
    async with http.get(f"http://127.0.0.1:{operator_port}/ready") as resp:
        assert resp.status == 200
        assert (await resp.json())["details"]["outbox_parked"] == 3
    status, ready = await user.get("/ready")
    assert (status, set(ready)) == (200, {"status", "checks"})


async def test_tasks_lost_after_the_hand_off_are_published_again_and_processed_once(
    stack: Stack, http: aiohttp.ClientSession, db: asyncpg.Connection
) -> None:
    """Redis without persistence restarted with 3 tasks queued: nobody would ever run them."""
    stack.overrides["PROCESSING_TIMEOUT"] = "PT3S"
    stack.start_service()
    user = await ApiUser(http, stack.base_url).sign_up()
    ids = [str((await user.create_order())["id"]) for _ in range(3)]
    queue = stack.env()["CELERY_QUEUE"]
    broker = aioredis.Redis.from_url(stack.env()["CELERY_BROKER_URL"])
    try:

        async def handed_off() -> bool:
            return await broker.llen(queue) == 3

        await eventually(handed_off, what="3 tasks in Celery's queue, no worker running")
        await broker.delete(queue)  # what a restart of a Redis without persistence does
    finally:
        await broker.aclose()

    celery = stack.start_celery()
    await assert_processed_exactly_once(db, [celery], ids, deadline_s=60)

    status, history = await user.get(f"/orders/{ids[0]}/history/")
    assert status == 200
    published = [e["details"] for e in history if e["kind"] == "published"]
    assert published[0] == {"event_id": published[0]["event_id"], "event_type": "new_order"}
    assert published[1]["event_id"] == published[0]["event_id"]  # the same event again
    # Republished at the first check that found the task gone: at 3 s, or at the next (6 s)
    # when the first came before the queue was emptied and found the tasks waiting there.
    assert re.match(r"not processed after (3|6) s, republish 1\b", published[1]["reason"])
