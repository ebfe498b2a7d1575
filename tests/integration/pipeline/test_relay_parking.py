"""Each outbox row fails alone: poisoned rows are parked, marks never undo one another,
parked rows are re-driven, old rows are deleted. Real PostgreSQL and Temporal dev server."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta

import asyncpg
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from core.events import NEW_ORDER, ORDER_PROCESSED, STATUS_CHANGED
from relay.retention import OutboxRetention
from service import pipeline
from service.settings import Settings
from store.cache import OrderCache
from tests.support.faults import free_port
from tests.support.orders import place_order
from tests.support.outbox import insert_row, outbox_rows, parked
from tests.support.temporal import start_dev_server
from usecases.outbox import Outbox
from workflows.names import SEARCH_ATTRIBUTES
from workflows.namespace import Requirements
from workflows.provisioning import provision


async def test_an_unparseable_row_is_parked_and_holds_back_only_its_order(
    temporal_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    cache: OrderCache,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    poison, poisoned_order = await insert_row(pool, {"event_id": 1})
    later, _ = await insert_row(
        pool, {"event_id": 2}, event_type=STATUS_CHANGED, order_id=poisoned_order
    )
    good = await place_order(pool, cache)
    relay = pipeline.relay(pool, temporal_env.client, settings)

    with caplog.at_level(logging.ERROR, logger="relay.outbox"):
        await relay.relay_once()
        await relay.relay_once()

    assert (await outbox_rows(pool, good.id))[0].relayed
    row = await parked(pool, poison)
    assert row is not None
    assert row["attempts"] == 1
    assert row["parked_reason"].startswith("cannot be relayed: ")
    assert "event_type" in row["parked_reason"]
    # The order's later row waits behind it, neither tried nor parked.
    assert await pool.fetchval("SELECT attempts FROM outbox WHERE id = $1", later) == 0
    assert await parked(pool, later) is None
    [line] = [r for r in caplog.records if "parked" in r.getMessage()]
    assert f"event_id={poison}" in line.getMessage()
    assert await Outbox(pool).parked_count() >= 1


def new_order_payload(user_id: int) -> dict[str, object]:
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": NEW_ORDER,
        "order_id": str(uuid.uuid4()),
        "user_id": user_id,
        "items": [{"product_id": 1, "quantity": 1, "price": 1}],
        "total_price": 1,
        "created_at": "2024-05-06T07:08:09+00:00",
    }


async def test_a_row_failing_more_than_max_attempts_is_parked(
    pool: asyncpg.Pool, settings: Settings
) -> None:
    """Failed 2,000 times already (power(2, n) overflowed from 1,024): one more and parked.
    Temporal is unreachable: a failure worth retrying, until the limit."""
    overflowed, _ = await insert_row(pool, new_order_payload(1), attempts=2000)
    retried, _ = await insert_row(pool, new_order_payload(1), attempts=3)
    unreachable = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True)
    relay = pipeline.relay(pool, unreachable, settings)

    await relay.relay_once()

    row = await parked(pool, overflowed)
    assert row is not None
    assert row["attempts"] == 2001
    assert row["parked_reason"].startswith("failed 2001 times, last error: RuntimeError")
    # Under the limit: retried later, with the backoff of its 4th failure.
    assert await parked(pool, retried) is None
    wait = await pool.fetchval(
        "SELECT extract(epoch FROM next_attempt_at - now()) FROM outbox WHERE id = $1", retried
    )
    assert 6 < wait <= 8


async def test_a_start_temporal_refuses_as_invalid_is_parked_at_once(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings
) -> None:
    """A customer id beyond int64 for the Int attribute: INVALID_ARGUMENT, which no retry
    can change. Parked at its first attempt, with Temporal's reason, not after a day."""
    refused, _ = await insert_row(pool, new_order_payload(2**63))
    relay = pipeline.relay(pool, temporal_env.client, settings)

    result = await relay.relay_once()

    assert result.parked == 1
    row = await parked(pool, refused)
    assert row is not None
    assert row["attempts"] == 1
    assert row["parked_reason"].startswith(
        "cannot be relayed: Temporal refused it (INVALID_ARGUMENT): "
    )
    assert "CustomerId" in row["parked_reason"]


@pytest.fixture
async def bare_temporal() -> AsyncIterator[WorkflowEnvironment]:
    """A dev server as a new cluster comes: no search attribute of ours registered."""
    env = await start_dev_server(bare=True)
    yield env
    await env.shutdown()


async def test_a_start_on_a_server_without_our_search_attributes_is_parked_at_once(
    bare_temporal: WorkflowEnvironment, pool: asyncpg.Pool, cache: OrderCache, settings: Settings
) -> None:
    placed = await place_order(pool, cache)
    relay = pipeline.relay(pool, bare_temporal.client, settings)

    await relay.relay_once()

    row = await parked(pool, placed.event_id)
    assert row is not None
    assert row["attempts"] == 1
    reason = row["parked_reason"]
    assert reason.startswith("cannot be relayed: Temporal refused it (INVALID_ARGUMENT): ")
    assert "no mapping defined for search attribute" in reason


async def test_new_orders_wait_while_the_namespace_is_known_not_set_up(
    bare_temporal: WorkflowEnvironment, pool: asyncpg.Pool, cache: OrderCache, settings: Settings
) -> None:
    """The process's setup check knows what is missing: the row waits (retried, not
    parked) and starts once the namespace is set up."""
    placed = await place_order(pool, cache)
    problem: list[str] = ["Temporal namespace not set up: search attributes not registered"]
    relay = pipeline.relay(
        pool,
        bare_temporal.client,
        settings,
        setup_problem=lambda: problem[0] if problem else None,
    )

    result = await relay.relay_once()

    assert result.errors == (f"TemporalNotSetUp: {problem[0]}",)
    assert await parked(pool, placed.event_id) is None
    [row] = await outbox_rows(pool, placed.id)
    assert not row.relayed
    assert row.attempts == 1

    problem.clear()  # `orders temporal setup` ran, the check saw it
    await provision(
        bare_temporal.client,
        Requirements(bare_temporal.client.namespace, SEARCH_ATTRIBUTES, timedelta(days=1)),
        rpc_timeout=timedelta(seconds=10),
    )
    await pool.execute("UPDATE outbox SET next_attempt_at = now() WHERE id = $1", placed.event_id)
    await relay.relay_once()
    [row] = await outbox_rows(pool, placed.id)
    assert row.relayed


@dataclass
class Refusals:
    """Outbox rows whose UPDATEs PostgreSQL refuses (a trigger raises): every UPDATE, or
    only the relay's mark that they were relayed."""

    pool: asyncpg.Pool
    ids: list[uuid.UUID] = field(default_factory=list)

    async def refuse(self, event_id: uuid.UUID, *, only_the_mark: bool = False) -> None:
        self.ids.append(event_id)
        await self.pool.execute(
            "INSERT INTO test_refused_rows VALUES ($1, $2)", event_id, only_the_mark
        )


@pytest.fixture
async def refused_update(pool: asyncpg.Pool) -> AsyncIterator[Refusals]:
    refusals = Refusals(pool)
    name = f"refuse_{uuid.uuid4().hex[:8]}"
    await pool.execute(
        "CREATE TABLE IF NOT EXISTS test_refused_rows"
        " (id uuid PRIMARY KEY, only_the_mark boolean NOT NULL)"
    )
    await pool.execute(
        f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM test_refused_rows WHERE id = NEW.id
                       AND (NOT only_the_mark OR NEW.relayed_at IS NOT NULL)) THEN
                RAISE EXCEPTION 'refused by the test';
            END IF;
            RETURN NEW;
        END $$"""
    )
    await pool.execute(
        f"CREATE TRIGGER {name} BEFORE UPDATE ON outbox FOR EACH ROW EXECUTE FUNCTION {name}()"
    )
    yield refusals
    await pool.execute(f"DROP TRIGGER {name} ON outbox")
    await pool.execute(f"DROP FUNCTION {name}()")
    await pool.execute("DELETE FROM test_refused_rows WHERE id = ANY($1::uuid[])", refusals.ids)


async def leased(pool: asyncpg.Pool, event_id: uuid.UUID) -> bool:
    return bool(
        await pool.fetchval("SELECT lease_owner IS NOT NULL FROM outbox WHERE id = $1", event_id)
    )


async def test_a_mark_that_fails_never_undoes_the_other_rows_marks(
    temporal_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    cache: OrderCache,
    settings: Settings,
    refused_update: Refusals,
) -> None:
    orders = [await place_order(pool, cache) for _ in range(5)]
    refused = orders[2]
    await refused_update.refuse(refused.event_id, only_the_mark=True)
    relay = pipeline.relay(pool, temporal_env.client, settings)

    result = await relay.relay_once()

    assert result.relayed == 5  # all handed over: the refusal is only in the record
    relayed = [(await outbox_rows(pool, o.id))[0].relayed for o in orders]
    assert relayed == [True, True, False, True, True]
    # Its lease stays: once it runs out, a relay hands the row over again.
    assert await leased(pool, refused.event_id)


async def test_a_row_postgresql_refuses_to_lease_holds_back_no_other_row(
    temporal_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    cache: OrderCache,
    settings: Settings,
    refused_update: Refusals,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The claim is an UPDATE: a row PostgreSQL refuses to update (a trigger, a
    constraint) must not refuse the whole batch, every time."""
    orders = [await place_order(pool, cache) for _ in range(5)]
    refused = orders[2]
    await refused_update.refuse(refused.event_id)
    relay = pipeline.relay(pool, temporal_env.client, settings)

    with caplog.at_level(logging.ERROR, logger="relay.claims"):
        result = await relay.relay_once()
        await relay.relay_once()

    assert (result.claimed, result.relayed) == (4, 4)
    relayed = [(await outbox_rows(pool, o.id))[0].relayed for o in orders]
    assert relayed == [True, True, False, True, True]
    assert not await leased(pool, refused.event_id)
    refusals = [r.getMessage() for r in caplog.records if "refuses to lease" in r.getMessage()]
    assert len(refusals) == 1  # logged once, not at every claim
    assert str(refused.event_id) in refusals[0]


async def test_a_parked_row_is_re_driven_once_fixed(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, cache: OrderCache, settings: Settings
) -> None:
    placed = await place_order(pool, cache)
    good = await pool.fetchval("SELECT payload::text FROM outbox WHERE id = $1", placed.event_id)
    await pool.execute(
        "UPDATE outbox SET payload = '{\"event_id\": 1}' WHERE id = $1", placed.event_id
    )
    relay = pipeline.relay(pool, temporal_env.client, settings)
    await relay.relay_once()
    assert await parked(pool, placed.event_id) is not None
    await pool.execute("UPDATE outbox SET payload = $2 WHERE id = $1", placed.event_id, good)

    assert await Outbox(pool).redrive(order_id=placed.id) == [placed.event_id]
    await relay.relay_once()

    [row] = await outbox_rows(pool, placed.id)
    assert row.relayed
    assert await parked(pool, placed.event_id) is None
    assert await Outbox(pool).redrive(order_id=placed.id) == []  # nothing parked any more


async def test_retention_deletes_only_rows_relayed_and_published_long_ago(
    pool: asyncpg.Pool,
) -> None:
    old, recent = "now() - interval '8 days'", "now() - interval '1 day'"
    cases = {  # (event type, relayed_at, published_at, parked_at): deleted?
        (NEW_ORDER, old, old, "NULL"): True,
        (ORDER_PROCESSED, old, "NULL", "NULL"): True,  # a signal only: never published
        (NEW_ORDER, old, recent, "NULL"): False,
        (NEW_ORDER, old, "NULL", "NULL"): False,  # never published
        (STATUS_CHANGED, "NULL", "NULL", "NULL"): False,  # never relayed
        (NEW_ORDER, "NULL", "NULL", old): False,  # parked
        (NEW_ORDER, recent, recent, "NULL"): False,
    }
    ids = {}
    for case in cases:
        event_type, relayed_at, published_at, parked_at = case
        event_id, _ = await insert_row(pool, {}, event_type=event_type)
        await pool.execute(
            f"UPDATE outbox SET created_at = {old}, relayed_at = {relayed_at},"
            f" published_at = {published_at}, parked_at = {parked_at} WHERE id = $1",
            event_id,
        )
        ids[case] = event_id
    retention = OutboxRetention(pool, keep=timedelta(days=7), batch_size=1)

    deleted = [await retention.prune_if_due() for _ in range(4)]

    assert deleted[:2] == [1, 1]  # a full batch prunes again at once
    left = {
        r["id"]
        for r in await pool.fetch(
            "SELECT id FROM outbox WHERE id = ANY($1::uuid[])", list(ids.values())
        )
    }
    assert {case: ids[case] not in left for case in cases} == cases
    assert await retention.prune_if_due() == 0  # not due again before the interval
