"""Handing a new order to Celery's `process_order`: the consumer's ProcessingQueue."""

from __future__ import annotations

import asyncio
import logging
from typing import Final

from celery import Celery
from kombu.exceptions import OperationalError as KombuOperationalError

from core.envelope import EventEnvelope
from processing.names import PROCESS_ORDER

log = logging.getLogger(__name__)

# kombu's own retries when Redis does not answer; the whole hand-off is bounded too.
SEND_RETRY_POLICY: Final = {
    "max_retries": 2,
    "interval_start": 0.2,
    "interval_step": 0.5,
    "interval_max": 1.0,
}
HANDOFF_TIMEOUT_SECONDS: Final = 15.0


class CeleryDispatch:
    def __init__(self, celery: Celery, *, timeout_seconds: float = HANDOFF_TIMEOUT_SECONDS) -> None:
        self._celery = celery
        self._timeout = timeout_seconds

    async def submit(self, event: EventEnvelope) -> None:
        """Queue `process_order` with the order id (the contract's) and the event's envelope
        (task id = event id); ConnectionError when Redis refuses."""

        def send() -> None:
            self._celery.send_task(
                PROCESS_ORDER,
                args=[event.aggregate_id],
                kwargs={"event": event.to_dict()},
                task_id=event.event_id,
                retry=True,
                retry_policy=SEND_RETRY_POLICY,
            )

        try:
            async with asyncio.timeout(self._timeout):
                await asyncio.to_thread(send)  # kombu is synchronous
        except KombuOperationalError as exc:
            raise ConnectionError(f"celery broker: {exc}") from exc
        # DEBUG: the Celery side logs the order's outcome; the hand-offs are counted.
        log.debug(
            "order handed to celery order_id=%s event_id=%s", event.aggregate_id, event.event_id
        )
