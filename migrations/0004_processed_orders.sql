-- depends: 0003_outbox
-- process_order's effect, recorded once per order however often the task runs.
CREATE TABLE processed_orders (
    order_id     uuid PRIMARY KEY REFERENCES orders (id),
    event_id     uuid NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);
