"""The workflow's own log lines, as the service writes them: the request's correlation id
in the brackets (not `[-]`), and no SDK context dictionary appended to each message."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from core.lifecycle import OrderStatus
from service import pipeline
from service.logs import TEXT_FORMAT, CorrelationFilter
from service.settings import Settings
from store.cache import OrderCache
from tests.support.order_workflow import start, worker
from tests.support.orders import change_status, place_order, relay_all
from tests.support.publishers import RecordingPublisher
from tests.support.waiting import eventually


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    """What the workflow logs, through the service's text format and correlation filter."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    handler.addFilter(CorrelationFilter())
    logger = logging.getLogger("workflows")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    yield out
    logger.removeHandler(handler)
    logger.setLevel(level)


async def test_workflow_log_lines_carry_the_request_id(
    time_skipping_env: WorkflowEnvironment,
    settings: Settings,
    pool: asyncpg.Pool,
    cache: OrderCache,
    lines: io.StringIO,
) -> None:
    env = time_skipping_env
    placed = await place_order(pool, cache, relayed=True)
    relay = pipeline.relay(pool, env.client, settings)
    async with worker(env, settings, pool, cache, RecordingPublisher()):
        handle = await start(env, settings, placed, correlation_id="req-7f3a")
        await change_status(pool, cache, placed, OrderStatus.PAID)
        await relay_all(relay, pool, placed)
        await eventually(lambda: "order status changed" in lines.getvalue(), what="the log line")
        await handle.terminate("test done")

    line = next(x for x in lines.getvalue().splitlines() if "order status changed" in x)
    assert "[req-7f3a]" in line
    assert f"order_id={placed.id} PENDING->PAID" in line
    assert "workflow_type" not in line  # no SDK context dictionary
