"""An order's timeline read from its workflow's history events (workflows.history fetches
them): created, published (each event confirmed by RabbitMQ; again, with the reason),
status_changed, processed, expired, completed, or parked. A publish run as a local activity
is a marker in the history, read from its result (PublishResult names the event). The
input and signals of every version are read (workflows.inputs)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Final, TypeVar

from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent, MarkerRecordedEventAttributes
from temporalio.converter import DataConverter

from activities.names import (
    ACTIVITY_CHECK_PROCESSING,
    ACTIVITY_EXPIRE_ORDER,
    ACTIVITY_PUBLISH_EVENT,
)
from activities.types import CheckResult, ExpireResult, PublishInput, PublishResult
from core.envelope import EventEnvelope
from core.timeline import TimelineEntry, TimelineKind
from workflows import inputs
from workflows.names import SIGNAL_PROCESSED, SIGNAL_STATUS_CHANGED
from workflows.types import OrderWorkflowInput

T = TypeVar("T")
_convert = DataConverter.default.payload_converter
# The SDK records a local activity as a marker: its details hold "data" (JSON naming the
# activity_type) and "result" (the result payload), not the input.
LOCAL_ACTIVITY_MARKER: Final = "core_local_activity"


def _decode(payloads: Sequence[Payload], kind: type[T]) -> T:
    value: T = _convert.from_payloads(payloads, [kind])[0]
    return value


def timeline(events: Iterable[HistoryEvent]) -> list[TimelineEntry]:
    """Turn raw history events into the entries people read (the events of one run, or of
    successive runs in order: an activity's completion follows its scheduling in its run)."""
    activities: dict[int, tuple[str, Sequence[Payload]]] = {}  # scheduled event id -> call
    seen_signals: set[str] = set()  # a signal the relay delivered twice counts once
    entries: list[TimelineEntry] = []
    for event in events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled = event.activity_task_scheduled_event_attributes
            activities[event.event_id] = (scheduled.activity_type.name, scheduled.input.payloads)
            continue
        entry = _entry(event, activities)
        if entry is None:
            continue
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            if entry.details["event_id"] in seen_signals:
                continue
            seen_signals.add(entry.details["event_id"])
        entries.append(entry)
    return entries


def _entry(
    event: HistoryEvent, activities: dict[int, tuple[str, Sequence[Payload]]]
) -> TimelineEntry | None:
    at = event.event_time.ToDatetime(tzinfo=UTC)
    kind = event.event_type
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        started = event.workflow_execution_started_event_attributes
        if started.continued_execution_run_id:
            return None  # the same order, carried on by a new run
        order = inputs.order_input(
            _decode(started.input.payloads, OrderWorkflowInput | dict[str, Any])  # type: ignore[arg-type]
        )
        details = {
            "event_id": order.event.event_id,
            "user_id": order.user_id,
            "order_created_at": order.event.occurred_at.isoformat(),
        }
        return TimelineEntry(at, TimelineKind.CREATED, details)
    if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
        done = event.activity_task_completed_event_attributes
        name, payloads = activities.get(done.scheduled_event_id, ("", []))
        return _activity_entry(at, name, payloads, done.result.payloads)
    if kind == EventType.EVENT_TYPE_MARKER_RECORDED:
        return _local_activity_entry(at, event.marker_recorded_event_attributes)
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        signal = event.workflow_execution_signaled_event_attributes
        return _signal_entry(at, signal.signal_name, signal.input.payloads)
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
        return TimelineEntry(at, TimelineKind.COMPLETED)
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
        failure = event.workflow_execution_failed_event_attributes.failure
        return TimelineEntry(at, TimelineKind.PARKED, {"reason": failure.message})
    return None


def _activity_entry(
    at: datetime, name: str, payloads: Sequence[Payload], result: Sequence[Payload]
) -> TimelineEntry | None:
    """A regular activity that completed (its input is in its scheduled event)."""
    if name == ACTIVITY_PUBLISH_EVENT:
        published = _decode(payloads, PublishInput | dict[str, Any])  # type: ignore[arg-type]
        if isinstance(published, PublishInput):
            event = published.event
            return _published(at, event.event_id, event.event_type, published.reason)
        # v1-v5's PublishInput: order_id, event_id, event_type, body, correlation_id, reason
        return _published(
            at, published["event_id"], published["event_type"], published.get("reason", "")
        )
    return _result_entry(at, name, result)


def _local_activity_entry(
    at: datetime, marker: MarkerRecordedEventAttributes
) -> TimelineEntry | None:
    """A local activity that succeeded: its marker holds its result, not its input (a
    failed one has no result: the regular activity that took over shows instead)."""
    if marker.marker_name != LOCAL_ACTIVITY_MARKER or "result" not in marker.details:
        return None
    data = _decode(marker.details["data"].payloads, dict[str, Any])
    result = marker.details["result"].payloads
    if data.get("activity_type") == ACTIVITY_PUBLISH_EVENT:
        published = _decode(result, PublishResult)
        return _published(at, published.event_id, published.event_type, published.reason)
    return _result_entry(at, str(data.get("activity_type")), result)


def _published(at: datetime, event_id: str, event_type: str, reason: str) -> TimelineEntry:
    details = {"event_id": event_id, "event_type": event_type}
    if reason:
        details["reason"] = reason
    return TimelineEntry(at, TimelineKind.PUBLISHED, details)


def _result_entry(at: datetime, name: str, result: Sequence[Payload]) -> TimelineEntry | None:
    """An expiry that canceled the order; a processing check that found it processed."""
    if name == ACTIVITY_EXPIRE_ORDER and _decode(result, ExpireResult).canceled:
        return TimelineEntry(at, TimelineKind.EXPIRED, {"reason": "payment timeout"})
    if name == ACTIVITY_CHECK_PROCESSING:
        checked = _decode(result, CheckResult)
        if checked.processed_at is not None:
            details = {"processed_at": checked.processed_at.isoformat(), "found": "postgresql"}
            return TimelineEntry(at, TimelineKind.PROCESSED, details)
    return None


def _signal_entry(at: datetime, name: str, payloads: Sequence[Payload]) -> TimelineEntry | None:
    if name == SIGNAL_STATUS_CHANGED:
        raw = _decode(payloads, EventEnvelope | dict[str, Any])  # type: ignore[arg-type]
        change = inputs.status_change(raw, "")
        details = {
            "event_id": change.event.event_id,
            "old_status": change.old_status,
            "new_status": change.new_status,
            "changed_at": change.changed_at.isoformat(),
        }
        return TimelineEntry(at, TimelineKind.STATUS_CHANGED, details)
    if name == SIGNAL_PROCESSED:
        raw = _decode(payloads, EventEnvelope | dict[str, Any])  # type: ignore[arg-type]
        event_id, processed_at = inputs.processed(raw)
        details = {"event_id": event_id, "processed_at": processed_at.isoformat()}
        return TimelineEntry(at, TimelineKind.PROCESSED, details)
    return None
