"""`Outbox.discard` (`orders outbox discard`): a parked row that can never succeed is thrown
away with an audit line naming the operator and the reason, and its order's later rows go
on; a row that is not parked is never touched. Real PostgreSQL and Temporal dev server."""

from __future__ import annotations

import logging

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from service import pipeline
from service.settings import Settings
from tests.support.outbox import insert_row, parked
from usecases.outbox import Outbox


async def attempts(pool: asyncpg.Pool, event_id: object) -> int | None:
    value = await pool.fetchval("SELECT attempts FROM outbox WHERE id = $1", event_id)
    return value if isinstance(value, int) else None


async def test_a_discarded_row_is_gone_with_an_audit_line_and_its_order_goes_on(
    temporal_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    poison, order_id = await insert_row(pool, {"event_id": 1})
    # A type no registry row names: the relay parks it without reading it.
    later, _ = await insert_row(
        pool, {"event_id": 2}, event_type="order_shipped", order_id=order_id
    )
    waiting, _ = await insert_row(pool, {"event_id": 3}, attempts=7)  # waits its backoff
    await pool.execute(
        "UPDATE outbox SET next_attempt_at = now() + interval '1 h' WHERE id = $1", waiting
    )
    relay = pipeline.relay(pool, temporal_env.client, settings)
    await relay.relay_once()
    assert await parked(pool, poison) is not None
    assert await attempts(pool, later) == 0  # held back by the parked row

    with caplog.at_level(logging.WARNING, logger="audit"):
        [discarded] = await Outbox(pool).discard(
            event_ids=[poison, waiting], reason="written by a bug, no such order", by="ada"
        )
    assert discarded.id == poison
    assert await attempts(pool, poison) is None  # gone
    assert await attempts(pool, waiting) == 7  # a row not parked is never discarded
    [line] = [r for r in caplog.records if r.name == "audit"]
    assert line.levelno == logging.WARNING
    message = line.getMessage()
    assert message.startswith(f"outbox_discarded event_id={poison} order_id={order_id}")
    assert "reason=written by a bug, no such order by=ada" in message
    assert f"parked_reason={discarded.reason}" in message

    await relay.relay_once()  # the order's later row is claimed now (and parked: unknown type)
    assert await parked(pool, later) is not None
    assert await Outbox(pool).discard(reason="all", by="ada", order_id=order_id) != []
    assert await Outbox(pool).discard(reason="all", by="ada", order_id=order_id) == []
    await pool.execute("DELETE FROM outbox WHERE id = $1", waiting)
