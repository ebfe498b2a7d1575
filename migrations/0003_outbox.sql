-- depends: 0002_orders
-- The transactional outbox: written in the same transaction as the change it describes.
-- relayed_at: handed to Temporal (workflow started or signalled) by the relay.
-- published_at: confirmed by RabbitMQ (set by the workflow's publish activity).
CREATE TABLE outbox (
    seq             bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    id              uuid PRIMARY KEY,
    aggregate_id    uuid NOT NULL,
    event_type      text NOT NULL,
    payload         jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    relayed_at      timestamptz,
    published_at    timestamptz,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text
);
-- The relay's work list: rows not yet handed to Temporal, in commit order.
CREATE INDEX outbox_unrelayed_idx ON outbox (seq) WHERE relayed_at IS NULL;
-- Per-order ordering check for the relay.
CREATE INDEX outbox_unrelayed_aggregate_idx ON outbox (aggregate_id, seq) WHERE relayed_at IS NULL;
-- The backlog still to reach RabbitMQ (operations: outbox status, metrics).
CREATE INDEX outbox_unpublished_idx ON outbox (created_at)
    WHERE published_at IS NULL AND event_type <> 'order_processed';

-- Wake the relay after each commit that added outbox rows (a hint: the relay also polls).
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('outbox', '');
    RETURN NULL;
END;
$$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
