-- depends: 0004_processed_orders
-- The correlation id of the request (or message) that wrote each event.
ALTER TABLE outbox ADD COLUMN correlation_id text;
