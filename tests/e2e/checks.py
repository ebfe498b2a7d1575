"""What the e2e tests check after a burst of orders: each processed exactly once."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

import asyncpg

from tests.support.api import ApiUser
from tests.support.processes import Process
from tests.support.waiting import eventually

DEADLINE_S = 120
PROCESSED = re.compile(r"Order processed order_id=([0-9a-f-]{36})")


async def outbox_count(db: asyncpg.Connection, order_ids: list[str], where: str) -> int:
    """How many outbox rows of these orders satisfy `where` (a fixed SQL condition)."""
    n: int = await db.fetchval(
        f"SELECT count(*) FROM outbox WHERE aggregate_id = ANY($1::uuid[]) AND {where}",
        [uuid.UUID(i) for i in order_ids],
    )
    return n


async def now(db: asyncpg.Connection) -> datetime:
    """The database's clock, the one processed_orders.processed_at is read on."""
    moment: datetime = await db.fetchval("SELECT clock_timestamp()")
    return moment


async def assert_processed_exactly_once(
    db: asyncpg.Connection,
    celery: Sequence[Process],
    order_ids: list[str],
    deadline_s: float = DEADLINE_S,
    celery_killed_at: datetime | None = None,
) -> None:
    """Each order has one processed_orders row and one `Order processed` line among the
    Celery workers' logs, and its `new_order` event was published.

    `celery_killed_at`: when one of the workers was SIGKILLed (`now`). The task logs its
    line after its commit, so an order recorded before then may have lost its line with
    the worker: it may have none (never two; its row is the only one, by its key)."""
    wanted = [uuid.UUID(i) for i in order_ids]

    async def all_processed() -> bool:
        n = await db.fetchval(
            "SELECT count(*) FROM processed_orders WHERE order_id = ANY($1::uuid[])", wanted
        )
        return bool(n == len(wanted))

    await eventually(all_processed, deadline_s=deadline_s, what=f"{len(wanted)} orders processed")

    def processed_lines() -> Counter[str]:
        return Counter(i for worker in celery for i in PROCESSED.findall(worker.output()))

    may_lack: set[str] = set()
    if celery_killed_at is not None:
        rows = await db.fetch(
            "SELECT order_id FROM processed_orders"
            " WHERE order_id = ANY($1::uuid[]) AND processed_at <= $2",
            wanted,
            celery_killed_at,
        )
        may_lack = {str(r["order_id"]) for r in rows}

    async def all_logged() -> bool:  # the task logs `Order processed` after its commit
        lines = processed_lines()
        return all(lines[i] or i in may_lack for i in order_ids)

    await eventually(all_logged, deadline_s=10.0, what="an `Order processed` line for each")
    lines = processed_lines()
    lost = {i for i in may_lack if lines[i] == 0}
    counted = [i for i in order_ids if i not in lost]
    assert {i: lines[i] for i in counted} == dict.fromkeys(counted, 1)
    # The confirm is recorded after the publish: a worker killed in between leaves the row
    # until Temporal retries the activity (after its start-to-close timeout).
    unpublished = "event_type = 'new_order' AND published_at IS NULL"

    async def all_published() -> bool:
        return await outbox_count(db, order_ids, unpublished) == 0

    await eventually(all_published, deadline_s=DEADLINE_S, what="every new_order confirmed")


async def create_many(user: ApiUser, n: int, concurrency: int = 10) -> list[str]:
    gate = asyncio.Semaphore(concurrency)

    async def one() -> str:
        async with gate:
            return str((await user.create_order(n_items=1))["id"])

    return list(await asyncio.gather(*(one() for _ in range(n))))


ONE_ORDER_DEADLINE_S = 60  # one order, from POST /orders/ to its log line


def processed_lines(output: str, order_id: str) -> int:
    return len(re.findall(rf"Order processed order_id={re.escape(order_id)}\b", output))


async def processed_once(celery: Process, order_id: str) -> None:
    """Wait for the worker's log line `Order processed order_id=<id>`."""
    await eventually(
        lambda: processed_lines(celery.output(), order_id) == 1,
        deadline_s=ONE_ORDER_DEADLINE_S,
        what=f"'Order processed order_id={order_id}'",
    )
