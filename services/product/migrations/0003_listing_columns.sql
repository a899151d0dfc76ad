-- Listing at scale (100 000 SKUs): what a search or a sort needs is kept on
-- the product row itself, maintained by every write in the same transaction,
-- so listings walk an index or scan one narrow column instead of joining
-- every SKU per product.
ALTER TABLE products ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
ALTER TABLE products ADD COLUMN min_price_cents BIGINT NOT NULL DEFAULT 0;
UPDATE products SET min_price_cents = COALESCE((SELECT MIN(v.price_cents) FROM variants v WHERE v.product_id = products.id), 0);
CREATE INDEX products_name ON products (name, id);
CREATE INDEX products_price ON products (min_price_cents, name);
CREATE INDEX products_category_name ON products (category, name);
CREATE INDEX variants_color ON variants (LOWER(color), size);
