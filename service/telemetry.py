"""Metrics plumbing of the processes: the Temporal SDK's exporter, Celery's multiprocess mode."""

from __future__ import annotations

import logging
import os
import socket

from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

log = logging.getLogger(__name__)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def temporal_metrics_port(configured: int | None) -> int:
    """The loopback port of the Temporal SDK's exporter: configured, else a free one."""
    return free_port() if configured is None else configured


def temporal_runtime(port: int) -> Runtime:
    """A runtime whose workers export the SDK's metrics (task latencies, sticky cache, ...)."""
    metrics = PrometheusConfig(bind_address=f"127.0.0.1:{port}", durations_as_seconds=True)
    return Runtime(telemetry=TelemetryConfig(metrics=metrics))


def serve_multiprocess_metrics(port: int) -> None:
    """Expose the metrics of every child of this process (Celery's prefork pool) on `port`.

    PROMETHEUS_MULTIPROC_DIR must be set before prometheus_client is first imported.
    """
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    try:
        start_http_server(port, addr="127.0.0.1", registry=registry)
    except OSError as exc:
        log.warning("celery metrics not served port=%d error=%r", port, exc)
        return
    log.info("celery metrics on http://127.0.0.1:%d/metrics dir=%s", port, _multiproc_dir())


def _multiproc_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
