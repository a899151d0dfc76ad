-- Listings sort by price in memory (the lowest price of each product is
-- worked out there); the column kept in step by every SKU write is unread.
ALTER TABLE products DROP COLUMN min_price_cents;
