"""Orders whose processing needs a look, from Temporal's visibility (no worker needed).

An order's workflow sets the `OrderPhase` search attribute only off the happy path: to
`republishing` when its processing deadline passed with no `processed`, to `stuck` once
its checks ran out, back to `processed` when it came after all. So "published but not
processed within PROCESSING_TIMEOUT" is an open order in one of the first two phases:
`orders workflows stuck` lists them, and `PhaseMonitor` counts them for Prometheus.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from prometheus_client import Gauge
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecution
from temporalio.converter import DataConverter

from workflows import inputs
from workflows.client import TEMPORAL_FAILURES
from workflows.names import ORDER_PHASE, ORDER_REPUBLISHES, WORKFLOW_ID_PREFIX, OrderPhase
from workflows.types import OrderWorkflowInput
from workflows.versions import OPEN_ORDERS

log = logging.getLogger(__name__)

OVERDUE: Final = (OrderPhase.REPUBLISHING, OrderPhase.STUCK)
ORDERS_BY_PHASE = Gauge(
    "orders_workflows_by_phase",
    "Open order workflows whose processing is overdue, by OrderPhase (from visibility)",
    ["phase"],
)


def phase_query(*phases: OrderPhase) -> str:
    listed = ", ".join(f"'{p.value}'" for p in phases)
    return f"{OPEN_ORDERS} AND {ORDER_PHASE.name} IN ({listed})"


@dataclass(frozen=True, slots=True)
class OverdueOrder:
    order_id: str
    phase: str
    republishes: int
    created_at: datetime  # the order's, whichever run of its workflow is open now
    age_seconds: float


async def overdue_orders(
    client: Client, *, now: datetime, older_than: timedelta = timedelta(0), limit: int = 1000
) -> list[OverdueOrder]:
    """Open orders published and not processed in time, oldest first."""
    found = []
    async for execution in client.list_workflows(phase_query(*OVERDUE), limit=limit):
        created_at = await _order_created_at(client, execution)
        age = (now - created_at).total_seconds()
        if age < older_than.total_seconds():
            continue
        attributes = execution.typed_search_attributes
        found.append(
            OverdueOrder(
                order_id=execution.id.removeprefix(WORKFLOW_ID_PREFIX),
                phase=attributes.get(ORDER_PHASE) or "",
                republishes=attributes.get(ORDER_REPUBLISHES) or 0,
                created_at=created_at,
                age_seconds=age,
            )
        )
    return sorted(found, key=lambda o: o.created_at)


async def _order_created_at(client: Client, execution: WorkflowExecution) -> datetime:
    """From the run's input: a run that continued another starts later than its order."""
    handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
    async for event in handle.fetch_history_events(page_size=1):
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            payloads = event.workflow_execution_started_event_attributes.input.payloads
            raw = DataConverter.default.payload_converter.from_payloads(
                payloads,
                [OrderWorkflowInput | dict[str, Any]],  # type: ignore[list-item]
            )[0]
            return inputs.order_input(raw).event.occurred_at
        break
    return execution.start_time


async def count_by_phase(client: Client) -> dict[str, int]:
    return {p.value: (await client.count_workflows(phase_query(p))).count for p in OVERDUE}


class PhaseMonitor:
    """Samples the overdue orders' count per phase into `orders_workflows_by_phase`."""

    def __init__(self, client: Client, *, interval_seconds: float = 30.0) -> None:
        self._client = client
        self._interval = interval_seconds

    async def run(self) -> None:
        failing = False
        while True:
            try:
                for phase, count in (await count_by_phase(self._client)).items():
                    ORDERS_BY_PHASE.labels(phase).set(count)
                failing = False
            except TEMPORAL_FAILURES as exc:  # Temporal away: try later
                if not failing:
                    log.warning("overdue orders cannot be counted error=%s", exc)
                failing = True
            await asyncio.sleep(self._interval)
