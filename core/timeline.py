"""An order's timeline: the steps of its life people read (API, Temporal UI, workflow query).

Entries are read from the workflow's history (workflows.timeline). The workflow's own
query and result carry workflows.types.LifecycleEntry, with the same kinds: its docstring
says why it is a record of its own."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class TimelineKind(StrEnum):
    CREATED = "created"  # the workflow started
    PUBLISHED = "published"  # an event confirmed by RabbitMQ (again: with a reason)
    STATUS_CHANGED = "status_changed"
    PROCESSED = "processed"  # process_order recorded its effect
    EXPIRED = "expired"  # the payment timeout canceled it
    COMPLETED = "completed"  # the workflow is over
    PARKED = "parked"  # stopped on an input that can never work; an operator re-drives it


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    time: datetime
    kind: TimelineKind
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "time": self.time.isoformat(),
            "kind": self.kind.value,
            "details": dict(self.details),
        }
