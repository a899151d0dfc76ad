-- The admin dashboard's low-stock list reads the fewest-left variants first.
CREATE INDEX variants_stock ON variants (stock);
