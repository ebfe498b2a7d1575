"""The outbox's NOTIFY is sent only while a relay listens (migrations/0011).

Reproduced under `bench.run --only fullstack`: every order's transaction sent a NOTIFY,
and PostgreSQL commits the transactions that notify one at a time, under a lock on the
whole instance held through the commit's WAL flush. pgbench, 32 clients inserting a row
each transaction: 10,450 commits/s without the NOTIFY, 1,193 with it. With the trigger
disabled the API alone took 1,296-1,329 POST/s against 625-1,089 with it, on the same
loaded machine. A relay that is busy claims again without being told; only a relay
waiting for work needs the NOTIFY.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import asyncpg
import pytest

from store import relays_listening
from store.db import create_pool
from tests.support.databases import own_database
from tests.support.outbox import insert_row, notifications

QUIET = 0.3  # a NOTIFY arrives within milliseconds; none in this long is none at all


@pytest.fixture(scope="module")
def listen_dsn() -> Iterator[str]:
    with own_database("orders_listen") as dsn:
        yield dsn


@pytest.fixture
async def db(listen_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(listen_dsn, min_size=1, max_size=4)
    await pool.execute("DELETE FROM relays_listening")
    yield pool
    await pool.close()


@pytest.fixture
async def notified(listen_dsn: str) -> AsyncIterator[asyncio.Queue[str]]:
    async with notifications(listen_dsn) as received:
        yield received


async def _none_within(received: asyncio.Queue[str], seconds: float) -> bool:
    try:
        await asyncio.wait_for(received.get(), seconds)
    except TimeoutError:
        return True
    return False


async def test_a_writer_sends_no_notify_while_no_relay_listens(
    db: asyncpg.Pool, notified: asyncio.Queue[str]
) -> None:
    await insert_row(db, {"n": 1})
    assert await _none_within(notified, QUIET)


async def test_a_writer_notifies_while_a_relay_listens_and_not_once_it_is_busy(
    db: asyncpg.Pool, notified: asyncio.Queue[str]
) -> None:
    relay = uuid.uuid4()
    await relays_listening.listen(db, relay)
    await insert_row(db, {"n": 1})
    await asyncio.wait_for(notified.get(), 5)

    await relays_listening.stop_listening(db, relay)
    await insert_row(db, {"n": 2})
    assert await _none_within(notified, QUIET)


async def test_a_relay_that_died_listening_is_no_listener_after_five_minutes(
    db: asyncpg.Pool, notified: asyncio.Queue[str]
) -> None:
    await db.execute(
        "INSERT INTO relays_listening (relay_id, since) VALUES ($1, now() - $2::interval)",
        uuid.uuid4(),
        timedelta(minutes=5, seconds=1),
    )
    await insert_row(db, {"n": 1})
    assert await _none_within(notified, QUIET)


async def test_listening_waits_for_the_writers_that_found_no_listener(
    db: asyncpg.Pool, notified: asyncio.Queue[str]
) -> None:
    """No row is left for the poll: a writer that looked before the relay listened (and so
    sends no NOTIFY) commits before the relay's listen does, so the relay's next claim sees
    its row."""
    async with db.acquire() as writer:
        tx = writer.transaction()
        await tx.start()
        event_id = uuid.uuid4()
        await writer.execute(
            "INSERT INTO outbox (id, aggregate_id, event_type, payload)"
            " VALUES ($1, $2, 'new_order', '{}')",
            event_id,
            uuid.uuid4(),
        )
        listening = asyncio.create_task(relays_listening.listen(db, uuid.uuid4()))
        await asyncio.sleep(QUIET)
        assert not listening.done()  # it waits for the writer's commit
        await tx.commit()
    await asyncio.wait_for(listening, 5)
    seen = await db.fetchval("SELECT count(*) FROM outbox WHERE id = $1", event_id)
    assert seen == 1
    assert await _none_within(notified, QUIET)  # that writer sent none: the claim finds it
