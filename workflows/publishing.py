"""An order's publisher: `new_order` first, then each status event in the order it came,
every one confirmed by RabbitMQ (workflows.steps: a local attempt, then the activity).

Workflow code, run by workflows.lifecycle beside its deadlines. No `from __future__ import
annotations`, as in order.py.
"""

from temporalio import workflow

from workflows.steps import run_step  # workflow code: sandboxed

with workflow.unsafe.imports_passed_through():
    from activities.order import OrderActivities
    from activities.types import PublishInput
    from core.envelope import EventEnvelope
    from workflows.log import WorkflowLog
    from workflows.state import RunState


class Publishing:
    def __init__(self, state: RunState, log: WorkflowLog) -> None:
        self._state = state
        self._log = log
        self.settled = False  # new_order's first publish attempt is over (or not needed)

    async def run(self) -> None:
        """`new_order` (unless a run before this one published it), then each status event."""
        state = self._state
        if state.event.event_id not in state.published:
            await self.publish(state.event)
            state.schedule_check(workflow.now())
        self.settled = True
        while True:
            await workflow.wait_condition(lambda: bool(state.pending) or state.over())
            if not state.pending:
                return
            await self.publish(state.pending[0])
            state.pending.pop(0)

    async def publish(self, event: EventEnvelope, reason: str = "") -> None:
        result = await run_step(
            OrderActivities.publish_event,
            PublishInput(event, reason),
            self._log,
            on_local_failure=self._settle,
        )
        detail = f"{event.event_type} {event.event_id}" + (f" ({reason})" if reason else "")
        self._state.note_published(event.event_id, result.published_at, detail)

    def _settle(self) -> None:
        self.settled = True
