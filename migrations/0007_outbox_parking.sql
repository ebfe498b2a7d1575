-- depends: 0005_outbox_correlation
-- Parking: a row the relay stopped trying (it cannot be parsed, or it failed more than
-- OUTBOX_MAX_ATTEMPTS times), with the reason. A parked row is never claimed, and still
-- holds back the later rows of its own order (they stay behind it, in order); nothing else.
ALTER TABLE outbox ADD COLUMN parked_at timestamptz, ADD COLUMN parked_reason text;

-- The relay's work list: rows neither relayed nor parked, in commit order.
DROP INDEX outbox_unrelayed_idx;
CREATE INDEX outbox_relayable_idx ON outbox (seq) WHERE relayed_at IS NULL AND parked_at IS NULL;
-- Parked rows, for /ready's count and the re-drive.
CREATE INDEX outbox_parked_idx ON outbox (parked_at) WHERE parked_at IS NOT NULL;
-- Retention: relayed rows by age (the relay deletes old ones in small batches).
CREATE INDEX outbox_relayed_at_idx ON outbox (relayed_at) WHERE relayed_at IS NOT NULL;
