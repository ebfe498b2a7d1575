"""Prometheus metrics of `process_order`, moved in the Celery worker's child processes.

The worker process exposes them for all its children (prometheus_client's multiprocess
mode: `service.main` sets PROMETHEUS_MULTIPROC_DIR before anything imports the client).
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

# outcome: processed (the work done and recorded now), duplicate (recorded before: a
# redelivery, no work done), busy (another delivery holds the claim: retried later),
# invalid (not an order id), missing (no such order), retried (PostgreSQL unreachable).
TASKS = Counter("orders_process_order_total", "process_order runs, by outcome", ["outcome"])
DURATION = Histogram(
    "orders_process_order_duration_seconds", "Time process_order took, work included"
)
