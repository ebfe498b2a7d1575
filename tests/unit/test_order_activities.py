"""The order activities' own logic, in Temporal's ActivityEnvironment with fakes of their
ports: a poison input fails for good before any I/O, the correlation id is bound while
the activity works, the results say what happened. The adapters behind the ports keep
their tests against the real servers (tests/integration)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import cast
from uuid import UUID, uuid4

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.order import INVALID_INPUT, OrderActivities
from activities.types import CheckInput, ExpireInput, PublishInput
from core import correlation
from core.envelope import EventEnvelope
from usecases.orders import Orders
from usecases.outbox import Outbox

CONFIRMED_AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@dataclass
class FakePublisher:
    """The EventPublisher port: records each envelope and the correlation id bound then."""

    published: list[tuple[EventEnvelope, str | None]] = field(default_factory=list)

    async def publish(self, event: EventEnvelope) -> None:
        self.published.append((event, correlation.current()))


@dataclass
class FakeOutbox:
    known: bool = True

    async def record_published(self, event_id: UUID) -> datetime | None:
        return CONFIRMED_AT if self.known else None


@dataclass
class FakeOrders:
    pending: bool = True
    expired: list[UUID] = field(default_factory=list)

    async def expire(self, *, order_id: UUID, user_id: int) -> object | None:
        self.expired.append(order_id)
        return object() if self.pending else None


@dataclass
class FakeProbe:
    """The ProcessingProbe port."""

    processed: datetime | None = None
    backlog: int | None = 7
    asked_waiting: int = 0

    async def processed_at(self, order_id: UUID) -> datetime | None:
        return self.processed

    async def waiting(self) -> int | None:
        self.asked_waiting += 1
        return self.backlog


@dataclass
class Ports:
    publisher: FakePublisher = field(default_factory=FakePublisher)
    outbox: FakeOutbox = field(default_factory=FakeOutbox)
    orders: FakeOrders = field(default_factory=FakeOrders)
    probe: FakeProbe = field(default_factory=FakeProbe)

    def activities(self) -> OrderActivities:
        orders, outbox = cast(Orders, self.orders), cast(Outbox, self.outbox)
        return OrderActivities(orders, outbox, self.publisher, self.probe)


def publish_input(**changes: str) -> PublishInput:
    values = {
        "aggregate_id": str(uuid4()),
        "event_id": str(uuid4()),
        "event_type": "new_order",
        "payload": '{"order_id": "..."}',
        "correlation_id": "req-42",
    }
    return PublishInput(EventEnvelope(occurred_at=CONFIRMED_AT, **(values | changes)))


async def test_publish_binds_the_correlation_id_and_returns_the_confirm_time() -> None:
    ports = Ports()
    publish = publish_input()
    result = await ActivityEnvironment().run(ports.activities().publish_event, publish)
    assert ports.publisher.published == [(publish.event, "req-42")]
    assert (result.published_at, result.event_id, result.event_type) == (
        CONFIRMED_AT,
        publish.event.event_id,
        "new_order",
    )


async def test_an_event_type_that_is_never_published_fails_for_good() -> None:
    ports = Ports()
    for event_type in ("order_processed", "no_such_event"):
        with pytest.raises(ApplicationError) as info:
            await ActivityEnvironment().run(
                ports.activities().publish_event, publish_input(event_type=event_type)
            )
        assert info.value.non_retryable
        assert info.value.type == INVALID_INPUT
    assert ports.publisher.published == []


async def test_publish_of_an_event_with_no_outbox_row_still_succeeds() -> None:
    ports = Ports(outbox=FakeOutbox(known=False))
    before = datetime.now(UTC)
    result = await ActivityEnvironment().run(ports.activities().publish_event, publish_input())
    assert result.published_at >= before
    assert len(ports.publisher.published) == 1


@pytest.mark.parametrize(
    ("field_name", "named"), [("aggregate_id", "order_id"), ("event_id", "event_id")]
)
async def test_a_poison_publish_fails_for_good_before_publishing(
    field_name: str, named: str
) -> None:
    ports = Ports()
    with pytest.raises(ApplicationError) as info:
        await ActivityEnvironment().run(
            ports.activities().publish_event, publish_input(**{field_name: "not-a-uuid"})
        )
    assert info.value.non_retryable
    assert info.value.type == INVALID_INPUT
    assert named in str(info.value)
    assert ports.publisher.published == []


@pytest.mark.parametrize("pending", [True, False])
async def test_expire_says_whether_it_canceled(pending: bool) -> None:
    ports = Ports(orders=FakeOrders(pending=pending))
    order_id = uuid4()
    result = await ActivityEnvironment().run(
        ports.activities().expire_order, ExpireInput(str(order_id), user_id=1)
    )
    assert result.canceled is pending
    assert ports.orders.expired == [order_id]


async def test_a_poison_expiry_fails_for_good_and_touches_no_order() -> None:
    ports = Ports()
    with pytest.raises(ApplicationError) as info:
        await ActivityEnvironment().run(ports.activities().expire_order, ExpireInput("7", 1))
    assert info.value.non_retryable
    assert ports.orders.expired == []


async def test_a_processed_order_is_not_asked_about_the_backlog() -> None:
    ports = Ports(probe=FakeProbe(processed=CONFIRMED_AT))
    check = ports.activities().check_processing
    result = await ActivityEnvironment().run(check, CheckInput(str(uuid4())))
    assert (result.processed_at, result.waiting) == (CONFIRMED_AT, None)
    assert ports.probe.asked_waiting == 0


async def test_an_unprocessed_order_reports_the_backlog() -> None:
    ports = Ports(probe=FakeProbe(processed=None, backlog=7))
    check = ports.activities().check_processing
    result = await ActivityEnvironment().run(check, CheckInput(str(uuid4())))
    assert (result.processed_at, result.waiting) == (None, 7)
