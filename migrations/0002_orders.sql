-- depends: 0001_users
-- Orders: items as jsonb, money as numeric(12,2), status constrained to the lifecycle.
CREATE TABLE orders (
    id          uuid PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id),
    items       jsonb NOT NULL CHECK (jsonb_typeof(items) = 'array'),
    total_price numeric(12, 2) NOT NULL CHECK (total_price > 0),
    status      text NOT NULL DEFAULT 'PENDING'
                CHECK (status IN ('PENDING', 'PAID', 'SHIPPED', 'CANCELED')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    version     integer NOT NULL DEFAULT 1
);
-- A user's orders, newest first (and keyset pagination later).
CREATE INDEX orders_user_created_idx ON orders (user_id, created_at DESC, id DESC);
