-- depends: 0007_outbox_parking 0008_outbox_traceparent 0009_pending_orders
-- Leases: work claimed in a short, committed statement and held for a bounded time, so no
-- row lock is held while the work is done, and work whose worker died is taken up again.

-- The relay's lease on an outbox row: a claim commits `leased_until` and the claim's id
-- (`lease_owner`) before the hand-off to Temporal, so nothing waits on the row while
-- Temporal answers (the publish activity's `published` mark least of all). The relay's
-- marks clear both. A lease that ran out (a relay killed mid-hand-off) makes the row
-- claimable again; a failure or parking mark applies only while its claim still holds
-- the row, so a relay whose lease ran out never overwrites a newer claim's outcome.
-- Nullable, no default: no table rewrite.
ALTER TABLE outbox ADD COLUMN leased_until timestamptz, ADD COLUMN lease_owner uuid;

-- process_order's claim on an order, taken before its work: one worker does the work
-- while the lease holds (`leased_until`, PROCESS_ORDER_LEASE_SECONDS); a lease that ran
-- out (a worker killed after claiming) lets a redelivery take over (`claims` counts the
-- takers). `done_at` is set with the processed record, in its statement: a claim never
-- takes a done order. Orders processed before this migration have no row here; the claim
-- also checks processed_orders.
CREATE TABLE order_processing (
    order_id     uuid PRIMARY KEY REFERENCES orders (id),
    lease_owner  uuid NOT NULL,
    leased_until timestamptz NOT NULL,
    claims       integer NOT NULL DEFAULT 1,
    done_at      timestamptz
);
