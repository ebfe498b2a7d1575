"""Outages on purpose: every order that got a 201 is processed exactly once by effect.

Each server sits behind a TCP proxy that the test cuts and restores, so the shared
PostgreSQL, RabbitMQ and Temporal servers are never stopped. RabbitMQ's outage is
test_broker_recovery.py's (how soon orders move again, and what the outage costs).
"""

from __future__ import annotations

import asyncio

import aiohttp
import asyncpg
import pytest

from tests.e2e.checks import DEADLINE_S, assert_processed_exactly_once, create_many, outbox_count
from tests.support.api import ApiUser
from tests.support.faults import free_port, tcp_proxy
from tests.support.stack import Stack
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow


async def worker_current(http: aiohttp.ClientSession, ready: str) -> bool:
    """Whether the service's worker says its version is the current one (operator /ready)."""
    async with http.get(ready) as resp:
        details = (await resp.json())["details"]
    return bool(details["worker_version"]["current"])


async def test_temporal_unreachable_during_50_orders(
    stack: Stack, http: aiohttp.ClientSession, db: asyncpg.Connection
) -> None:
    host, port = stack.temporal.address.rsplit(":", 1)
    with tcp_proxy(host, int(port)) as temporal:
        stack.overrides["TEMPORAL_ADDRESS"] = temporal.address
        # A hand-off Temporal does not answer fails after this (10 s by default): the relay's
        # first failed attempts come, and the outage can end, 5 s sooner.
        stack.overrides["TEMPORAL_TIMEOUT_SECONDS"] = "5"
        operator_port = free_port()
        stack.start_service(operator_port=operator_port)
        celery = stack.start_celery()
        user = await ApiUser(http, stack.base_url).sign_up()
        # The outage of a service that runs: its worker has made its version current (else
        # it reads that again 10 s after the cut made its first read fail, whenever the cut
        # happened to come first).
        ready = f"http://127.0.0.1:{operator_port}/ready"
        await eventually(lambda: worker_current(http, ready), what="the worker's version current")

        temporal.cut()
        ids = await create_many(user, 50)

        async def relay_retried() -> bool:
            return await outbox_count(db, ids, "relayed_at IS NULL AND attempts > 0") > 0

        await eventually(relay_retried, deadline_s=DEADLINE_S, what="failed relay attempts")
        temporal.restore()
        await assert_processed_exactly_once(db, [celery], ids)
        stack.stop_all()  # while Temporal is reachable: its worker's shutdown is quick then


async def test_service_killed_with_200_orders_in_flight(
    stack: Stack, http: aiohttp.ClientSession, db: asyncpg.Connection
) -> None:
    # Rows the killed relay had claimed are claimable again once their lease runs out:
    # shortened from 30 s (above the hand-off's timeout, as the settings require).
    stack.overrides.update(TEMPORAL_TIMEOUT_SECONDS="5", RELAY_LEASE_SECONDS="6")
    service = stack.start_service()
    celery = stack.start_celery()
    user = await ApiUser(http, stack.base_url).sign_up()

    accepted: list[str] = []
    gate = asyncio.Semaphore(20)

    async def one() -> None:
        async with gate:
            try:
                accepted.append(str((await user.create_order(n_items=1))["id"]))
            except (TimeoutError, aiohttp.ClientError, AssertionError):
                return  # the service died under this request: no 201, no promise

    tasks = [asyncio.create_task(one()) for _ in range(200)]
    await eventually(lambda: len(accepted) >= 100, deadline_s=DEADLINE_S, what="100 orders")
    service.kill()
    await asyncio.gather(*tasks)
    assert 100 <= len(accepted) <= 200

    stack.start_service(name="service-restarted")
    await assert_processed_exactly_once(db, [celery], accepted)
