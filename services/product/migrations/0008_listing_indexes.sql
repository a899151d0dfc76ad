-- A listing reads the live stock of its page's SKUs by product: with the
-- code and stock in the product index that read never visits the table
-- (on a 100 000-SKU shop, one B-tree walk per product instead of one per
-- SKU more). Filters run in memory, so the size/colour/price index only
-- cost every SKU write. The new index is built before the old ones go: a
-- drop locks the table until the migration commits, which is then at once.
CREATE INDEX variants_product_stock ON variants (product_id, code, stock);
DROP INDEX variants_product;
DROP INDEX variants_filter;
