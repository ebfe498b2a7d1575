ALTER TABLE outbox DROP COLUMN correlation_id;
