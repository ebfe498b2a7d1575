"""RabbitMQ queues as a test reads them: take one message off, count what waits."""

from __future__ import annotations

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from tests.support.settings import RABBITMQ_URL
from tests.support.waiting import eventually


async def take(queue_name: str) -> AbstractIncomingMessage | None:
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(queue_name)

        async def get() -> AbstractIncomingMessage | None:
            return await queue.get(no_ack=True, fail=False)

        return await eventually(get, what=f"a message on {queue_name}")


async def count(queue_name: str) -> int:
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(queue_name, passive=True)
        return queue.declaration_result.message_count or 0
