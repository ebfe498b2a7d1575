DROP TABLE order_processing;
ALTER TABLE outbox DROP COLUMN lease_owner, DROP COLUMN leased_until;
