"""The workflow's input and signals of every version, read as this version's.

Version 6 carries the event's envelope (core.envelope). Versions 1-5 sent the `new_order`
event's fields in the input itself, and signals of their own shapes; their recorded
histories replay through this code, a v5 relay may still start or signal a run during a
deploy, and a v5 run continues as new with its state: each arrives here as the JSON object
Temporal decoded (the handlers take `EventEnvelope | dict`) and leaves as the envelope.
Pure: no Temporal call, so workflow code and the timeline reader share it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from activities.types import PublishInput
from core.envelope import EventEnvelope
from core.events import NEW_ORDER, STATUS_CHANGED, json_object, parse_status_changed
from workflows.types import (
    PROCESSING_TIMEOUT_SECONDS,
    LifecycleEntry,
    OrderState,
    OrderWorkflowInput,
    StatusChange,
)

Raw = Mapping[str, Any]


def order_input(value: OrderWorkflowInput | Raw) -> OrderWorkflowInput:
    """This version's input; a v1-v5 one (order_id, event_id, event_json, ...) rebuilt."""
    if isinstance(value, OrderWorkflowInput):
        return value
    order_id = str(value["order_id"])
    event = EventEnvelope(
        event_id=str(value["event_id"]),
        event_type=NEW_ORDER,
        aggregate_id=order_id,
        occurred_at=_at(value["created_at"]),
        payload=str(value["event_json"]),
        correlation_id=str(value.get("correlation_id") or ""),
    )
    raw_state = value.get("state")
    return OrderWorkflowInput(
        event=event,
        user_id=int(value["user_id"]),
        payment_timeout_seconds=float(value["payment_timeout_seconds"]),
        processing_timeout_seconds=float(
            value.get("processing_timeout_seconds", PROCESSING_TIMEOUT_SECONDS)
        ),
        revision=int(value.get("revision", 1)),
        state=None if raw_state is None else _state(raw_state, order_id),
    )


def status_change(value: EventEnvelope | Raw, order_id: str) -> StatusChange:
    """What a `status_changed` signal says; InvalidEvent when its payload is no status event."""
    if isinstance(value, EventEnvelope):
        event = parse_status_changed(json_object(value.payload))
        return StatusChange(value, event.old_status.value, event.new_status.value, event.changed_at)
    return _legacy_status(value, order_id)


def processed(value: EventEnvelope | Raw) -> tuple[str, datetime]:
    """A `processed` signal's event id, and when process_order recorded the order."""
    if isinstance(value, EventEnvelope):
        return value.event_id, value.occurred_at
    return str(value["event_id"]), _at(value["processed_at"])


def _legacy_status(value: Raw, order_id: str) -> StatusChange:
    """v1-v5's StatusChanged: event_id, old_status, new_status, changed_at, event_json."""
    at = _at(value["changed_at"])
    event = EventEnvelope(
        event_id=str(value["event_id"]),
        event_type=STATUS_CHANGED,
        aggregate_id=order_id,
        occurred_at=at,
        payload=str(value["event_json"]),
        correlation_id=str(value.get("correlation_id") or ""),
    )
    return StatusChange(event, str(value["old_status"]), str(value["new_status"]), at)


def _state(value: Raw, order_id: str) -> OrderState:
    due = value.get("processing_due")
    return OrderState(
        status=str(value["status"]),
        processed=bool(value["processed"]),
        seen=tuple(value.get("seen") or ()),
        published=tuple(value.get("published") or ()),
        pending=tuple(_pending(p, order_id) for p in value.get("pending") or ()),
        timeline=tuple(
            LifecycleEntry(str(e["kind"]), _at(e["at"]), str(e.get("detail") or ""))
            for e in value.get("timeline") or ()
        ),
        republishes=int(value.get("republishes", 0)),
        checks=int(value.get("checks", 0)),
        phase=str(value.get("phase") or ""),
        processing_due=None if due is None else _at(due),
        expiry_done=bool(value.get("expiry_done", False)),
    )


def _pending(value: Raw, order_id: str) -> EventEnvelope:
    if "event_json" in value:  # v5's StatusChanged
        return _legacy_status(value, order_id).event
    return EventEnvelope.from_dict(value)


def _at(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def publish_input(value: PublishInput | Raw, now: datetime) -> PublishInput:
    """PublishEventWorkflow's input; a v1-v5 one (order_id, event_id, event_type, body,
    correlation_id, reason) rebuilt, `now` standing for when its event happened."""
    if isinstance(value, PublishInput):
        return value
    event = EventEnvelope(
        event_id=str(value["event_id"]),
        event_type=str(value["event_type"]),
        aggregate_id=str(value["order_id"]),
        occurred_at=now,
        payload=str(value["body"]),
        correlation_id=str(value.get("correlation_id") or ""),
    )
    return PublishInput(event, str(value.get("reason") or ""))
