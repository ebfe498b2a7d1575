"""Prometheus metrics of the outbox: rows handed to Temporal, failed, parked (the relay), and
the backlog by state with the oldest waiting row's age (sampled by `relay.backlog`)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# outcome: relayed (handed to Temporal), failed (tried again after a backoff), parked.
HANDOFFS = Counter(
    "orders_outbox_handoffs_total", "Outbox rows the relay tried to hand over", ["outcome"]
)
ROWS = Gauge("orders_outbox_rows", "Outbox rows waiting, by what they wait for", ["state"])
OLDEST = Gauge("orders_outbox_oldest_waiting_age_seconds", "Age of the oldest row not yet relayed")
# relay.window: the rows the next batch claims, so the hand-offs it will have in flight.
WINDOW = Gauge("orders_outbox_relay_window", "Outbox rows the relay hands over at once")
HANDOFF_SECONDS = Histogram(
    "orders_outbox_handoff_seconds",
    "How long handing one outbox row to Temporal took (successful hand-offs)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def observe(window: int, latencies: list[float], failed: int, parked: int) -> None:
    """A batch's outcomes: the window it left, each hand-off's latency, the counts."""
    WINDOW.set(window)
    for seconds in latencies:
        HANDOFF_SECONDS.observe(seconds)
    HANDOFFS.labels("relayed").inc(len(latencies))
    HANDOFFS.labels("failed").inc(failed)
    HANDOFFS.labels("parked").inc(parked)
