"""Every name the workflow and its callers agree on: one place, constants."""

from __future__ import annotations

from typing import Any, Final

from temporalio.common import SearchAttributeKey

WORKFLOW_NAME: Final = "OrderWorkflow"
WORKFLOW_ID_PREFIX: Final = "order-"
PUBLISH_WORKFLOW_NAME: Final = "PublishEventWorkflow"

# The version whose histories tests/histories/v<N>/ holds; bump it with each new patch.
WORKFLOW_VERSION: Final = 4
# Patches of OrderWorkflow (`workflow.patched`), the version that brought each:
PATCH_RECONCILE: Final = "reconcile-processing"  # v2: publish new_order again, no processed
PATCH_PARK: Final = "park-on-poison-input"  # v2: an input that can never work parks it
PATCH_LOCAL_PUBLISH: Final = "local-first-publish"  # v3: new_order first as a local activity
PATCH_LOCAL_STATUS: Final = "local-status-publish"  # v4: status events first as local ones too

SIGNAL_STATUS_CHANGED: Final = "status_changed"
SIGNAL_PROCESSED: Final = "processed"
QUERY_LIFECYCLE: Final = "lifecycle"

# Custom search attributes the workflows set.
CUSTOMER_ID: Final = SearchAttributeKey.for_int("CustomerId")
ORDER_STATUS: Final = SearchAttributeKey.for_keyword("OrderStatus")
# Every one of them, the one list: `orders temporal setup` registers these (so do
# temporal-dev/start.sh and compose.yml, through it, and tests/support/temporal.py), and
# each role checks at start-up that the namespace has them. A new attribute goes here.
SEARCH_ATTRIBUTES: Final[tuple[SearchAttributeKey[Any], ...]] = (CUSTOMER_ID, ORDER_STATUS)


def workflow_id(order_id: object) -> str:
    """The id of an order's workflow: `order-<order id>`, as the contract states."""
    return f"{WORKFLOW_ID_PREFIX}{order_id}"


def publish_workflow_id(order_id: object, event_id: object) -> str:
    """The id of the workflow publishing one event alone: `order-<id>-event-<event id>`."""
    return f"{WORKFLOW_ID_PREFIX}{order_id}-event-{event_id}"
