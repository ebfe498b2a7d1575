"""The worker's Python CPU per run of OrderWorkflow, in the Temporal sandbox and without it.

No server and no activities: each run is what the worker's Python does for an order's
workflow, the way the SDK does it: the runner creates the workflow's instance (with the
sandbox, a new sandboxed instance: importer, `workflows/order.py` executed again, the
definition rebuilt), then the instance takes the start activation (patch markers, the
local activity's schedule, the timers) and one signal activation (`processed`), each in
the executor thread the SDK uses. Rounds alternate the runners, so a machine that gets
busier mid-run weighs on each alike; the figure is CPU time (`time.process_time`) per
run, its median and minimum over the rounds, and the ratio to the unsandboxed runner.

    python -m bench.runner_cost [--runs 40] [--rounds 12]

It reaches into the SDK's workflow-instance API (temporalio 1.35), which is not public.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import temporalio.converter
import temporalio.workflow
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.failure.v1 import Failure
from temporalio.bridge.proto.workflow_activation import (
    InitializeWorkflow,
    SignalWorkflow,
    WorkflowActivation,
    WorkflowActivationJob,
)
from temporalio.worker import WorkflowRunner
from temporalio.worker._workflow_instance import WorkflowInstanceDetails
from temporalio.worker.workflow_sandbox._runner import _fake_info

from core.envelope import EventEnvelope
from core.events import NEW_ORDER, ORDER_PROCESSED
from workflows.names import SIGNAL_PROCESSED, WORKFLOW_NAME
from workflows.order import OrderWorkflow
from workflows.sandbox import workflow_runner
from workflows.types import OrderWorkflowInput

RUNNERS = {"sandboxed": True, "unsandboxed": False}
CONVERTER = temporalio.converter.DataConverter.default
DEFINITION = temporalio.workflow._Definition.must_from_class(OrderWorkflow)
# What the worker hands every instance; the local activity's check is the worker's own.
EXTERN: dict[str, Any] = {"__temporal_assert_local_activity_valid": lambda _name: None}


def _payload(value: object) -> Payload:
    return CONVERTER.payload_converter.to_payloads([value])[0]


def _details(run: int) -> WorkflowInstanceDetails:
    info = dataclasses.replace(
        _fake_info, workflow_type=WORKFLOW_NAME, workflow_id=f"order-{run}", run_id=f"run-{run}"
    )
    return WorkflowInstanceDetails(
        payload_converter_factory=CONVERTER._new_payload_converter,
        failure_converter_class=CONVERTER.failure_converter_class,
        interceptor_classes=[],
        defn=DEFINITION,
        info=info,
        randomness_seed=run,
        extern_functions=EXTERN,
        disable_eager_activity_execution=False,
        worker_level_failure_exception_types=[],
        patch_activation_callback=None,
        last_completion_result=Payloads(),
        last_failure=Failure(),
    )


def _activation(run: int, job: WorkflowActivationJob) -> WorkflowActivation:
    act = WorkflowActivation(run_id=f"run-{run}", is_replaying=False, history_length=3)
    act.timestamp.GetCurrentTime()
    act.jobs.append(job)
    return act


def _start(run: int, order: Payload) -> WorkflowActivation:
    init = InitializeWorkflow(
        workflow_type=WORKFLOW_NAME, workflow_id=f"order-{run}", arguments=[order]
    )
    init.randomness_seed = run
    return _activation(run, WorkflowActivationJob(initialize_workflow=init))


def _signal(run: int, processed: Payload) -> WorkflowActivation:
    signal = SignalWorkflow(signal_name=SIGNAL_PROCESSED, input=[processed], originating_event_id=5)
    return _activation(run, WorkflowActivationJob(signal_workflow=signal))


@dataclasses.dataclass
class Costs:
    create: float = 0.0
    start: float = 0.0
    signal: float = 0.0

    @property
    def total(self) -> float:
        return self.create + self.start + self.signal


def _round(runner: WorkflowRunner, runs: int, first: int, executor: ThreadPoolExecutor) -> Costs:
    """`runs` runs; CPU milliseconds per run of each step."""
    now = datetime.now(UTC)
    new_order = EventEnvelope("e", NEW_ORDER, "o", now, "{}")
    order = _payload(OrderWorkflowInput(new_order, 1, 86400.0))
    processed = _payload(EventEnvelope("p", ORDER_PROCESSED, "o", now, "{}"))
    costs = Costs()
    for run in range(first, first + runs):
        t0 = time.process_time()
        instance = runner.create_instance(_details(run))  # on the event loop, as the SDK
        t1 = time.process_time()
        started = executor.submit(instance.activate, _start(run, order)).result()
        t2 = time.process_time()
        signaled = executor.submit(instance.activate, _signal(run, processed)).result()
        t3 = time.process_time()
        if not (started.HasField("successful") and signaled.HasField("successful")):
            raise RuntimeError(f"the workflow failed an activation: {started} {signaled}")
        costs.create += t1 - t0
        costs.start += t2 - t1
        costs.signal += t3 - t2
    return Costs(*(1000 * v / runs for v in (costs.create, costs.start, costs.signal)))


async def measure(runs: int, rounds: int) -> dict[str, list[Costs]]:
    runners = {name: workflow_runner(sandboxed=on) for name, on in RUNNERS.items()}
    for runner in runners.values():
        runner.prepare_workflow(DEFINITION)
    found: dict[str, list[Costs]] = {name: [] for name in runners}
    with ThreadPoolExecutor(1) as executor:
        for n in range(rounds + 1):
            for name, runner in runners.items():
                costs = _round(runner, runs, n * runs, executor)
                if n:  # the first round warms up
                    found[name].append(costs)
    return found


def report(found: dict[str, list[Costs]]) -> None:
    base = statistics.median(c.total for c in found["unsandboxed"])
    for name, rounds in found.items():
        median = statistics.median(c.total for c in rounds)
        best = min(rounds, key=lambda c: c.total)
        print(
            f"{name:12s} CPU per run: median {median:.2f} ms (x{median / base:.2f}),"
            f" min {best.total:.2f} ms = create {best.create:.2f} + start {best.start:.2f}"
            f" + signal {best.signal:.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40, help="workflow runs per round")
    parser.add_argument("--rounds", type=int, default=12)
    args = parser.parse_args()
    report(asyncio.run(measure(args.runs, args.rounds)))


if __name__ == "__main__":
    main()
