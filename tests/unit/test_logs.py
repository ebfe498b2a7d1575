"""Log lines carry the correlation id bound where they were written, in text and JSON."""

from __future__ import annotations

import logging

import orjson

from core import correlation
from service.logs import TEXT_FORMAT, CorrelationFilter, JsonFormatter


def _record(message: str) -> logging.LogRecord:
    record = logging.LogRecord("orders.test", logging.INFO, __file__, 1, message, (), None)
    assert CorrelationFilter().filter(record)
    return record


def test_text_and_json_lines_carry_the_bound_correlation_id() -> None:
    token = correlation.correlation_id.set("req-77")
    try:
        record = _record("order created order_id=1")
    finally:
        correlation.correlation_id.reset(token)
    assert "[req-77]: order created order_id=1" in logging.Formatter(TEXT_FORMAT).format(record)
    entry = orjson.loads(JsonFormatter().format(record))
    assert entry["correlation_id"] == "req-77"
    assert entry["message"] == "order created order_id=1"
    assert entry["level"] == "INFO"


def test_outside_any_request_the_id_is_a_dash() -> None:
    assert _record("starting").correlation_id == correlation.NONE  # type: ignore[attr-defined]
