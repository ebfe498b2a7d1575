"""The correlation id: one id per request that follows the order everywhere it goes.

The API takes it from `X-Request-ID` (or makes one); it is stored with each outbox row,
travels in the workflow's inputs, as the AMQP `correlation_id` of each message and as an
argument of `process_order`, and every log line written on the order's behalf carries it.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

NONE = "-"
MAX_LENGTH = 128
_VALID = re.compile(rf"[A-Za-z0-9._:-]{{1,{MAX_LENGTH}}}")

correlation_id: ContextVar[str] = ContextVar("correlation_id", default=NONE)


def new_id() -> str:
    return uuid.uuid4().hex


def accept(candidate: str | None) -> str:
    """`candidate` when it is a sane id (a client's or a proxy's); a new id otherwise."""
    if candidate and len(candidate) <= MAX_LENGTH and _VALID.fullmatch(candidate):
        return candidate
    return new_id()


def current() -> str | None:
    """The id bound to this task, or None outside any request or message."""
    value = correlation_id.get()
    return None if value == NONE else value
