"""The relay's leases on real PostgreSQL: a claimed row is leased, committed, for a bounded
time; a relay that dies mid-hand-off leaves it to any relay once the lease runs out, one
that stops gives it back at once, one whose lease ran out never overwrites a newer
claim's outcome, and a leased row holds back its own order's later rows.

The hand-off is a fake of the relay's Handoff port: what is under test is the relay and
its SQL (the hand-off to Temporal is tested in test_relay.py)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import asyncpg
import pytest

from core.lifecycle import OrderStatus
from relay.outbox import OutboxRelay
from service import pipeline
from service.settings import Settings
from store import outbox, outbox_marks
from store.cache import OrderCache
from store.outbox import OutboxRow
from store.outbox_marks import Failure, Parking
from tests.support.orders import PlacedOrder, change_status, place_order
from tests.support.waiting import eventually


@dataclass
class FakeHandoff:
    """Records each row handed over; hangs on the rows of `hang` until cancelled."""

    hang: set[uuid.UUID] = field(default_factory=set)  # order ids
    handed: list[uuid.UUID] = field(default_factory=list)  # event ids
    hanging: asyncio.Event = field(default_factory=asyncio.Event)
    errors: tuple[type[Exception], ...] = (ConnectionError,)

    async def hand_over(self, row: OutboxRow) -> None:
        if row.aggregate_id in self.hang:
            self.hanging.set()
            await asyncio.Event().wait()
        self.handed.append(row.id)


def relay(settings: Settings, pool: asyncpg.Pool, handoff: FakeHandoff) -> OutboxRelay:
    config = pipeline.relay_config(
        settings, batch_size=100, min_batch_size=100, poll_interval_seconds=0.2
    )
    return OutboxRelay(pool, handoff, config)


LEASES: list[uuid.UUID] = []  # every claim's lease, given back after each test


@pytest.fixture(autouse=True)
async def give_back(pool: asyncpg.Pool) -> AsyncIterator[None]:
    """The claims below take every claimable row, other tests' leftovers too: give them
    back, so no later test meets rows leased to nobody running."""
    yield
    await pool.execute(
        "UPDATE outbox SET leased_until = NULL, lease_owner = NULL"
        " WHERE lease_owner = ANY($1::uuid[])",
        LEASES,
    )
    LEASES.clear()


async def claim(pool: asyncpg.Pool, *, lease_seconds: float) -> tuple[uuid.UUID, set[uuid.UUID]]:
    """A claim as a relay makes it, committed: its lease and the rows it got."""
    lease = uuid.uuid4()
    LEASES.append(lease)
    async with pool.acquire() as conn, conn.transaction():
        rows = await outbox.claim_batch(conn, limit=1000, lease=lease, lease_seconds=lease_seconds)
    return lease, {row.id for row in rows}


async def lease_of(pool: asyncpg.Pool, event_id: uuid.UUID) -> asyncpg.Record:
    row = await pool.fetchrow(
        "SELECT lease_owner, leased_until, relayed_at, attempts, parked_at FROM outbox"
        " WHERE id = $1",
        event_id,
    )
    assert row is not None
    return row


async def test_a_claim_leases_its_rows_and_commits_holding_no_lock(
    pool: asyncpg.Pool, cache: OrderCache
) -> None:
    placed = await place_order(pool, cache)
    lease, claimed = await claim(pool, lease_seconds=30)
    assert placed.event_id in claimed
    row = await lease_of(pool, placed.event_id)
    assert row["lease_owner"] == lease
    # No lock held: the publish activity's mark goes through at once.
    async with asyncio.timeout(2):
        assert await outbox_marks.mark_published(pool, event_id=placed.event_id) is not None
    _, again = await claim(pool, lease_seconds=30)
    assert placed.event_id not in again  # leased: no other claim takes it


async def test_a_row_whose_relay_died_is_handed_over_once_its_lease_runs_out(
    pool: asyncpg.Pool, cache: OrderCache, settings: Settings
) -> None:
    placed = await place_order(pool, cache)
    _, claimed = await claim(pool, lease_seconds=1.0)  # then the relay is "killed"
    assert placed.event_id in claimed
    handoff = FakeHandoff()
    survivor = relay(settings, pool, handoff)

    await survivor.relay_once()
    assert placed.event_id not in handoff.handed  # still leased to the dead relay

    async def handed_over() -> bool:
        await survivor.relay_once()
        return placed.event_id in handoff.handed

    await eventually(handed_over, what="the lease to run out and the row handed over")
    row = await lease_of(pool, placed.event_id)
    assert row["relayed_at"] is not None
    assert (row["lease_owner"], row["attempts"]) == (None, 0)
    assert handoff.handed.count(placed.event_id) == 1


@pytest.mark.timeout(30)
async def test_a_stopped_relay_gives_its_rows_back_at_once(
    pool: asyncpg.Pool, cache: OrderCache, settings: Settings
) -> None:
    placed = await place_order(pool, cache)
    stopping = FakeHandoff(hang={placed.id})
    task = asyncio.create_task(relay(settings, pool, stopping).run())
    try:
        await asyncio.wait_for(stopping.hanging.wait(), 10)
        assert (await lease_of(pool, placed.event_id))["lease_owner"] is not None
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    assert (await lease_of(pool, placed.event_id))["lease_owner"] is None
    handoff = FakeHandoff()
    await relay(settings, pool, handoff).relay_once()  # well within the 30 s lease
    assert placed.event_id in handoff.handed


async def test_a_claim_whose_lease_ran_out_never_overwrites_the_newer_claims_outcome(
    pool: asyncpg.Pool, cache: OrderCache
) -> None:
    placed = await place_order(pool, cache)
    old, _ = await claim(pool, lease_seconds=0.2)

    async def taken_over() -> uuid.UUID | None:
        lease, claimed = await claim(pool, lease_seconds=30)
        return lease if placed.event_id in claimed else None

    new = await eventually(taken_over, what="another claim to take the row over")
    # The old claim's hand-off ends late, and failed: nothing of it is recorded.
    await outbox_marks.mark_failed(pool, failures=[Failure(placed.event_id, "late", 60.0, old)])
    await outbox_marks.park(pool, parkings=[Parking(placed.event_id, "late", old)])
    row = await lease_of(pool, placed.event_id)
    assert (row["lease_owner"], row["attempts"], row["parked_at"]) == (new, 0, None)
    # Relayed is a fact, whoever recorded it; the newer claim's failure then changes nothing.
    await outbox_marks.mark_relayed(pool, ids=[placed.event_id])
    await outbox_marks.mark_failed(pool, failures=[Failure(placed.event_id, "late", 60.0, new)])
    row = await lease_of(pool, placed.event_id)
    assert row["relayed_at"] is not None
    assert (row["lease_owner"], row["attempts"]) == (None, 0)


async def test_a_leased_row_holds_back_its_orders_later_rows(
    pool: asyncpg.Pool, cache: OrderCache
) -> None:
    placed: PlacedOrder = await place_order(pool, cache)
    _, first = await claim(pool, lease_seconds=30)
    assert placed.event_id in first
    await change_status(pool, cache, placed, OrderStatus.PAID)
    status_event = await pool.fetchval(
        "SELECT id FROM outbox WHERE aggregate_id = $1 AND event_type = 'order_status_changed'",
        placed.id,
    )
    _, second = await claim(pool, lease_seconds=30)
    assert status_event not in second  # its order's new_order is still being handed over
    await outbox_marks.mark_relayed(pool, ids=[placed.event_id])
    _, third = await claim(pool, lease_seconds=30)
    assert status_event in third
