"""The Temporal SDK's metrics: its runtime's Prometheus exporter, on a loopback port.

(Celery's metrics, in prometheus_client's multiprocess mode: `service.celery_metrics`,
apart, so a Celery worker loads no Temporal bridge.)
"""

from __future__ import annotations

import socket

from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig


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
