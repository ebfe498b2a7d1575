"""Prometheus metrics of RabbitMQ: what the publisher got confirmed, what the consumer did."""

from __future__ import annotations

from prometheus_client import Counter

PUBLISHED = Counter(
    "orders_rabbitmq_published_total", "Events confirmed by RabbitMQ", ["event_type"]
)
PUBLISH_FAILURES = Counter(
    "orders_rabbitmq_publish_failures_total",
    "Publishes that failed (broker down, no confirm, nack, unroutable); the workflow retries",
    ["event_type"],
)
# outcome: acked (handed to processing), requeued (processing unreachable: held, then
# nacked back), dead_lettered (unparseable: to <queue>.dlq).
DELIVERIES = Counter(
    "orders_rabbitmq_deliveries_total", "Messages the consumer received, by outcome", ["outcome"]
)
