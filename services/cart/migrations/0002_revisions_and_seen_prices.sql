-- Every change to a cart takes its revision one up; a checkout claims one
-- revision, so one cart becomes at most one order.
CREATE TABLE carts (
    user_id   TEXT PRIMARY KEY,
    revision  BIGINT NOT NULL
);
INSERT INTO carts (user_id, revision) SELECT DISTINCT user_id, 1 FROM cart_items;

-- The unit price the shopper last saw for a line; a different current price
-- is reported (old → new) before anything is charged. -1: not seen yet.
ALTER TABLE cart_items ADD COLUMN seen_price_cents BIGINT NOT NULL DEFAULT -1;
