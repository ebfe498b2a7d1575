"""The end-to-end baselines: a trivial workflow running one no-op activity, one Python worker.

    python -m bench.trivial_workflow --address 127.0.0.1:17233 --task-queue bench-trivial

runs the worker until SIGTERM; bench/e2e.py starts the workflows on the same Temporal
server the service's pipeline used, and times them. `LocalTrivialWorkflow` runs the same
no-op as a LOCAL activity: bench/floor.py starts it eagerly, the engine's floor.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from dataclasses import dataclass
from datetime import timedelta

import uvloop
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy
from temporalio.worker import Worker


@dataclass(frozen=True)
class TrivialInput:
    order_id: str


@activity.defn
async def noop(data: TrivialInput) -> None:
    return None


@workflow.defn
class TrivialWorkflow:
    @workflow.run
    async def run(self, data: TrivialInput) -> None:
        await workflow.execute_activity(
            noop,
            data,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_attempts=3),
        )


@workflow.defn
class LocalTrivialWorkflow:
    @workflow.run
    async def run(self, data: TrivialInput) -> None:
        await workflow.execute_local_activity(
            noop,
            data,
            start_to_close_timeout=timedelta(seconds=5),
            retry_policy=RetryPolicy(maximum_attempts=3),
        )


async def serve(address: str, task_queue: str) -> None:
    client = await Client.connect(address)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with Worker(
        client, task_queue=task_queue, workflows=[TrivialWorkflow], activities=[noop]
    ):
        print(f"trivial worker running task_queue={task_queue}", flush=True)
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", default="127.0.0.1:17233")
    parser.add_argument("--task-queue", default="bench-trivial")
    args = parser.parse_args()
    uvloop.run(serve(args.address, args.task_queue))


# The workflow sandbox re-imports this module: run only when started as a script.
if __name__ == "__main__":
    main()
