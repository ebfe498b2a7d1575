"""The relay's claim stays cheap however the outbox grew since the relay started.

Reproduced under `bench.run --only fullstack`: a relay started against an empty outbox;
a burst of orders then left thousands of rows waiting, and every claim ran until
PostgreSQL's statement_timeout cancelled it, so the relay stalled for minutes. The claim
is a prepared statement; after five executions PostgreSQL may keep a generic plan, made
while the table was empty, in which each candidate row's per-order check scans the
whole index of waiting rows: the claim's cost grew with (rows claimed) x (rows waiting).
Nothing replaced that plan, since without an ANALYZE nothing invalidates it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from store import outbox
from store.db import create_pool
from tests.support.databases import own_database

WAITING = 20_000  # a burst's backlog (the bench's left about 8,000 after 10 s of POSTs)
BATCH = 100  # the relay's largest window


@pytest.fixture(scope="module")
def claim_dsn() -> Iterator[str]:
    with own_database("orders_claim") as dsn:
        yield dsn


@pytest.fixture
async def relay_pool(claim_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    """One connection, as the relay's claims would reuse one and its cached statements."""
    pool = await create_pool(claim_dsn, min_size=1, max_size=1)
    yield pool
    await pool.close()


async def _claim(pool: asyncpg.Pool, limit: int) -> tuple[int, float]:
    """One claim in a transaction rolled back afterwards: rows claimed, seconds taken."""
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        try:
            began = time.perf_counter()
            rows = await outbox.claim_batch(conn, limit=limit, lease=uuid.uuid4(), lease_seconds=30)
            return len(rows), time.perf_counter() - began
        finally:
            await tx.rollback()


async def test_a_claim_stays_cheap_after_the_outbox_grew_from_empty(
    relay_pool: asyncpg.Pool,
) -> None:
    await relay_pool.execute("TRUNCATE outbox")
    for _ in range(10):  # the relay polls an empty outbox: its statement is cached
        claimed, _ = await _claim(relay_pool, BATCH)
        assert claimed == 0
    await relay_pool.execute(
        "INSERT INTO outbox (id, aggregate_id, event_type, payload)"
        " SELECT gen_random_uuid(), gen_random_uuid(), 'new_order', '{}'::jsonb"
        " FROM generate_series(1, $1)",
        WAITING,
    )

    claims = [await _claim(relay_pool, BATCH) for _ in range(3)]

    assert [n for n, _ in claims] == [BATCH] * 3
    fastest = min(seconds for _, seconds in claims)
    # A linear plan takes a few milliseconds here; the quadratic one took about a second
    # at rest, and several under load.
    assert fastest < 0.25, f"a claim of {BATCH} among {WAITING} rows took {fastest:.2f} s"
