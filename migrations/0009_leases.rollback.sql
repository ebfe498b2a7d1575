ALTER TABLE outbox DROP COLUMN lease_owner, DROP COLUMN leased_until;
