-- Readable order numbers (shown as A-10042): given when an order is placed,
-- never reused. Orders placed before this have none and keep their id.
ALTER TABLE orders ADD COLUMN number BIGINT;
CREATE UNIQUE INDEX orders_number ON orders (number);
