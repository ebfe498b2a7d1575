DROP TRIGGER orders_pending_deleted ON orders;
DROP TRIGGER orders_pending_changed ON orders;
DROP TRIGGER orders_pending_inserted ON orders;
DROP FUNCTION orders_count_pending();
ALTER TABLE users DROP COLUMN pending_orders;
