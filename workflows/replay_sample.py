"""Which histories the deploy check replays: a bounded sample, newest first, of every kind.

A namespace holds a retention period of histories (at 70 orders/s over 30 days, about 180
million); replaying them all never ends. A change that breaks replay breaks a *path* of
the workflow, and the paths show in what visibility knows of a run: its workflow type, how
it ended (`ExecutionStatus`: running, completed, failed, continued as new...), for an
order the `OrderPhase` its processing reached (none on the happy path) and its
`OrderStatus`. So each combination is a stratum, and the check takes at most `per_stratum`
runs of each (the newest, as visibility lists them), round-robin across strata up to
`limit` in all, optionally only runs started `since` a time. Its cost is bounded by the
number of strata (one visibility call each; the execution statuses a workflow type has are
counted first, one call, so empty ones cost nothing) and by `limit` histories, whatever
the namespace holds.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from temporalio.client import Client

from core.lifecycle import OrderStatus
from workflows.names import ORDER_PHASE, ORDER_STATUS, WORKFLOW_NAME, OrderPhase

LISTING_CONCURRENCY: Final = 8  # visibility calls in flight while the sample is drawn
NONE: Final = "-"  # a search attribute the run never set: for OrderPhase, the happy path


@dataclass(frozen=True, slots=True)
class Sampling:
    """At most `per_stratum` runs of each stratum, `limit` in all, started since `since`."""

    per_stratum: int = 20
    limit: int = 500
    since: datetime | None = None

    def __post_init__(self) -> None:
        if self.per_stratum < 1 or self.limit < 1:
            raise ValueError("a sample takes at least one history per stratum and in all")


@dataclass(frozen=True, slots=True)
class Stratum:
    workflow_type: str
    execution_status: str
    phase: str | None = None  # OrderPhase's value, NONE, or None: not a dimension of the type
    status: str | None = None  # OrderStatus's value, NONE, or None: likewise

    def query(self) -> str:
        parts = [f"WorkflowType = '{self.workflow_type}'"]
        parts.append(f"ExecutionStatus = '{self.execution_status}'")
        for name, value in ((ORDER_PHASE.name, self.phase), (ORDER_STATUS.name, self.status)):
            if value == NONE:
                parts.append(f"{name} IS NULL")
            elif value is not None:
                parts.append(f"{name} = '{value}'")
        return " AND ".join(parts)

    @property
    def label(self) -> str:
        words = [self.workflow_type, self.execution_status]
        if self.phase is not None:
            words.append(f"phase={self.phase}")
        if self.status is not None:
            words.append(f"status={self.status}")
        return " ".join(words)


@dataclass(frozen=True, slots=True)
class Run:
    workflow_id: str
    run_id: str
    stratum: str  # its label


@dataclass(frozen=True, slots=True)
class Sample:
    runs: list[Run]
    matching: int  # histories the query lists in all: what the sample was drawn from


def strata(workflow_type: str, execution_status: str) -> list[Stratum]:
    """The strata of one workflow type and execution status: an order's by phase and status."""
    if workflow_type != WORKFLOW_NAME:
        return [Stratum(workflow_type, execution_status)]
    phases = [NONE, *(p.value for p in OrderPhase)]
    statuses = [NONE, *(s.value for s in OrderStatus)]
    return [
        Stratum(workflow_type, execution_status, phase, status)
        for phase, status in itertools.product(phases, statuses)
    ]


def _since(moment: datetime) -> str:
    return f"StartTime >= '{moment.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}'"


async def draw(
    client: Client, *, query: str, workflow_types: list[str], sampling: Sampling
) -> Sample:
    """The runs to replay: every stratum's newest, round-robin, `sampling.limit` at most."""
    base = f"({query})" + (f" AND {_since(sampling.since)}" if sampling.since else "")
    gate = asyncio.Semaphore(LISTING_CONCURRENCY)

    async def statuses(workflow_type: str) -> dict[str, int]:
        async with gate:
            counted = await client.count_workflows(
                f"{base} AND WorkflowType = '{workflow_type}' GROUP BY ExecutionStatus"
            )
        return {str(g.group_values[0]): g.count for g in counted.groups if g.count}

    async def newest(stratum: Stratum) -> list[Run]:
        async with gate:
            listed = client.list_workflows(
                f"{base} AND {stratum.query()}", limit=sampling.per_stratum
            )
            return [Run(w.id, w.run_id, stratum.label) async for w in listed]

    counts = await asyncio.gather(*(statuses(t) for t in workflow_types))
    chosen = [
        s
        for workflow_type, found in zip(workflow_types, counts, strict=True)
        for status in sorted(found)
        for s in strata(workflow_type, status)
    ]
    lists = await asyncio.gather(*(newest(s) for s in chosen))
    interleaved = (run for row in itertools.zip_longest(*lists) for run in row if run is not None)
    return Sample(
        list(itertools.islice(interleaved, sampling.limit)),
        sum(sum(found.values()) for found in counts),
    )
