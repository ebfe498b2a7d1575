"""Every name the workflow and its callers agree on: one place, constants."""

from __future__ import annotations

from typing import Final

from temporalio.common import SearchAttributeKey

WORKFLOW_NAME: Final = "OrderWorkflow"
WORKFLOW_ID_PREFIX: Final = "order-"
PUBLISH_WORKFLOW_NAME: Final = "PublishEventWorkflow"

SIGNAL_STATUS_CHANGED: Final = "status_changed"
SIGNAL_PROCESSED: Final = "processed"
QUERY_LIFECYCLE: Final = "lifecycle"

# Custom search attributes, registered on the server at start (temporal-dev/, tests).
CUSTOMER_ID: Final = SearchAttributeKey.for_int("CustomerId")
ORDER_STATUS: Final = SearchAttributeKey.for_keyword("OrderStatus")


def workflow_id(order_id: object) -> str:
    """The id of an order's workflow: `order-<order id>`, as the contract states."""
    return f"{WORKFLOW_ID_PREFIX}{order_id}"


def publish_workflow_id(order_id: object, event_id: object) -> str:
    """The id of the workflow publishing one event alone: `order-<id>-event-<event id>`."""
    return f"{WORKFLOW_ID_PREFIX}{order_id}-event-{event_id}"
