"""What an aio-pika call raises when RabbitMQ is down, slow or refusing: the one tuple every
caller of RabbitMQ catches. A connection refused or lost is an OSError (aio-pika's connection
errors are), a broker that says no an AMQPError (a nack, an unroutable message: aiormq's
DeliveryError), no answer in time a TimeoutError."""

from __future__ import annotations

from typing import Final

import aio_pika

AMQP_FAILURES: Final[tuple[type[Exception], ...]] = (
    aio_pika.exceptions.AMQPError,
    OSError,
    TimeoutError,
)
