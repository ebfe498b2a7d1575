"""The dead-letter queue, for operators: look at what is parked there, send it back, or
throw away what can never succeed.

`peek` takes messages without acknowledging them and closes the channel, so RabbitMQ puts
them back in their order. `replay` republishes each one to the exchange under its event
type (confirmed, mandatory), then acknowledges it in the DLQ: a crash in between leaves a
copy in both, and the consumer's effect-once processing makes that harmless. Each message
it sends carries the replay's own id (`x-replay-run`); the consumer dead-letters a message
with its headers, so a message of this replay met again in the DLQ came straight back (its
cause is not fixed): the replay puts it back and stops, and counts every message once
(before, `--limit 10` of one bad message reported 3 replayed). `discard` acknowledges the
chosen messages, each with one audit line (`dlq_discarded`, with the operator's reason),
and leaves the others in their order.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from core import audit
from core.events import NEW_ORDER
from messaging.deadletter import DLQ_REASON_HEADER
from messaging.envelope import resent
from messaging.topology import Topology, declare_topology, open_robust

REPLAYED_HEADER = "x-replayed"  # how many times replays sent the message back, in all
RUN_HEADER = "x-replay-run"  # the replay that sent it last


@dataclass(frozen=True, slots=True)
class DeadLetter:
    message_id: str | None
    reason: str
    body: str
    headers: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Replayed:
    sent: list[DeadLetter]  # each message sent back once, in the DLQ's order
    came_back: DeadLetter | None = None  # met again: the replay stopped there, it stays


@dataclass(frozen=True, slots=True)
class Discarded:
    discarded: list[DeadLetter]
    missing: list[str]  # message ids asked for and not found in the DLQ


def _text(value: object) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _dead_letter(message: AbstractIncomingMessage) -> DeadLetter:
    headers = dict(message.headers or {})
    return DeadLetter(
        message.message_id,
        _text(headers.get(DLQ_REASON_HEADER, "")),
        message.body.decode(errors="replace"),
        {k: _text(v) if isinstance(v, bytes) else v for k, v in headers.items()},
    )


class DeadLetters:
    def __init__(self, url: str, topology: Topology, *, timeout_seconds: float = 10.0) -> None:
        self._url = url
        self._topology = topology
        self._timeout = timeout_seconds

    async def peek(self, limit: int) -> list[DeadLetter]:
        connection = await open_robust(self._url, connect_timeout=self._timeout)
        async with connection:
            channel = await connection.channel()
            await declare_topology(channel, self._topology)
            queue = await channel.get_queue(self._topology.dlq)
            found: list[DeadLetter] = []
            while len(found) < limit:
                message = await queue.get(no_ack=False, fail=False, timeout=self._timeout)
                if message is None:
                    break
                found.append(_dead_letter(message))
            # Closing the channel returns every unacknowledged message to the queue.
        return found

    async def replay(self, limit: int) -> Replayed:
        """Send up to `limit` dead letters back to the new-order queue, each once; stop at
        one that this replay sent and that came straight back (it stays in the DLQ)."""
        run = uuid.uuid4().hex
        connection = await open_robust(self._url, connect_timeout=self._timeout)
        async with connection:
            channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
            exchange = await declare_topology(channel, self._topology)
            queue = await channel.get_queue(self._topology.dlq)
            sent: list[DeadLetter] = []
            while len(sent) < limit:
                message = await queue.get(no_ack=False, fail=False, timeout=self._timeout)
                if message is None:
                    break
                if _text((message.headers or {}).get(RUN_HEADER, "")) == run:
                    await message.nack(requeue=True)  # back at the DLQ's head
                    return Replayed(sent, _dead_letter(message))
                await self._republish(exchange, message, run)
                await message.ack()
                sent.append(_dead_letter(message))
        return Replayed(sent)

    async def discard(
        self, *, message_ids: Sequence[str] = (), every: bool = False, reason: str, by: str
    ) -> Discarded:
        """Drop the dead letters with these message ids (or `every` one) from the DLQ, each
        with an audit line naming `reason` and the operator `by`; the others stay, in their
        order. It looks at the messages the DLQ held when it began, no more."""
        wanted = set(message_ids)
        dropped: list[DeadLetter] = []
        connection = await open_robust(self._url, connect_timeout=self._timeout)
        async with connection:
            channel = await connection.channel()
            await declare_topology(channel, self._topology)
            queue = await channel.declare_queue(self._topology.dlq, passive=True)
            held = queue.declaration_result.message_count or 0
            for _ in range(held):
                message = await queue.get(no_ack=False, fail=False, timeout=self._timeout)
                if message is None:
                    break
                if not (every or message.message_id in wanted):
                    continue  # left unacknowledged: back in its place when the channel closes
                await message.ack()
                letter = _dead_letter(message)
                dropped.append(letter)
                audit.record(
                    "dlq_discarded",
                    logging.WARNING,
                    queue=self._topology.dlq,
                    message_id=letter.message_id or "-",
                    dlq_reason=letter.reason or "-",
                    reason=reason,
                    by=by,
                )
        found = {letter.message_id for letter in dropped}
        return Discarded(dropped, [m for m in message_ids if m not in found])

    async def _republish(
        self, exchange: aio_pika.abc.AbstractExchange, message: AbstractIncomingMessage, run: str
    ) -> None:
        headers = {k: v for k, v in (message.headers or {}).items() if k != DLQ_REASON_HEADER}
        times = headers.get(REPLAYED_HEADER, 0)
        headers[REPLAYED_HEADER] = (times if isinstance(times, int) else 0) + 1
        headers[RUN_HEADER] = run
        again = resent(message, headers, default_type=NEW_ORDER)
        async with asyncio.timeout(self._timeout):
            await exchange.publish(again, routing_key=NEW_ORDER, mandatory=True)
