"""Orders posted through the API as a client posts them, and the database watched for
their processing: a burst N at a time, a steady rate, counts and latencies.

The latency of an order is `processed_orders.processed_at - orders.created_at`: from the
moment the API stored it to the moment the Celery task recorded its effect.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import asyncpg

from bench import fixtures, storage
from bench.load import percentile

USERS = 4  # users registered on a stack: their orders go round robin (tokens only differ)


@dataclass(frozen=True, slots=True)
class Posted:
    ids: list[uuid.UUID]
    errors: int


class OrderPoster:
    """POST /orders/ for a few users, round robin; an answer other than 201 is an error."""

    def __init__(self, session: aiohttp.ClientSession, users: list[fixtures.BenchUser]) -> None:
        self._session = session
        self._users = users
        self._next = 0
        self.latencies: list[float] = []  # seconds, of every POST answered or failed

    async def post(self) -> uuid.UUID | None:
        user = self._users[self._next % len(self._users)]
        self._next += 1
        headers = {"Authorization": f"Bearer {user.token}", "Content-Type": "application/json"}
        t0 = time.perf_counter()
        try:
            async with self._session.post(
                "/orders/", data=fixtures.ORDER_BODY, headers=headers
            ) as resp:
                if resp.status != 201:
                    return None
                return uuid.UUID((await resp.json())["id"])
        except (aiohttp.ClientError, TimeoutError):
            return None
        finally:
            self.latencies.append(time.perf_counter() - t0)

    async def burst(self, n: int, concurrency: int) -> Posted:
        limit = asyncio.Semaphore(concurrency)

        async def one() -> uuid.UUID | None:
            async with limit:
                return await self.post()

        found = await asyncio.gather(*(one() for _ in range(n)))
        ids = [i for i in found if i is not None]
        return Posted(ids, n - len(ids))

    async def steady(self, rate: float, seconds: float) -> Posted:
        """One order every 1/rate seconds (open loop: a slow answer delays no later POST)."""
        started = time.perf_counter()
        tasks = []
        for i in range(max(1, round(rate * seconds))):
            delay = started + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(self.post()))
        found = await asyncio.gather(*tasks)
        ids = [i for i in found if i is not None]
        return Posted(ids, len(found) - len(ids))


class Watch:
    """Counts in the bench database, read with one connection."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def processed(self) -> int:
        return int(await self._conn.fetchval("SELECT count(*) FROM processed_orders"))

    async def orders(self) -> int:
        return int(await self._conn.fetchval("SELECT count(*) FROM orders"))

    async def unrelayed(self) -> int:
        return int(
            await self._conn.fetchval("SELECT count(*) FROM outbox WHERE relayed_at IS NULL")
        )

    async def backends(self) -> tuple[int, ...]:
        """The server processes of every other session on this database (the service's
        pools, Celery's connections): their CPU is PostgreSQL's work for the orders."""
        rows = await self._conn.fetch(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return tuple(int(r["pid"]) for r in rows)

    async def sizes(self, temporal_data: Path) -> storage.Sizes:
        return await storage.sizes(self._conn, temporal_data)

    async def until_processed(self, n: int, within: float) -> bool:
        """Wait until `n` orders are processed; False when `within` seconds ran out first."""
        end = time.monotonic() + within
        while await self.processed() < n:
            if time.monotonic() > end:
                return False
            await asyncio.sleep(0.05)
        return True

    async def until_relayed(self, within: float) -> bool:
        """Wait until the outbox has nothing left for the relay (the `processed` signals)."""
        end = time.monotonic() + within
        while await self.unrelayed():
            if time.monotonic() > end:
                return False
            await asyncio.sleep(0.05)
        return True

    async def latencies(self, ids: list[uuid.UUID]) -> list[float]:
        """Seconds from each order's created_at to its processed_at, sorted."""
        rows = await self._conn.fetch(
            "SELECT extract(epoch FROM p.processed_at - o.created_at)::float8 AS s"
            " FROM processed_orders p JOIN orders o ON o.id = p.order_id"
            " WHERE p.order_id = ANY($1::uuid[])",
            ids,
        )
        return sorted(float(r["s"]) for r in rows)


@asynccontextmanager
async def watching(dsn: str) -> AsyncIterator[Watch]:
    conn = await asyncpg.connect(dsn)
    try:
        yield Watch(conn)
    finally:
        await conn.close()


async def warm(url: str, dsn: str, orders: int, within: float) -> list[fixtures.BenchUser]:
    """The users every load posts for, and `orders` warm-up orders processed and their
    signals relayed (workers up, sandbox warm)."""
    users = await fixtures.register_users(url, USERS, "pipeline")
    async with watching(dsn) as watch, aiohttp.ClientSession(url) as session:
        posted = await OrderPoster(session, users).burst(orders, 4)
        if not await watch.until_processed(len(posted.ids), within=within):
            raise SystemExit(f"warm-up orders not processed within {within:g} s")
        await watch.until_relayed(within=within)
    return users


@dataclass(frozen=True, slots=True)
class Latency:
    count: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float


def latency(seconds: list[float]) -> Latency:
    ordered = sorted(seconds)
    return Latency(
        len(ordered),
        percentile(ordered, 50) * 1000,
        percentile(ordered, 90) * 1000,
        percentile(ordered, 99) * 1000,
        (ordered[-1] if ordered else 0.0) * 1000,
    )
