"""Celery's metrics: prometheus_client's multiprocess mode, served by the worker's parent
for itself and every child of a prefork pool (`orders celery`)."""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)


def serve_multiprocess_metrics(port: int, host: str = "127.0.0.1") -> None:
    """Expose the metrics of every child of this process (Celery's prefork pool) on
    `host:port` (CELERY_METRICS_HOST, loopback unless configured).

    PROMETHEUS_MULTIPROC_DIR must be set before prometheus_client is first imported.
    """
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    try:
        start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        log.warning("celery metrics not served port=%d error=%r", port, exc)
        return
    log.info("celery metrics on http://%s:%d/metrics dir=%s", host, port, _multiproc_dir())


def _multiproc_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
