"""`orders celery --concurrency 2` as `make run` starts it: its tasks run in threads of the
one process (CELERY_POOL=threads), with no prefork children holding a copy each, and it
loads nothing of the pipeline it does not run (the Temporal SDK's bridge was 12 MiB; asyncpg,
which only the outbox's shared INSERT pulled in, 3.4 MiB)."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from tests.e2e.checks import processed_once
from tests.support.api import ApiUser
from tests.support.stack import Stack


def children(pid: int) -> list[int]:
    """Every child process of `pid`, from each of its threads' /proc entry."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def memory_map(pid: int) -> str:
    """What `pid` has mapped: its libraries and extension modules among them."""
    return Path(f"/proc/{pid}/maps").read_text()


async def test_the_celery_worker_processes_orders_in_threads_of_one_process(
    stack: Stack, http: aiohttp.ClientSession
) -> None:
    stack.start_service()
    celery = stack.start_celery()
    user = await ApiUser(http, stack.base_url).sign_up()
    orders = [await user.create_order() for _ in range(3)]
    for order in orders:
        await processed_once(celery, order["id"])
    assert celery.proc is not None
    assert children(celery.proc.pid) == []
    loaded = memory_map(celery.proc.pid)
    assert "temporal_sdk_bridge" not in loaded
    assert "/asyncpg/" not in loaded
