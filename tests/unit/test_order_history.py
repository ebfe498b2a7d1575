"""OrderHistory tells "not in Temporal yet" (an empty timeline) from "gone" (HistoryGone),
even when the relay hands the order over between its two questions. Fakes of its ports:
the timeline source (Temporal), the outbox's hand-over mark and the owner check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast
from uuid import UUID, uuid4

import pytest

from core.errors import HistoryGone, OrderNotFound
from core.timeline import TimelineEntry, TimelineKind
from usecases.history import OrderHistory
from usecases.orders import Orders
from usecases.outbox import Outbox

CREATED = TimelineEntry(datetime(2026, 1, 1, tzinfo=UTC), TimelineKind.CREATED)


class Owner:
    async def get(self, *, order_id: UUID, user_id: int) -> None:
        return None


class Source:
    """Temporal's answers, one per question: a timeline, or None for "no such workflow"."""

    def __init__(self, *answers: list[TimelineEntry] | None) -> None:
        self.answers = list(answers)

    async def timeline(self, order_id: UUID) -> list[TimelineEntry]:
        answer = self.answers.pop(0)
        if answer is None:
            raise OrderNotFound(order_id)
        return answer


class HandedOver:
    def __init__(self, handed_over: bool) -> None:
        self.value = handed_over

    async def handed_over(self, order_id: UUID) -> bool:
        return self.value


def history(source: Source, handed_over: bool) -> OrderHistory:
    return OrderHistory(
        cast(Orders, Owner()),
        source,
        cast(Outbox, cast(Any, HandedOver(handed_over))),
        retention=timedelta(days=30),
    )


async def test_an_order_not_handed_over_yet_has_an_empty_timeline() -> None:
    assert (
        await history(Source(None), handed_over=False).timeline(order_id=uuid4(), user_id=1) == []
    )


async def test_an_order_handed_over_between_the_two_questions_is_not_gone() -> None:
    # Temporal: no workflow; the outbox: handed over (the relay started it meanwhile).
    source = Source(None, [CREATED])
    assert await history(source, handed_over=True).timeline(order_id=uuid4(), user_id=1) == [
        CREATED
    ]


async def test_an_order_handed_over_without_a_workflow_is_gone() -> None:
    with pytest.raises(HistoryGone):
        await history(Source(None, None), handed_over=True).timeline(order_id=uuid4(), user_id=1)
