"""The consumer's dead letters: a message it cannot read goes to `<queue>.dlq` with its
reason (header x-dlq-reason), its envelope's properties kept, and only then is the original
acked; a DLQ that cannot be reached puts the message back after a backoff."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Final

from aio_pika.abc import AbstractChannel, AbstractIncomingMessage

from core.backoff import Backoff
from messaging.envelope import resent
from messaging.failures import AMQP_FAILURES
from messaging.metrics import DELIVERIES

log = logging.getLogger(__name__)

DLQ_REASON_HEADER: Final = "x-dlq-reason"


class DeadLetters:
    def __init__(self, dlq: str, *, timeout_seconds: float, stopping: asyncio.Event) -> None:
        self._dlq = dlq
        self._timeout = timeout_seconds
        self._stopping = stopping
        self._backoff = Backoff()

    async def reject(
        self, channel: AbstractChannel, message: AbstractIncomingMessage, reason: str
    ) -> None:
        """To the DLQ with its reason; if even that fails, back on its queue after a backoff."""
        try:
            await self._dead_letter(channel, message, reason)
            self._backoff.reset()
        except AMQP_FAILURES as error:
            log.warning("dead-lettering failed message_id=%s error=%r", message.message_id, error)
            with contextlib.suppress(*AMQP_FAILURES):  # a lost channel redelivers it anyway
                await self.requeue_after(message, self._backoff.next())

    async def requeue_after(self, message: AbstractIncomingMessage, delay: float) -> None:
        """Hold the message for `delay` (less when shutting down), then put it back."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await self._stopping.wait()
        await message.nack(requeue=True)

    async def _dead_letter(
        self, channel: AbstractChannel, message: AbstractIncomingMessage, reason: str
    ) -> None:
        parked = resent(message, {**(message.headers or {}), DLQ_REASON_HEADER: reason[:500]})
        async with asyncio.timeout(self._timeout):
            await channel.default_exchange.publish(parked, routing_key=self._dlq, mandatory=True)
        await message.ack()
        DELIVERIES.labels("dead_lettered").inc()
        log.warning(
            "message dead-lettered queue=%s message_id=%s reason=%s",
            self._dlq,
            message.message_id,
            reason,
        )
