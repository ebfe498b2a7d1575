"""Log lines carry the correlation id bound where they were written, in text and JSON."""

from __future__ import annotations

import logging

import orjson
import pytest

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


def test_celery_logs_no_line_per_task_received_or_succeeded_but_keeps_a_retry() -> None:
    from celery.app import trace

    from service.logs import quiet_celery_task_lines

    traced, strategy = (
        logging.getLogger("celery.app.trace"),
        logging.getLogger("celery.worker.strategy"),
    )
    level, filters = strategy.level, list(traced.filters)
    try:
        quiet_celery_task_lines()

        def record(msg: str) -> logging.LogRecord:
            return logging.LogRecord(traced.name, logging.INFO, __file__, 1, msg, (), None)

        assert not traced.filter(record(trace.LOG_SUCCESS))
        assert traced.filter(record(trace.LOG_RETRY))
        assert not strategy.isEnabledFor(logging.INFO)
        assert strategy.isEnabledFor(logging.WARNING)
    finally:
        strategy.setLevel(level)
        traced.filters[:] = filters


async def test_activity_lines_carry_no_sdk_context_dictionary(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from temporalio import activity
    from temporalio.testing import ActivityEnvironment

    from service.logs import plain_activity_lines

    @activity.defn
    async def publish() -> None:
        activity.logger.info("event published order_id=%s", 7)

    on_message = activity.logger.activity_info_on_message
    on_extra = activity.logger.activity_info_on_extra
    try:
        plain_activity_lines()
        with caplog.at_level(logging.INFO):
            await ActivityEnvironment().run(publish)
    finally:
        activity.logger.activity_info_on_message = on_message
        activity.logger.activity_info_on_extra = on_extra
    [line] = [r for r in caplog.records if "event published" in r.getMessage()]
    assert line.getMessage() == "event published order_id=7"
    assert not hasattr(line, "temporal_activity")
