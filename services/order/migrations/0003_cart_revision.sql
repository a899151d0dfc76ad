-- The cart revision a checkout bought: one cart revision becomes at most one
-- order, whatever idempotency keys the checkouts carry.
ALTER TABLE orders ADD COLUMN cart_revision BIGINT;
CREATE UNIQUE INDEX orders_user_cart_revision ON orders (user_id, cart_revision);
