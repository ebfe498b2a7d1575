"""Logging, configured once by the process's main(): text for people, JSON for machines."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

from core import correlation

_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s]: %(message)s"


class CorrelationFilter(logging.Filter):
    """Stamps each record with the correlation id bound where it was logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = correlation.correlation_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def plain_activity_lines() -> None:
    """Activity log lines as written, as workflow lines are (workflows/log.py): the SDK's
    `activity.logger` appends its context dictionary (activity and workflow ids, type,
    attempt, namespace, task queue) to every message and puts it in the record's extras;
    our lines name the order already. Called where the worker is built."""
    from temporalio import activity

    activity.logger.activity_info_on_message = False
    activity.logger.activity_info_on_extra = False


def quiet_celery_task_lines() -> None:
    """No line from Celery for each task received or succeeded: `processing.order` logs
    the order's outcome with its id (and the task's duration is a metric); a retry, a
    failure and a rejection are still logged. Called before the worker builds its tasks
    (Celery reads the levels once, then)."""
    from celery.app import trace

    logging.getLogger("celery.worker.strategy").setLevel(logging.WARNING)
    logging.getLogger("celery.app.trace").addFilter(_NotSucceeded(trace.LOG_SUCCESS))


class _NotSucceeded(logging.Filter):
    def __init__(self, success_format: str) -> None:
        super().__init__()
        self._success = success_format

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg is not self._success


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    handler.addFilter(CorrelationFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # The access log is one line per request: useful, but not at INFO in a benchmark.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
