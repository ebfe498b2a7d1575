"""An order's timeline, read from its workflow's history on the Temporal server (its
entries: workflows.timeline). Read from the history rather than a query, so it needs no
worker and also works for closed workflows. A run that continued another (a newer
version, a long history) is read with the runs before it, oldest first: one timeline per
order. `WorkflowTimeline` is the use cases' TimelineSource.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from uuid import UUID

from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from core.errors import HistoryUnavailable, OrderNotFound
from core.timeline import TimelineEntry
from workflows.client import TEMPORAL_FAILURES
from workflows.names import workflow_id
from workflows.timeline import timeline

# Runs of one order read at most: a run continues as new at a deploy of a new version or
# once its history is long, so an order has a handful; this bounds a read all the same.
MAX_RUNS = 50


class WorkflowTimeline:
    def __init__(self, client: Client, *, timeout_seconds: float = 10.0) -> None:
        self._client = client
        self._timeout = timeout_seconds

    async def timeline(self, order_id: UUID) -> list[TimelineEntry]:
        """The order's timeline; OrderNotFound when it has no workflow (yet).

        HistoryUnavailable when the Temporal server cannot be reached in time.
        """
        try:
            async with asyncio.timeout(self._timeout):
                events = await self._events(workflow_id(order_id))
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise OrderNotFound(order_id) from exc
            raise HistoryUnavailable(str(exc)) from exc
        except TEMPORAL_FAILURES as exc:  # unreachable (a lazy client cannot connect), slow
            raise HistoryUnavailable(str(exc)) from exc
        return timeline(events)

    async def _events(self, workflow: str) -> list[HistoryEvent]:
        """The events of the order's latest run, after those of the runs it continued."""
        runs: list[Sequence[HistoryEvent]] = []
        run_id = ""
        for _ in range(MAX_RUNS):
            handle = self._client.get_workflow_handle(workflow, run_id=run_id or None)
            history = await handle.fetch_history(rpc_timeout=timedelta(seconds=self._timeout))
            runs.append(history.events)
            started = history.events[0].workflow_execution_started_event_attributes
            run_id = started.continued_execution_run_id
            if not run_id:
                break
        return [event for run in reversed(runs) for event in run]
