-- Where each order goes and how: a copy of the address, the delivery method
-- and its price (part of total_cents). Orders placed before have none.
ALTER TABLE orders ADD COLUMN ship_name TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN ship_line1 TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN ship_line2 TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN ship_postcode TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN ship_city TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN ship_country TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN delivery TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN delivery_cents BIGINT NOT NULL DEFAULT 0;
