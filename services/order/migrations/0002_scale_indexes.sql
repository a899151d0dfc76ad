-- Listing orders newest first must walk an index in order, ties included,
-- whatever the filter: a million orders stay as quick to page as a hundred.
DROP INDEX orders_user_created;
DROP INDEX orders_status_created;
DROP INDEX orders_created;
CREATE INDEX orders_created ON orders (created_at_ms, id);
CREATE INDEX orders_user_created ON orders (user_id, created_at_ms, id);
CREATE INDEX orders_username_created ON orders (username, created_at_ms, id);
CREATE INDEX orders_status_created ON orders (status, created_at_ms, id);
-- The recovery pass looks for canceled orders whose stock is not back yet:
-- a handful among all the canceled ones.
CREATE INDEX orders_unreleased ON orders (created_at_ms) WHERE status = 'CANCELED' AND stock_released = 0;
