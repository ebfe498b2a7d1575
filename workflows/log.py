"""Log lines of workflow code: the order's correlation id on each, and nothing on replay.

The SDK's `workflow.logger` appends its context dictionary (workflow id, run id, type,
task queue, attempt) to every message and leaves the correlation id unset (`[-]`). This
one writes the message as it is, our lines already name the order, and binds the
request's correlation id while the record is made, as `service/logs.py` reads it. Like
the SDK's, it stays silent while a history is replayed, so a line is written once.
"""

from __future__ import annotations

import logging

from temporalio import workflow

from core import correlation

_log = logging.getLogger("workflows")


class WorkflowLog:
    def __init__(self, correlation_id: str) -> None:
        self._correlation_id = correlation_id or correlation.NONE

    def info(self, msg: str, *args: object) -> None:
        self._emit(logging.INFO, msg, args)

    def warning(self, msg: str, *args: object) -> None:
        self._emit(logging.WARNING, msg, args)

    def error(self, msg: str, *args: object) -> None:
        self._emit(logging.ERROR, msg, args)

    def _emit(self, level: int, msg: str, args: tuple[object, ...]) -> None:
        if not _log.isEnabledFor(level) or workflow.unsafe.is_replaying():
            return
        token = correlation.correlation_id.set(self._correlation_id)
        try:
            _log.log(level, msg, *args)
        finally:
            correlation.correlation_id.reset(token)
