"""The event types: one row each, the one place that says what an event type is and where
it goes. Adding an event type is a row here plus its handlers (docs/architecture.md
"Adding an event type").

Each row names the type, the class its payload decodes to (core.events), what the relay
does with it (`Handoff`: start the aggregate's workflow, signal it, or only publish it),
the workflow signal it arrives as, and the RabbitMQ routing key it is published with (None:
never published). The relay, the workflow's starter, the publisher and the topology read
these rows; none of them decodes a payload to route it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from core.events import (
    NEW_ORDER,
    ORDER_PROCESSED,
    STATUS_CHANGED,
    InvalidEvent,
    NewOrderEvent,
    OrderProcessedEvent,
    StatusChangedEvent,
)


class Handoff(StrEnum):
    """What the relay does with an outbox row of the type."""

    START = "start"  # start the aggregate's workflow with it (which publishes it)
    SIGNAL = "signal"  # signal the aggregate's running workflow with it
    PUBLISH = "publish"  # publish it on RabbitMQ, through a workflow of its own


class UnknownEventType(InvalidEvent):
    """An outbox row, message or signal of a type no row of the registry names."""


@dataclass(frozen=True, slots=True)
class EventType:
    name: str
    payload: type  # the class of its payload (core.events), for the payload's readers
    handoff: Handoff
    routing_key: str | None  # published under this key; None: never on RabbitMQ
    signal: str = ""  # the workflow signal it arrives as (Handoff.SIGNAL)

    @property
    def published(self) -> bool:
        return self.routing_key is not None


EVENT_TYPES: Final[Mapping[str, EventType]] = MappingProxyType(
    {
        t.name: t
        for t in (
            # Starts the order's workflow, which publishes it (the contract's message).
            EventType(NEW_ORDER, NewOrderEvent, Handoff.START, routing_key=NEW_ORDER),
            # Tells the workflow, which publishes it; published alone once the workflow is over.
            EventType(
                STATUS_CHANGED,
                StatusChangedEvent,
                Handoff.SIGNAL,
                routing_key=STATUS_CHANGED,
                signal="status_changed",
            ),
            # Tells the workflow that process_order recorded the order; never published.
            EventType(
                ORDER_PROCESSED,
                OrderProcessedEvent,
                Handoff.SIGNAL,
                routing_key=None,
                signal="processed",
            ),
        )
    }
)


def event_type(name: str) -> EventType:
    """The registry's row for `name`; UnknownEventType when there is none."""
    try:
        return EVENT_TYPES[name]
    except KeyError:
        raise UnknownEventType(f"unknown event type {name!r}") from None


def routing_keys() -> tuple[str, ...]:
    """Every routing key an event is published with."""
    return tuple(t.routing_key for t in EVENT_TYPES.values() if t.routing_key is not None)
