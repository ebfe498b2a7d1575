"""The outbox's one INSERT, which every writer's statement embeds: the orders' writes
(`store.orders`, over asyncpg) and the processed record (`store.processed`, over the
Celery task's psycopg).

A module of its own, free of any driver, so the Celery worker loads no asyncpg for it.
The rest of the outbox's SQL is in `store.outbox` (the relay's claims), `store.outbox_marks`,
`store.outbox_parked` and `store.outbox_backlog`.
"""

from __future__ import annotations

# Followed by a VALUES or SELECT of id, order id, event type, payload, time, correlation id,
# trace context (the writer's W3C traceparent, or NULL).
INSERT_INTO_OUTBOX = (
    "INSERT INTO outbox"
    " (id, aggregate_id, event_type, payload, created_at, correlation_id, traceparent)"
)
