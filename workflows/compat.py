"""What a run of version 5 can read from a version-6 relay, during a deploy from v5 to v6.

While v5 is current (before v6 promotes itself) a v6 relay's start reaches a v5 worker,
and until each v5 run has moved to v6 a v6 relay's signal reaches a v5 run. v5's code
decodes its own shapes only (an undecodable signal is dropped, a start fails its task),
so while a v5 reader may exist (`workflows.compat_gate` says when) the relay sends each
argument as ONE JSON object holding both: this version's (the envelope) and the fields v5
read. Temporal's converter ignores the keys a dataclass does not have, so each version
reads its own. The v5 fields of a signal come from the payload, which only this module
reads on the relay's side. Otherwise (`v5_fields=False`) an argument is v6's dataclass
alone, no payload parsed. It goes when v5 retires (OLDEST_REPLAYED_VERSION past 5: no v5
worker left to read them).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from core.envelope import EventEnvelope
from core.events import ORDER_PROCESSED, STATUS_CHANGED, json_object
from core.events import parse_order_processed as processed_event
from core.events import parse_status_changed as status_event
from workflows.types import OrderWorkflowInput


def start_argument(order: OrderWorkflowInput, *, v5_fields: bool) -> dict[str, Any]:
    """The input of a new order: v6's, plus (`v5_fields`) v5's OrderWorkflowInput fields."""
    fields: dict[str, Any] = dataclasses.asdict(order)
    if not v5_fields:
        return fields
    event = order.event
    return {
        **fields,
        "order_id": event.aggregate_id,
        "event_id": event.event_id,
        "event_json": event.payload,
        "created_at": event.occurred_at,
        "correlation_id": event.correlation_id,
    }


def signal_argument(event: EventEnvelope, *, v5_fields: bool) -> dict[str, Any]:
    """A signal's argument: the envelope, plus (`v5_fields`) v5's StatusChanged or Processed
    fields, read from the payload."""
    fields: dict[str, Any] = dataclasses.asdict(event)
    if not v5_fields:
        return fields
    if event.event_type == STATUS_CHANGED:
        change = status_event(json_object(event.payload))
        fields |= {
            "old_status": change.old_status.value,
            "new_status": change.new_status.value,
            "changed_at": change.changed_at,
            "event_json": event.payload,
        }
    elif event.event_type == ORDER_PROCESSED:
        fields["processed_at"] = processed_event(json_object(event.payload)).processed_at
    return fields
