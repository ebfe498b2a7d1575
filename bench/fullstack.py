"""The full stack under a POST load: does the pipeline's work take the API's CPU?

`api_alone` measures POST /orders/ on `orders serve --roles api` alone (no pipeline
running), `under_load` the same load on the full stack while its pipeline drains the
backlog that load creates; the target is a ratio of at least 0.65 (issue 19). Then `drain` times how
fast the pipeline empties that backlog (orders processed per second), up to
`plan.drain_timeout` (bench/drain.py), and the SDK's counters say what the engine did
meanwhile (bench/engine.py).
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import replace

import aiohttp
import asyncpg

from bench import engine, fixtures, procs, profile, servers
from bench.drain import drain
from bench.load import Result
from bench.names import API_ALONE, TRIVIAL_E2E
from bench.orders import OrderPoster, Watch, latency
from bench.plan import Plan
from bench.report import Results, Target
from bench.routes import HEADER, creates_for, measure, row
from bench.stack import Stack

POST_TARGET = Target(">= 0.65x", ratio_at_least=0.65)


def api_alone(config: servers.BenchConfig, plan: Plan, results: Results) -> Result:
    """POST /orders/ on the API role alone; the database is emptied again afterwards."""
    servers.prepare_database(config)
    with servers.service(config) as server:
        url = server.url
        writers = asyncio.run(fixtures.register_users(url, plan.writers, "alone"))
        loaded = {"api": (server.pid,), "postgres": procs.named("postgres")}
        before, machine_before = procs.cpu_snapshot(loaded), procs.machine_cpu()
        result = measure(url, creates_for(writers), plan)
        cpu = procs.cpu_used(before, procs.cpu_snapshot(loaded))
        machine = [b - a for a, b in zip(machine_before, procs.machine_cpu(), strict=True)]
    servers.prepare_database(config)  # its outbox rows must not reach the stack's relay
    print(f"\n{API_ALONE} (orders serve --roles api)")
    print(HEADER)
    print(row("api alone", result))
    print(f"  CPU during the POST load, of one core: {_shares(cpu, machine)}")
    results.add(API_ALONE, result.rps, "req/s")
    return result


def post_load(
    url: str, users: list[fixtures.BenchUser], plan: Plan, seconds: float, warmup: float
) -> Result:
    """POST /orders/ under load on the full stack, `plan.stack_connections` at a time: a
    closed loop for `seconds`, or in the smoke run exactly `plan.stack_orders` orders (a
    backlog that drains in seconds)."""
    if plan.stack_orders:
        return asyncio.run(_post_orders(url, users, plan.stack_orders, plan.stack_connections))
    load = replace(plan, seconds=seconds, warmup=warmup, connections=plan.stack_connections)
    return measure(url, creates_for(users), load)


async def _post_orders(
    url: str, users: list[fixtures.BenchUser], n: int, concurrency: int
) -> Result:
    async with aiohttp.ClientSession(url) as session:
        poster = OrderPoster(session, users)
        began = time.perf_counter()
        posted = await poster.burst(n, concurrency)
        elapsed = time.perf_counter() - began
    t = latency(poster.latencies)
    return Result(n, posted.errors, elapsed, t.p50_ms, t.p90_ms, t.p99_ms)


async def _counts(dsn: str) -> tuple[int, int]:
    conn = await asyncpg.connect(dsn)
    try:
        watch = Watch(conn)
        return await watch.orders(), await watch.processed()
    finally:
        await conn.close()


def _shares(cpu: procs.CpuUsage, machine: list[float]) -> str:
    """Each group's CPU, the rest of the machine's (the load generator, the system) and
    what stayed idle, as shares of one core over the window."""
    busy, idle = machine
    window = max((busy + idle) / (os.cpu_count() or 1), 1e-9)
    parts = [f"{g} {t / window:.0%}" for g, t in cpu.seconds.items()]
    parts.append(f"other {(busy - cpu.total) / window:.0%}")
    return ", ".join(parts) + f"; idle {idle / window:.0%}"


def under_load(
    config: servers.BenchConfig,
    s: Stack,
    groups: procs.Groups,
    writers: list[fixtures.BenchUser],
    plan: Plan,
    results: Results,
) -> bool:
    """POST under load on the full stack, then the drain; True when something failed.
    `groups`: the stack's processes and the Temporal server, whose CPU the drain shows."""
    label = s.layout
    orders_before, processed_before = asyncio.run(_counts(config.dsn))
    counters = engine.scrape(s.worker_url)
    loaded = {**groups, "postgres": procs.named("postgres")}
    load_before, machine_before = procs.cpu_snapshot(loaded), procs.machine_cpu()
    began = time.perf_counter()
    with profile.recording(plan.profile, s.groups, config.log_dir, "post-load"):
        result = post_load(s.url, writers, plan, plan.seconds, plan.warmup)
    load_cpu = procs.cpu_used(load_before, procs.cpu_snapshot(loaded))
    machine = [b - a for a, b in zip(machine_before, procs.machine_cpu(), strict=True)]
    orders_after, processed_after = asyncio.run(_counts(config.dsn))
    during = (processed_after - processed_before) / (time.perf_counter() - began)
    cpu_before = procs.cpu_snapshot(groups)
    backlog = asyncio.run(drain(config.dsn, plan.drain_timeout))
    cpu = procs.cpu_used(cpu_before, procs.cpu_snapshot(groups))
    window = engine.Window(counters, engine.scrape(s.worker_url))
    print(f"\nPOST while the pipeline drains, full stack [{label}]")
    print(HEADER)
    print(row("full stack", result))
    print(
        f"  orders created {orders_after - orders_before}; processed meanwhile {during:.1f}/s;"
        f" then {backlog.describe()}"
    )
    if backlog.samples:
        print(f"  processed/waiting for the relay, every 5 s: {backlog.series()}")
    print(f"  CPU during the POST load, of one core: {_shares(load_cpu, machine)}")
    window_s = max(backlog.seconds, 1e-9)
    busy = ", ".join(f"{g} {t / window_s:.0%}" for g, t in cpu.seconds.items())
    print(f"  CPU during the drain, of one core: {busy}")
    name = f"POST while draining, full stack [{label}]"
    results.add(name, result.rps, "req/s", API_ALONE, POST_TARGET)
    results.add(
        f"drain rate after the POST load [{label}]", backlog.per_second, "orders/s", TRIVIAL_E2E
    )
    processed = processed_after - processed_before + backlog.drained
    engine.report(f"{label}, POST load and drain", window, processed, results)
    return bool(result.errors) or not result.requests or not backlog.complete
