"""The activities' payloads: one frozen dataclass in, one out.

They travel through Temporal's JSON converter (str, int, bool, datetime only), and a
field added later must get a default, so recorded histories still decode.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.envelope import EventEnvelope


@dataclass(frozen=True)
class PublishInput:
    event: EventEnvelope  # its payload is the message body; the rest its AMQP properties
    reason: str = ""  # why it is published again, when it is (the timeline shows it)


@dataclass(frozen=True)
class PublishResult:
    published_at: datetime
    # What was published: a local activity's history marker holds the result, not the
    # input, so the timeline reads these from it.
    event_id: str = ""
    event_type: str = ""
    reason: str = ""  # the input's, for the same reason


@dataclass(frozen=True)
class ExpireInput:
    order_id: str
    user_id: int
    correlation_id: str = ""


@dataclass(frozen=True)
class ExpireResult:
    canceled: bool


@dataclass(frozen=True)
class CheckInput:
    order_id: str
    correlation_id: str = ""


@dataclass(frozen=True)
class CheckResult:
    """Whether `process_order` recorded the order, and what still waits to be processed."""

    processed_at: datetime | None  # from PostgreSQL; None: not processed
    # `new_order` messages ready in RabbitMQ plus tasks in Celery's queue, all orders'
    # (a backlog the order may be waiting in); None when a queue could not be read.
    waiting: int | None = None
