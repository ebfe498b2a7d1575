-- depends: 0005_outbox_correlation
-- Idempotency-Key of POST /orders/: per user, kept 24 h, written in the order's transaction.
-- fingerprint: sha256 of the request's items, so a reused key with another body is refused.
CREATE TABLE idempotency_keys (
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key         text NOT NULL CHECK (length(key) <= 255),
    fingerprint bytea NOT NULL,
    status_code smallint NOT NULL,
    body        bytea NOT NULL,
    order_id    uuid NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);
