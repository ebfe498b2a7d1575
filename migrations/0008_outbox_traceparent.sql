-- depends: 0005_outbox_correlation
-- The W3C trace context (traceparent) of the request, activity or task that wrote each
-- event, so the relay continues that trace when it hands the row to Temporal. NULL when
-- tracing is off.
ALTER TABLE outbox ADD COLUMN traceparent text;
