"""Processing one order, once: claim it, do its work, record its effect.

The claim comes before the work (store.processed.claim: a lease in PostgreSQL), so two
deliveries of one order at once (a redelivery, a republish while the first one works)
do the work once, not only record it once: the work stands for a warehouse's or a
payment provider's call. The lease (`lease_seconds`, PROCESS_ORDER_LEASE_SECONDS) must
outlast the work: a worker killed after claiming leaves the order to the next delivery
once it runs out, and a delivery that finds it still held retries when it would.
Recording the effect and writing the `order_processed` outbox row is one statement, so
the order's workflow learns of it through the outbox relay (Celery never talks to
Temporal); a delivery that finds the order processed does no work, and writes that row
again only when it is gone, so the workflow always can learn it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from uuid import UUID, uuid4

import psycopg

from processing.connection import WorkerConnection
from processing.metrics import DURATION, TASKS
from store import processed
from usecases.trace_context import current_traceparent

log = logging.getLogger(__name__)

# The work `process_order` does for one order before recording it: in real life a call to
# a warehouse or a payment provider; here a sleep (`simulated_work`).
Work = Callable[[UUID], None]


def simulated_work(seconds: float) -> Work:
    """The stand-in for real work: `seconds` of sleep (PROCESS_ORDER_SECONDS)."""

    def work(order_id: UUID) -> None:
        time.sleep(seconds)

    return work


class Outcome(StrEnum):
    PROCESSED = "processed"  # this delivery did the work and recorded it
    DUPLICATE = "duplicate"  # recorded before: no work done
    BUSY = "busy"  # another delivery holds the claim: try again when it runs out
    INVALID = "invalid"  # not an order id
    MISSING = "missing"  # no such order


@dataclass(frozen=True, slots=True)
class Result:
    outcome: Outcome
    retry_in_seconds: float = 0.0  # BUSY: when the other delivery's lease runs out


def process(
    connection: WorkerConnection,
    *,
    order_id: str,
    work: Work,
    lease_seconds: float,
    correlation_id: str | None = None,
) -> Result:
    """Claim the order, do the work and record it.

    Raises psycopg.OperationalError when PostgreSQL is unreachable (the task retries);
    whatever `work` raises propagates, the claim left to run out.
    """
    with DURATION.time():
        result = _guarded(connection, order_id, work, lease_seconds, correlation_id)
    TASKS.labels(result.outcome.value).inc()
    return result


def _guarded(
    connection: WorkerConnection,
    order_id: str,
    work: Work,
    lease_seconds: float,
    correlation_id: str | None,
) -> Result:
    try:
        order = UUID(order_id)
    except ValueError:
        log.error("process_order got an invalid order id order_id=%s", order_id)
        return Result(Outcome.INVALID)
    try:
        return _process(connection, order, work, lease_seconds, correlation_id)
    except psycopg.errors.ForeignKeyViolation:
        log.error("Order does not exist, not processed order_id=%s", order)
        return Result(Outcome.MISSING)
    except psycopg.OperationalError as exc:
        connection.reset()
        TASKS.labels("retried").inc()
        log.warning(
            "process_order cannot reach PostgreSQL, retrying order_id=%s error=%s", order, exc
        )
        raise


def _process(
    connection: WorkerConnection,
    order: UUID,
    work: Work,
    lease_seconds: float,
    correlation_id: str | None,
) -> Result:
    claim = processed.claim(
        connection.get(), order_id=order, owner=uuid4(), lease_seconds=lease_seconds
    )
    if claim.processed:
        return _duplicate(connection, order, correlation_id)
    if not claim.won:
        log.info(
            "Order being processed by another delivery, trying again in %.1f s order_id=%s",
            claim.lease_left_seconds,
            order,
        )
        return Result(Outcome.BUSY, claim.lease_left_seconds)
    if claim.taken_over:
        log.warning(
            "Order claimed again, its previous claim ran out unrecorded (a worker stopped"
            " mid-work?) order_id=%s",
            order,
        )
    work(order)
    recorded = processed.record_processed(
        connection.get(),
        order_id=order,
        event_id=uuid4(),
        processed_at=datetime.now(UTC),
        correlation_id=correlation_id,
        traceparent=current_traceparent(),  # the relay's signal continues this trace
    )
    if not recorded:
        log.warning(
            "Order was processed by another delivery meanwhile: the work outlasted its lease"
            " of %.0f s (PROCESS_ORDER_LEASE_SECONDS) order_id=%s",
            lease_seconds,
            order,
        )
        return Result(Outcome.DUPLICATE)
    log.info("Order processed order_id=%s", order)
    return Result(Outcome.PROCESSED)


def _duplicate(connection: WorkerConnection, order: UUID, correlation_id: str | None) -> Result:
    """No work: it was done. Only make sure the workflow can still learn it."""
    told = processed.tell_again(
        connection.get(),
        order_id=order,
        correlation_id=correlation_id,
        traceparent=current_traceparent(),
    )
    if told:
        log.info("Order already processed, its workflow is told again order_id=%s", order)
    else:
        log.info("Order already processed, skipping order_id=%s", order)
    return Result(Outcome.DUPLICATE)
