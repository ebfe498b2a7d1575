-- depends: 0002_orders 0008_outbox_traceparent
-- Each user's open (PENDING) orders, counted by a trigger in the transaction of every write
-- to orders, whoever writes: POST /orders/ checks MAX_PENDING_ORDERS_PER_USER against this
-- count under the user's row lock (exact under concurrent creates), never with a count(*).
LOCK TABLE orders IN SHARE ROW EXCLUSIVE MODE;

ALTER TABLE users ADD COLUMN pending_orders integer NOT NULL DEFAULT 0;

UPDATE users SET pending_orders = pending.n
FROM (SELECT user_id, count(*) AS n FROM orders WHERE status = 'PENDING' GROUP BY user_id) AS pending
WHERE users.id = pending.user_id;

CREATE FUNCTION orders_count_pending() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.status = 'PENDING' THEN
        UPDATE users SET pending_orders = pending_orders - 1 WHERE id = OLD.user_id;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.status = 'PENDING' THEN
        UPDATE users SET pending_orders = pending_orders + 1 WHERE id = NEW.user_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER orders_pending_inserted AFTER INSERT ON orders
    FOR EACH ROW WHEN (NEW.status = 'PENDING') EXECUTE FUNCTION orders_count_pending();
CREATE TRIGGER orders_pending_changed AFTER UPDATE OF status, user_id ON orders
    FOR EACH ROW
    WHEN ((OLD.status = 'PENDING' OR NEW.status = 'PENDING')
          AND (OLD.status <> NEW.status OR OLD.user_id <> NEW.user_id))
    EXECUTE FUNCTION orders_count_pending();
CREATE TRIGGER orders_pending_deleted AFTER DELETE ON orders
    FOR EACH ROW WHEN (OLD.status = 'PENDING') EXECUTE FUNCTION orders_count_pending();
