"""Trivial workflows started and timed: the baselines of the end-to-end figures.

`start_many` starts N workflows, `concurrency` start calls at a time, and awaits each
result: bench/e2e.py calls it from the bench process for the regular baseline (one no-op
activity, bench/trivial_workflow.py's worker in its own process).

The engine's floor runs here as a process of its own, because an eager start needs the
starter's client to be the worker's: a workflow whose one activity is LOCAL, started with
request_eager_start=True, so the start returns the first workflow task to this worker
without a poll, and the activity needs no activity task at all.

    python -m bench.floor --address 127.0.0.1:17233 --task-queue q --workflows 600

runs `--warmup` workflows, prints READY, waits for a line on stdin, runs the timed ones,
prints RESULT {json}, and exits when stdin closes; the bench reads /proc around the
timed part, so this process's CPU is the worker's and the starter's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

import uvloop
from temporalio.client import Client
from temporalio.worker import Worker

from bench.trivial_workflow import LocalTrivialWorkflow, TrivialInput, noop

READY = "READY"
RESULT = "RESULT "


@dataclass(frozen=True, slots=True)
class Started:
    seconds: float  # from the first start to the last result
    latencies: list[float]  # start -> result of each workflow, in seconds
    eager: int  # how many the server started eagerly


async def start_many(
    client: Client,
    run: Callable[[Any, TrivialInput], Awaitable[None]],
    task_queue: str,
    n: int,
    concurrency: int,
    *,
    eager: bool = False,
) -> Started:
    limit = asyncio.Semaphore(concurrency)
    batch = uuid.uuid4().hex[:8]
    latencies: list[float] = []
    eagerly = 0

    async def one(i: int) -> None:
        nonlocal eagerly
        async with limit:
            t0 = time.perf_counter()
            handle = await client.start_workflow(
                run,
                TrivialInput(order_id=f"{batch}-{i}"),
                id=f"bench-{batch}-{i}",
                task_queue=task_queue,
                request_eager_start=eager,
            )
        eagerly += bool(getattr(handle, "__temporal_eagerly_started", False))
        await handle.result()
        latencies.append(time.perf_counter() - t0)

    started = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(n))), timeout=max(60.0, n / 2))
    return Started(time.perf_counter() - started, sorted(latencies), eagerly)


async def start_steady(
    client: Client,
    run: Callable[[Any, TrivialInput], Awaitable[None]],
    task_queue: str,
    rate: float,
    seconds: float,
) -> list[float]:
    """One workflow every 1/rate seconds; start -> result of each, sorted."""
    batch = uuid.uuid4().hex[:8]

    async def one(i: int) -> float:
        t0 = time.perf_counter()
        handle = await client.start_workflow(
            run,
            TrivialInput(order_id=f"{batch}-{i}"),
            id=f"bench-{batch}-{i}",
            task_queue=task_queue,
        )
        await handle.result()
        return time.perf_counter() - t0

    began = time.perf_counter()
    tasks = []
    for i in range(max(1, round(rate * seconds))):
        delay = began + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i)))
    return sorted(await asyncio.wait_for(asyncio.gather(*tasks), timeout=60))


async def _line() -> str:
    return await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)


async def drive(address: str, task_queue: str, n: int, concurrency: int, warmup: int) -> None:
    client = await Client.connect(address)
    async with Worker(
        client, task_queue=task_queue, workflows=[LocalTrivialWorkflow], activities=[noop]
    ):
        await start_many(
            client, LocalTrivialWorkflow.run, task_queue, warmup, concurrency, eager=True
        )
        print(READY, flush=True)
        await _line()
        result = await start_many(
            client, LocalTrivialWorkflow.run, task_queue, n, concurrency, eager=True
        )
        print(RESULT + json.dumps(asdict(result)), flush=True)
        while await _line():  # until the bench closes stdin
            pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", default="127.0.0.1:17233")
    parser.add_argument("--task-queue", default=f"bench-floor-{uuid.uuid4().hex[:8]}")
    parser.add_argument("--workflows", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()
    uvloop.run(drive(args.address, args.task_queue, args.workflows, args.concurrency, args.warmup))


if __name__ == "__main__":
    main()
