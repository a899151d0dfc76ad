-- Catalogue search and filters run on an in-memory index (tantivy) that
-- every product replica builds from the products and variants tables; the
-- term table they used to read is no longer kept.
DROP TABLE product_terms;
-- Listings are sorted in memory too.
DROP INDEX products_name;
DROP INDEX products_price;
DROP INDEX products_category_name;
