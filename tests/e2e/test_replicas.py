"""Several replicas on one machine: two service processes of each role (two `api,relay`,
two `worker,consumer`, as compose.yml splits them) and two Celery workers take 300
orders; mid-burst one process of each kind is SIGKILLed and started again. Every order
that got a 201 is processed exactly once: one processed_orders row, one log line."""

from __future__ import annotations

import asyncio
from collections import Counter

import aiohttp
import asyncpg
import pytest

from tests.e2e.checks import PROCESSED, assert_processed_exactly_once, now
from tests.support.api import ApiUser
from tests.support.faults import free_port
from tests.support.processes import Process
from tests.support.stack import Stack
from tests.support.waiting import eventually

# About 30 s here: the posting (10 s), then the lost task's PROCESSING_TIMEOUT, the claim
# its killed Celery worker left running out, and the drain.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

ORDERS = 300
KILL_AFTER = 100  # accepted orders before the kills
RATE = 30  # orders a second
# The timings that bound how long a killed process's work waits for another one, shortened
# (the defaults are minutes): a task in flight on the killed Celery worker waits in Redis
# for the visibility timeout (an hour), so its order's workflow publishes it again after
# PROCESSING_TIMEOUT, and the redelivery finds the dead worker's claim until it runs out;
# rows the killed relay had claimed wait out their lease.
TIMINGS = {
    "PROCESSING_TIMEOUT": "PT10S",
    "PROCESS_ORDER_LEASE_SECONDS": "5",
    "RELAY_LEASE_SECONDS": "12",
}


async def test_one_of_each_role_sigkilled_mid_burst_loses_no_order(
    stack: Stack, http: aiohttp.ClientSession, db: asyncpg.Connection
) -> None:
    stack.overrides.update(TIMINGS)
    ports = [stack.http_port, free_port()]
    started = await asyncio.gather(  # all at once: each waits for its /health
        *(
            asyncio.to_thread(stack.start_service, f"api-relay-{i}", "api,relay", port)
            for i, port in enumerate(ports)
        ),
        *(
            asyncio.to_thread(
                stack.start_service, f"worker-consumer-{i}", "worker,consumer", free_port()
            )
            for i in range(2)
        ),
    )
    fronts, backs = started[:2], started[2:]
    celery = [stack.start_celery(f"celery-{i}") for i in range(2)]
    first = await ApiUser(http, f"http://127.0.0.1:{ports[0]}").sign_up()
    second = ApiUser(http, f"http://127.0.0.1:{ports[1]}")
    second.token, second.user_id = first.token, first.user_id
    users = [first, second]

    accepted: list[str] = []
    gate = asyncio.Semaphore(10)
    loop = asyncio.get_running_loop()
    begin = loop.time()

    async def one(n: int) -> None:
        # Paced near what the pipeline keeps up with, so the kills hit work in every hop.
        await asyncio.sleep(max(0.0, begin + n / RATE - loop.time()))
        async with gate:
            for user in (users[n % 2], users[(n + 1) % 2]):  # the other API if one is down
                try:
                    accepted.append(str((await user.create_order(n_items=1))["id"]))
                    return
                except (TimeoutError, aiohttp.ClientError, AssertionError):
                    continue  # no 201, no promise

    burst = [asyncio.create_task(one(n)) for n in range(ORDERS)]
    await eventually(lambda: len(accepted) >= KILL_AFTER, deadline_s=60, what="orders")
    killed: list[Process] = [fronts[0], backs[0], celery[0]]
    for proc in killed:
        proc.kill()
    killed_at = await now(db)
    restarted = await asyncio.gather(
        asyncio.to_thread(stack.start_service, "api-relay-0b", "api,relay", ports[0]),
        asyncio.to_thread(
            stack.start_service, "worker-consumer-0b", "worker,consumer", free_port()
        ),
        asyncio.to_thread(stack.start_celery, "celery-0b"),
    )
    await asyncio.gather(*burst)
    assert len(accepted) > ORDERS * 0.9, len(accepted)  # nearly all were accepted somewhere

    workers = [*celery, restarted[2]]
    await assert_processed_exactly_once(
        db, workers, accepted, deadline_s=90, celery_killed_at=killed_at
    )
    # Orders committed by an API killed before its 201 are processed too, once each.
    query = "SELECT (SELECT count(*) FROM orders) - (SELECT count(*) FROM processed_orders)"

    async def none_left() -> bool:
        return bool(await db.fetchval(query) == 0)

    await eventually(none_left, deadline_s=30, what="every committed order processed")
    lines = Counter(i for p in workers for i in PROCESSED.findall(p.output()))
    assert max(lines.values()) == 1
