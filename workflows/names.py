"""Every name the workflow and its callers agree on: one place, constants."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Final

from temporalio.common import SearchAttributeKey

from core.events import ORDER_PROCESSED, STATUS_CHANGED
from core.registry import EVENT_TYPES

WORKFLOW_NAME: Final = "OrderWorkflow"
WORKFLOW_ID_PREFIX: Final = "order-"
PUBLISH_WORKFLOW_NAME: Final = "PublishEventWorkflow"

# The version of the workflows' code: tests/histories/v<N>/ holds the histories it records,
# and `v<N>` is the worker's default build id (service/worker.py), so a change to what a
# workflow does is a new Worker Deployment Version and its runs stay pinned to the code
# that started them (docs/architecture.md "Versions and deploys"). Bump it with every such
# change and record its histories (`python -m tests.histories.record`).
WORKFLOW_VERSION: Final = 6
# The oldest version whose histories this code still replays (tests/histories/v<N>/): the
# versions before it are retired, their folders deleted (docs/operations.md "Retiring old
# code"). v5 inherited every run that unversioned workers (v1-v4) started, and v6 keeps
# their code and v5's (workflows/legacy.py, the v5 alarm of workflows/alarm.py).
OLDEST_REPLAYED_VERSION: Final = 1

# Patches of OrderWorkflow's v1-v4 code (`workflow.patched`), kept in workflows/legacy.py
# for the runs v5 inherits from unversioned workers; the version that brought each:
PATCH_RECONCILE: Final = "reconcile-processing"  # v2: publish new_order again, no processed
PATCH_PARK: Final = "park-on-poison-input"  # v2: an input that can never work parks it
PATCH_LOCAL_PUBLISH: Final = "local-first-publish"  # v3: new_order first as a local activity
PATCH_LOCAL_STATUS: Final = "local-status-publish"  # v4: status events first as local ones too

# The signals events arrive as: their registry rows' (core.registry).
SIGNAL_STATUS_CHANGED: Final = EVENT_TYPES[STATUS_CHANGED].signal
SIGNAL_PROCESSED: Final = EVENT_TYPES[ORDER_PROCESSED].signal
# An operator's: a stuck order checks and republishes again (`orders workflows retry`).
SIGNAL_RETRY_PROCESSING: Final = "retry_processing"
# A wake-up with nothing in it: the run checks whether a newer version is current and, if
# so, continues as new on it (`orders workflows promote` sends it to the older versions).
SIGNAL_CHECK_VERSION: Final = "check_version"
QUERY_LIFECYCLE: Final = "lifecycle"

# Custom search attributes the workflows set.
CUSTOMER_ID: Final = SearchAttributeKey.for_int("CustomerId")
ORDER_STATUS: Final = SearchAttributeKey.for_keyword("OrderStatus")
# Set only when something needs a look (an OrderPhase below); the happy path never sets it.
ORDER_PHASE: Final = SearchAttributeKey.for_keyword("OrderPhase")
ORDER_REPUBLISHES: Final = SearchAttributeKey.for_int("OrderRepublishes")
# Every one of them, the one list: `orders temporal setup` registers these (so do
# temporal-dev/start.sh and compose.yml, through it, and tests/support/temporal.py), and
# each role checks at start-up that the namespace has them. A new attribute goes here.
SEARCH_ATTRIBUTES: Final[tuple[SearchAttributeKey[Any], ...]] = (
    CUSTOMER_ID,
    ORDER_STATUS,
    ORDER_PHASE,
    ORDER_REPUBLISHES,
)


class OrderPhase(StrEnum):
    """The `OrderPhase` search attribute: where an order's processing went wrong, if it did.

    An order that is published and processed in time never has one (it would cost its
    history an event on the happy path); `orders workflows stuck` lists the first two.
    """

    REPUBLISHING = (
        "republishing"  # no `processed` within PROCESSING_TIMEOUT: checking, republishing
    )
    STUCK = "stuck"  # republished PROCESSING_CHECKS times in vain: waits for an operator
    PROCESSED = "processed"  # processed after all (it had been republishing or stuck)
    PARKED = "parked"  # an input that can never work: the run failed, for an operator


def workflow_id(order_id: object) -> str:
    """The id of an order's workflow: `order-<order id>`, as the contract states."""
    return f"{WORKFLOW_ID_PREFIX}{order_id}"


def publish_workflow_id(order_id: object, event_id: object) -> str:
    """The id of the workflow publishing one event alone: `order-<id>-event-<event id>`."""
    return f"{WORKFLOW_ID_PREFIX}{order_id}-event-{event_id}"
