"""End to end: orders created -> processed, beside a trivial workflow on the same Temporal.

The pipeline: a fresh Temporal dev server (temporal-dev/start.sh, SQLite in WAL mode, on
its own port and data folder), the service with every role and a Celery worker
(PROCESS_ORDER_SECONDS=0). N orders are created through the API as fast as the client
goes; the figure is orders per second from the first POST until the N-th row appears in
processed_orders, and each order's latency from created_at to processed_at.

The baseline, on the same server: N workflows of one no-op activity (bench/trivial_workflow.py,
one Python worker process), all started at once; per second from the first start until the
last completes, and each one's latency from start to result.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import aiohttp
import asyncpg
from temporalio.client import Client

from bench import fixtures, servers
from bench.load import percentile
from bench.servers import ROOT, BenchConfig
from bench.trivial_workflow import TrivialInput, TrivialWorkflow

START_SH = ROOT / "temporal-dev" / "start.sh"


@dataclass(frozen=True, slots=True)
class Throughput:
    done: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0


def _throughput(done: int, seconds: float, latencies: list[float]) -> Throughput:
    latencies.sort()
    return Throughput(
        done,
        seconds,
        percentile(latencies, 50) * 1000,
        percentile(latencies, 90) * 1000,
        percentile(latencies, 99) * 1000,
    )


def _temporal_env(config: BenchConfig) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        TEMPORAL_DEV_PORT=str(config.temporal_port),
        TEMPORAL_DEV_DATA=str(config.log_dir / "temporal"),
        TEMPORAL_DEV_HEADLESS="1",
        TEMPORAL_NAMESPACE="default",
    )
    return env


@contextmanager
def temporal(config: BenchConfig) -> Iterator[str]:
    """A fresh dev server for this run (its data folder is emptied first)."""
    env = _temporal_env(config)
    shutil.rmtree(config.log_dir / "temporal", ignore_errors=True)
    subprocess.run([str(START_SH), "--background"], env=env, check=True)
    try:
        yield f"127.0.0.1:{config.temporal_port}"
    finally:
        subprocess.run([str(START_SH), "--stop"], env=env, check=False)


def _pipeline_env(config: BenchConfig, address: str) -> dict[str, str]:
    env = servers.service_env(config)
    env.update(
        TEMPORAL_ADDRESS=address,
        TEMPORAL_TASK_QUEUE="orders-bench",
        RABBITMQ_EXCHANGE="orders.bench",
        RABBITMQ_NEW_ORDER_QUEUE="new_order.bench",
        CELERY_QUEUE="orders.bench",
        RELAY_POLL_INTERVAL_SECONDS="0.5",
    )
    return env


@contextmanager
def pipeline(config: BenchConfig, address: str) -> Iterator[str]:
    """The service with every role, and a Celery worker, on the bench's Temporal."""
    env = _pipeline_env(config, address)
    url = config.url(config.service_port)
    roles = "api,relay,worker,consumer"
    service = [servers.ORDERS.as_posix(), "serve", "--roles", roles]
    service += ["--port", str(config.service_port)]
    celery = [servers.ORDERS.as_posix(), "celery", "--concurrency", "2", "--loglevel", "WARNING"]
    celery += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    with (
        servers.running("e2e-celery", celery, env, config.log_dir),
        servers.running("e2e-service", service, env, config.log_dir, url),
    ):
        yield url


async def _wait_processed(dsn: str, n: int, deadline_s: float) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        end = time.monotonic() + deadline_s
        while await conn.fetchval("SELECT count(*) FROM processed_orders") < n:
            if time.monotonic() > end:
                raise SystemExit(f"e2e: fewer than {n} orders processed within {deadline_s:.0f} s")
            await asyncio.sleep(0.1)
    finally:
        await conn.close()


async def _latencies(dsn: str, order_ids: list[uuid.UUID]) -> list[float]:
    """Seconds from each order's created_at to its processed_at."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT extract(epoch FROM p.processed_at - o.created_at)::float8 AS s"
            " FROM processed_orders p JOIN orders o ON o.id = p.order_id"
            " WHERE p.order_id = ANY($1::uuid[])",
            order_ids,
        )
        return [float(r["s"]) for r in rows]
    finally:
        await conn.close()


async def measure_pipeline(
    config: BenchConfig, url: str, n: int, concurrency: int, warmup: int
) -> Throughput:
    """`warmup` orders processed first (workers up, sandbox warm), then `n` timed ones."""
    users = await fixtures.register_users(url, 4, "e2e")
    limit = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession(url) as session:

        async def create(i: int) -> uuid.UUID:
            user = users[i % len(users)]
            headers = {"Authorization": f"Bearer {user.token}", "Content-Type": "application/json"}
            async with (
                limit,
                session.post("/orders/", data=fixtures.ORDER_BODY, headers=headers) as r,
            ):
                if r.status != 201:
                    raise SystemExit(f"e2e: POST /orders/ answered {r.status}")
                return uuid.UUID((await r.json())["id"])

        await asyncio.gather(*(create(i) for i in range(warmup)))
        await _wait_processed(config.dsn, warmup, deadline_s=120)
        started = time.perf_counter()
        ids = await asyncio.gather(*(create(i) for i in range(n)))
        await _wait_processed(config.dsn, warmup + n, deadline_s=max(60.0, n / 2))
        elapsed = time.perf_counter() - started
    return _throughput(n, elapsed, await _latencies(config.dsn, list(ids)))


async def measure_trivial(
    address: str, task_queue: str, n: int, concurrency: int, warmup: int
) -> Throughput:
    client = await Client.connect(address)
    limit = asyncio.Semaphore(concurrency)
    run = uuid.uuid4().hex[:8]
    latencies: list[float] = []

    async def one(i: int) -> None:
        async with limit:
            t0 = time.perf_counter()
            handle = await client.start_workflow(
                TrivialWorkflow.run,
                TrivialInput(order_id=f"{run}-{i}"),
                id=f"bench-trivial-{run}-{i}",
                task_queue=task_queue,
            )
        await handle.result()
        latencies.append(time.perf_counter() - t0)

    await asyncio.wait_for(asyncio.gather(*(one(-i - 1) for i in range(warmup))), timeout=120)
    latencies.clear()
    started = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(n))), timeout=max(60.0, n / 2))
    return _throughput(n, time.perf_counter() - started, latencies)


def run(
    config: BenchConfig, n: int, concurrency: int, warmup: int
) -> tuple[Throughput, Throughput]:
    servers.prepare_database(config)  # the route scenarios left unrelayed outbox rows
    with temporal(config) as address:
        with pipeline(config, address) as url:
            service = asyncio.run(measure_pipeline(config, url, n, concurrency, warmup))
        task_queue = f"bench-trivial-{uuid.uuid4().hex[:8]}"
        argv = [sys.executable, "-m", "bench.trivial_workflow", "--address", address]
        argv += ["--task-queue", task_queue]
        with servers.running("e2e-trivial-worker", argv, dict(os.environ), config.log_dir):
            baseline = asyncio.run(measure_trivial(address, task_queue, n, concurrency, warmup))
    return service, baseline
