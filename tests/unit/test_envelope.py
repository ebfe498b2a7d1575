"""The event envelope, the registry of event types, the inputs of versions 1-5 read as
version 6's envelope (workflows.inputs), and a v6 relay's arguments as v5 reads them
(workflows.compat): pure, no server."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from temporalio.converter import DataConverter

from core.envelope import EventEnvelope
from core.events import (
    NEW_ORDER,
    ORDER_PROCESSED,
    STATUS_CHANGED,
    InvalidEvent,
    OrderProcessedEvent,
    StatusChangedEvent,
)
from core.lifecycle import OrderStatus
from core.registry import EVENT_TYPES, Handoff, UnknownEventType, event_type, routing_keys
from tests.support.events import envelope
from workflows import compat, inputs
from workflows.names import SIGNAL_PROCESSED, SIGNAL_STATUS_CHANGED
from workflows.types import V5_REVISION, OrderWorkflowInput

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
ORDER = uuid.uuid4()


def test_an_envelope_travels_as_a_dict_and_back() -> None:
    event = EventEnvelope("e", NEW_ORDER, str(ORDER), NOW, '{"a": 1}', "req-1", "00-ab-cd-01")
    assert EventEnvelope.from_dict(event.to_dict()) == event
    bare = dataclasses.replace(event, correlation_id="", traceparent="")
    assert EventEnvelope.from_dict({**bare.to_dict(), "correlation_id": None}) == bare


def test_every_event_type_has_one_row_saying_where_it_goes() -> None:
    assert set(EVENT_TYPES) == {NEW_ORDER, STATUS_CHANGED, ORDER_PROCESSED}
    assert event_type(NEW_ORDER).handoff is Handoff.START
    assert event_type(STATUS_CHANGED).signal == SIGNAL_STATUS_CHANGED
    assert event_type(ORDER_PROCESSED).signal == SIGNAL_PROCESSED
    assert not event_type(ORDER_PROCESSED).published
    assert set(routing_keys()) == {NEW_ORDER, STATUS_CHANGED}
    for row in EVENT_TYPES.values():
        assert (row.handoff is Handoff.SIGNAL) == bool(row.signal)
    with pytest.raises(UnknownEventType):
        event_type("order_shipped")
    assert issubclass(UnknownEventType, InvalidEvent)  # the relay parks such a row


def test_a_v6_status_signal_is_read_from_its_payload() -> None:
    event = StatusChangedEvent(7, OrderStatus.PENDING, OrderStatus.PAID, NOW)
    change = inputs.status_change(envelope(event, order_id=ORDER), str(ORDER))
    assert (change.old_status, change.new_status, change.changed_at) == ("PENDING", "PAID", NOW)
    with pytest.raises(InvalidEvent):
        inputs.status_change(dataclasses.replace(envelope(event), payload="{}"), str(ORDER))


def test_a_v5_input_with_its_state_becomes_this_versions_envelope() -> None:
    pending = {
        "event_id": "s-1",
        "old_status": "PENDING",
        "new_status": "PAID",
        "changed_at": NOW.isoformat(),
        "event_json": '{"x": 1}',
        "correlation_id": "req-2",
    }
    v5 = {
        "order_id": str(ORDER),
        "user_id": 7,
        "event_id": "e-1",
        "event_json": '{"event_type": "new_order"}',
        "created_at": NOW.isoformat(),
        "payment_timeout_seconds": 60.0,
        "correlation_id": "req-1",
        "processing_timeout_seconds": 30.0,
        "revision": V5_REVISION,
        "state": {"status": "PAID", "processed": False, "pending": [pending], "timeline": []},
    }
    order = inputs.order_input(v5)
    assert order.event == EventEnvelope(
        "e-1", NEW_ORDER, str(ORDER), NOW, '{"event_type": "new_order"}', "req-1"
    )
    assert (order.user_id, order.revision, order.processing_timeout_seconds) == (7, 2, 30.0)
    assert order.state is not None
    assert order.state.pending == (
        EventEnvelope("s-1", STATUS_CHANGED, str(ORDER), NOW, '{"x": 1}', "req-2"),
    )
    assert inputs.status_change(pending, str(ORDER)).event == order.state.pending[0]
    assert inputs.processed({"event_id": "p", "processed_at": NOW.isoformat()}) == ("p", NOW)
    assert inputs.order_input(order) is order
    assert isinstance(order, OrderWorkflowInput)


# What version 5 decoded (workflows/types.py of v5), to check that a v6 relay's arguments
# still read as them during a deploy (workflows/compat.py).
@dataclasses.dataclass(frozen=True)
class V5Input:
    order_id: str
    user_id: int
    event_id: str
    event_json: str
    created_at: datetime
    payment_timeout_seconds: float
    correlation_id: str = ""
    processing_timeout_seconds: float = 300.0
    revision: int = 1
    state: dict[str, Any] | None = None


@dataclasses.dataclass(frozen=True)
class V5StatusChanged:
    event_id: str
    old_status: str
    new_status: str
    changed_at: datetime
    event_json: str
    correlation_id: str = ""


@dataclasses.dataclass(frozen=True)
class V5Processed:
    event_id: str
    processed_at: datetime


def through_temporal(value: object, hint: object) -> Any:
    converter = DataConverter.default.payload_converter
    return converter.from_payloads(converter.to_payloads([value]), [hint])[0]  # type: ignore[list-item]


def test_a_v6_relays_arguments_read_as_v5s_and_as_v6s() -> None:
    new_order = EventEnvelope("e-1", NEW_ORDER, str(ORDER), NOW, '{"user_id": 7}', "req-1")
    order = OrderWorkflowInput(new_order, 7, 60.0, 30.0)
    start = compat.start_argument(order, v5_fields=True)
    assert through_temporal(start, OrderWorkflowInput | dict[str, Any]) == order
    v5 = through_temporal(start, V5Input)
    assert (v5.order_id, v5.event_id, v5.event_json, v5.created_at) == (
        str(ORDER),
        "e-1",
        '{"user_id": 7}',
        NOW,
    )
    assert (v5.correlation_id, v5.revision, v5.processing_timeout_seconds) == ("req-1", 3, 30.0)

    paid = envelope(StatusChangedEvent(7, OrderStatus.PENDING, OrderStatus.PAID, NOW))
    signal = compat.signal_argument(paid, v5_fields=True)
    assert through_temporal(signal, EventEnvelope | dict[str, Any]) == paid
    old = through_temporal(signal, V5StatusChanged)
    assert (old.event_id, old.old_status, old.new_status) == (paid.event_id, "PENDING", "PAID")
    assert old.event_json == paid.payload

    done = envelope(OrderProcessedEvent(NOW))
    signal = compat.signal_argument(done, v5_fields=True)
    assert through_temporal(signal, EventEnvelope | dict[str, Any]) == done
    assert through_temporal(signal, V5Processed) == V5Processed(done.event_id, NOW)


V5_ONLY = {"order_id", "event_json", "created_at", "old_status", "processed_at", "changed_at"}


def test_without_v5s_fields_the_arguments_are_v6s_alone() -> None:
    """No v5 reader left (workflows.compat_gate): exactly the dataclasses' fields, and no
    payload parsed (one that is not JSON passes through untouched)."""
    new_order = EventEnvelope("e-1", NEW_ORDER, str(ORDER), NOW, '{"user_id": 7}', "req-1")
    order = OrderWorkflowInput(new_order, 7, 60.0, 30.0)
    start = compat.start_argument(order, v5_fields=False)
    assert start == dataclasses.asdict(order)
    assert not V5_ONLY & set(start)
    assert through_temporal(start, OrderWorkflowInput | dict[str, Any]) == order

    paid = envelope(StatusChangedEvent(7, OrderStatus.PENDING, OrderStatus.PAID, NOW))
    done = envelope(OrderProcessedEvent(NOW))
    for event in (paid, done, dataclasses.replace(paid, payload="not json")):
        signal = compat.signal_argument(event, v5_fields=False)
        assert signal == dataclasses.asdict(event)
        assert through_temporal(signal, EventEnvelope | dict[str, Any]) == event
    with_v5 = compat.start_argument(order, v5_fields=True)  # today's shape, for a v5 reader
    assert set(with_v5) - set(start) == {
        *("order_id", "event_id", "event_json", "created_at", "correlation_id"),
    }
    assert len(json_bytes(start)) + len(new_order.payload) < len(json_bytes(with_v5))


def json_bytes(value: object) -> bytes:
    return DataConverter.default.payload_converter.to_payloads([value])[0].data
