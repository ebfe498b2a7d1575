DROP INDEX outbox_relayed_at_idx;
DROP INDEX outbox_parked_idx;
DROP INDEX outbox_relayable_idx;
CREATE INDEX outbox_unrelayed_idx ON outbox (seq) WHERE relayed_at IS NULL;
ALTER TABLE outbox DROP COLUMN parked_reason, DROP COLUMN parked_at;
