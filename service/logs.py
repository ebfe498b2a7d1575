"""Logging, configured once by the process's main(): text for people, JSON for machines."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp.http_exceptions import HttpProcessingError

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


MAX_REASON = 200


class MalformedRequestFilter(logging.Filter):
    """aiohttp logs a request it cannot parse (a NUL in a header, a bad request line) at
    ERROR with a traceback, then answers 400: the client's fault, and a way to flood the
    log. Such a record becomes one INFO line naming the peer and the reason; every other
    record of `aiohttp.server` (a real server error) passes as it is."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if not isinstance(exc, HttpProcessingError):
            return True
        reason = " ".join(str(exc.message).split())[:MAX_REASON]  # one bounded line
        record.msg = "malformed HTTP request answered %s: %s (from %s)"
        peer = record.args[0] if isinstance(record.args, tuple) and record.args else "unknown"
        record.args = (exc.code, reason, peer)
        record.levelno, record.levelname = logging.INFO, "INFO"
        record.exc_info, record.exc_text = None, None
        return logging.getLogger(record.name).isEnabledFor(logging.INFO)


def quiet_malformed_requests() -> None:
    logging.getLogger("aiohttp.server").addFilter(MalformedRequestFilter())


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
    quiet_malformed_requests()
