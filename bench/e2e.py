"""End to end: orders created -> processed, beside trivial workflows on the same Temporal,
each with the CPU every process spent on it (bench.procs).

The service: N orders posted through the API, `concurrency` at a time; orders per second
from the first POST until the N-th row appears in processed_orders, each order's latency
from created_at to processed_at. Its CPU is read around the burst, until the outbox is
empty again (the `processed` signals delivered): the service process(es), the Celery
worker and its children, the Temporal server. The client's CPU is not counted.

The baselines, on the same server: N workflows of one no-op activity (one Python worker
process, bench/trivial_workflow.py; started from this process, whose CPU is shown apart
and left out of the total, as the client's is for the service), and the engine's floor:
the no-op as a local activity, started eagerly (bench/floor.py, worker and starter in
one process, both counted).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass

from temporalio.client import Client

from bench import floor, procs, servers
from bench.orders import Latency, OrderPoster, Watch, latency
from bench.plan import Plan
from bench.servers import ROOT, BenchConfig
from bench.stack import Stack, Temporal
from bench.trivial_workflow import TrivialWorkflow

QUIET_WINDOW = 0.5  # seconds: after the last signal is relayed, the processes are quiet
QUIET_CORES = 0.15  # when they use less than this much of a core (the dev server idles ~0.05)
QUIET_WITHIN = 15.0


@dataclass(frozen=True)
class Burst:
    done: int
    seconds: float
    latency: Latency
    cpu: procs.CpuUsage
    note: str = ""  # what else the reader should know (errors, eager starts, the starter)
    ids: tuple[uuid.UUID, ...] = ()  # the orders (the service's burst)
    # CPU seconds of PostgreSQL's sessions on the bench database (the service's burst; not
    # in `cpu`, whose total is compared with baselines that use no database)
    postgres_seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_each(self) -> float:
        return self.cpu.total / self.done * 1000 if self.done else 0.0


async def service_burst(
    stack: Stack, temporal: Temporal, poster: OrderPoster, watch: Watch, plan: Plan
) -> Burst:
    groups = {**stack.groups, "temporal": (temporal.pid,)}
    base = await watch.processed()
    backends = await watch.backends()
    before = procs.cpu_snapshot(groups)
    db_before = procs.cpu_snapshot({"postgres": backends})
    started = time.perf_counter()
    posted = await poster.burst(plan.e2e_orders, plan.e2e_concurrency)
    within = plan.drain_timeout + plan.e2e_orders  # a second an order: something is stuck
    if not await watch.until_processed(base + len(posted.ids), within):
        raise SystemExit(f"e2e: {len(posted.ids)} orders not processed in {within:g} s")
    elapsed = time.perf_counter() - started
    await watch.until_relayed(within)
    await until_quiet(groups)
    cpu = procs.cpu_used(before, procs.cpu_snapshot(groups))
    # Sessions opened during the burst count whole (from 0); those closed in it are lost.
    db_after = procs.cpu_snapshot({"postgres": backends + await watch.backends()})
    db = procs.cpu_used(db_before, db_after).total
    note = f"{posted.errors} POST errors" if posted.errors else ""
    found = await watch.latencies(posted.ids)
    ids = tuple(posted.ids)
    return Burst(len(ids), elapsed, latency(found), cpu, note, ids, db)


async def until_quiet(groups: procs.Groups) -> None:
    """Wait (at most QUIET_WITHIN s) until the processes use less than QUIET_CORES: the
    workflow tasks the last `processed` signals started are done, their CPU counted."""
    end = time.monotonic() + QUIET_WITHIN
    while time.monotonic() < end:
        before = procs.cpu_snapshot(groups)
        await asyncio.sleep(QUIET_WINDOW)
        if procs.cpu_used(before, procs.cpu_snapshot(groups)).total < QUIET_CORES * QUIET_WINDOW:
            return


def _own_cpu() -> float:
    t = os.times()
    return t.user + t.system


async def _trivial(
    address: str, task_queue: str, groups: procs.Groups, plan: Plan
) -> tuple[Burst, Latency]:
    client = await Client.connect(address)
    run = TrivialWorkflow.run
    n, concurrency = plan.e2e_orders, plan.e2e_concurrency
    await floor.start_many(client, run, task_queue, plan.e2e_warmup, concurrency)
    light = await floor.start_steady(client, run, task_queue, plan.light_rate, plan.light_seconds)
    light_latency = latency(light)
    before, own = procs.cpu_snapshot(groups), _own_cpu()
    result = await floor.start_many(client, run, task_queue, n, concurrency)
    cpu = procs.cpu_used(before, procs.cpu_snapshot(groups))
    starter = (_own_cpu() - own) / n * 1000
    note = f"starter (this process, not in the total): {starter:.1f} ms each"
    return Burst(n, result.seconds, latency(result.latencies), cpu, note), light_latency


def trivial(config: BenchConfig, temporal: Temporal, plan: Plan) -> tuple[Burst, Latency]:
    """The regular baseline's burst, and its start -> result latency at light load."""
    task_queue = f"bench-trivial-{uuid.uuid4().hex[:8]}"
    argv = [sys.executable, "-m", "bench.trivial_workflow", "--address", temporal.address]
    argv += ["--task-queue", task_queue]
    with servers.running("trivial-worker", argv, dict(os.environ), config.log_dir) as worker:
        groups = {"worker": (worker.pid,), "temporal": (temporal.pid,)}
        return asyncio.run(_trivial(temporal.address, task_queue, groups, plan))


def _read_until(process: subprocess.Popen[str], mark: str) -> str:
    assert process.stdout is not None
    while line := process.stdout.readline():
        if line.startswith(mark):
            return line.removeprefix(mark)
    raise SystemExit(f"bench.floor exited ({process.wait()}); see its log")


def engine_floor(config: BenchConfig, temporal: Temporal, plan: Plan) -> Burst:
    """Local activity + eager start, worker and starter in one process."""
    argv = [sys.executable, "-m", "bench.floor", "--address", temporal.address]
    argv += ["--workflows", str(plan.e2e_orders), "--concurrency", str(plan.e2e_concurrency)]
    argv += ["--warmup", str(plan.e2e_warmup)]
    log = (config.log_dir / "floor.log").open("w")
    with (
        log,
        subprocess.Popen(
            argv, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True
        ) as process,
    ):
        assert process.stdin is not None
        _read_until(process, floor.READY)
        groups = {"worker+starter": (process.pid,), "temporal": (temporal.pid,)}
        before = procs.cpu_snapshot(groups)
        process.stdin.write("go\n")
        process.stdin.flush()
        result = floor.Started(**json.loads(_read_until(process, floor.RESULT)))
        cpu = procs.cpu_used(before, procs.cpu_snapshot(groups))
        process.stdin.close()
    note = f"{result.eager} of {plan.e2e_orders} started eagerly"
    return Burst(plan.e2e_orders, result.seconds, latency(result.latencies), cpu, note)
