"""Outbox rows as the tests see them: each row's state, rows written by hand, parked rows,
the NOTIFYs the outbox's writers send."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import orjson

from core.events import NEW_ORDER
from relay.listener import CHANNEL


@dataclass(frozen=True)
class OutboxState:
    event_type: str
    relayed: bool
    published: bool
    attempts: int
    last_error: str | None


async def outbox_rows(pool: asyncpg.Pool, order_id: uuid.UUID) -> list[OutboxState]:
    rows = await pool.fetch(
        "SELECT event_type, relayed_at, published_at, attempts, last_error FROM outbox"
        " WHERE aggregate_id = $1 ORDER BY seq",
        order_id,
    )
    return [
        OutboxState(
            r["event_type"],
            r["relayed_at"] is not None,
            r["published_at"] is not None,
            r["attempts"],
            r["last_error"],
        )
        for r in rows
    ]


async def insert_row(
    pool: asyncpg.Pool,
    payload: object,
    *,
    event_type: str = NEW_ORDER,
    order_id: uuid.UUID | None = None,
    attempts: int = 0,
) -> tuple[uuid.UUID, uuid.UUID]:
    """An outbox row written by hand (as a bug or an old version could have): its ids."""
    event_id, order_id = uuid.uuid4(), order_id or uuid.uuid4()
    await pool.execute(
        "INSERT INTO outbox (id, aggregate_id, event_type, payload, attempts)"
        " VALUES ($1, $2, $3, $4, $5)",
        event_id,
        order_id,
        event_type,
        orjson.dumps(payload).decode(),
        attempts,
    )
    return event_id, order_id


async def parked(pool: asyncpg.Pool, event_id: uuid.UUID) -> asyncpg.Record | None:
    return await pool.fetchrow(
        "SELECT attempts, parked_reason, relayed_at FROM outbox"
        " WHERE id = $1 AND parked_at IS NOT NULL",
        event_id,
    )


@contextlib.asynccontextmanager
async def notifications(dsn: str) -> AsyncIterator[asyncio.Queue[str]]:
    """The NOTIFYs on the relay's channel, as a relay's listener receives them."""
    received: asyncio.Queue[str] = asyncio.Queue()
    conn = await asyncpg.connect(dsn)
    await conn.add_listener(CHANNEL, lambda *args: received.put_nowait(str(args[3])))
    try:
        yield received
    finally:
        await conn.close()
