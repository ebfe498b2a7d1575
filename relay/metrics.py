"""Prometheus metrics of the outbox: rows handed to Temporal, failed, parked (the relay), and
the backlog by state with the oldest waiting row's age (sampled by `relay.backlog`)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

# outcome: relayed (handed to Temporal), failed (tried again after a backoff), parked.
HANDOFFS = Counter(
    "orders_outbox_handoffs_total", "Outbox rows the relay tried to hand over", ["outcome"]
)
ROWS = Gauge("orders_outbox_rows", "Outbox rows waiting, by what they wait for", ["state"])
OLDEST = Gauge("orders_outbox_oldest_waiting_age_seconds", "Age of the oldest row not yet relayed")
