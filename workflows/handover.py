"""What a run of OrderWorkflow hands on: to the next run (continue-as-new, on the current
version, with everything it knows), and to searches (the OrderPhase and OrderRepublishes
search attributes, set only off the happy path).

No `from __future__ import annotations`, as in order.py.
"""

import dataclasses

from temporalio import workflow
from temporalio.workflow import ContinueAsNewVersioningBehavior

with workflow.unsafe.imports_passed_through():
    from workflows.names import ORDER_PHASE, ORDER_REPUBLISHES
    from workflows.state import RunState
    from workflows.types import REVISION


def continue_as_new(state: RunState) -> None:
    """Carry on as a new run, on the current version, with everything the state knows and
    the search attributes as they stand; a step in flight is done again by the new run."""
    workflow.continue_as_new(
        dataclasses.replace(state.order, revision=REVISION, state=state.handover()),
        search_attributes=workflow.info().typed_search_attributes,
        initial_versioning_behavior=ContinueAsNewVersioningBehavior.AUTO_UPGRADE,
    )


def upsert_phase(state: RunState) -> None:
    """The OrderPhase and OrderRepublishes search attributes, as the state has them."""
    workflow.upsert_search_attributes(
        [ORDER_PHASE.value_set(state.phase), ORDER_REPUBLISHES.value_set(state.republishes)]
    )
