-- Listing at scale (100 000 SKUs). Every write keeps these in step with the
-- product and its SKUs, in the same transaction:
--  * the lowest price, so sorting by price walks an index;
--  * a term index: the words of the name, description, category and SKU
--    codes (kind 'w', lower-case ASCII letters and digits, found by prefix
--    ranges) and the SKUs' sizes and colours (kind 'f', found by equality),
--    so searches and filters look up a few rows instead of scanning them all.
ALTER TABLE products ADD COLUMN min_price_cents BIGINT NOT NULL DEFAULT 0;
UPDATE products SET min_price_cents = COALESCE((SELECT MIN(v.price_cents) FROM variants v WHERE v.product_id = products.id), 0);
CREATE INDEX products_name ON products (name, id);
CREATE INDEX products_price ON products (min_price_cents, name);
CREATE INDEX products_category_name ON products (category, name);

CREATE TABLE product_terms (
    kind        TEXT NOT NULL CHECK (kind IN ('w', 'f')),
    term        TEXT NOT NULL,
    product_id  TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    PRIMARY KEY (kind, term, product_id)
);
-- for "does this product have that term", probed while walking a sort index
CREATE INDEX product_terms_product ON product_terms (product_id, kind, term);
