-- Portable SQL (PostgreSQL and SQLite): text ids, integer cents, BIGINT ms.
CREATE TABLE products (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    description    TEXT NOT NULL,
    category       TEXT NOT NULL,
    image          TEXT NOT NULL,
    created_at_ms  BIGINT NOT NULL,
    updated_at_ms  BIGINT NOT NULL,
    version        BIGINT NOT NULL
);
CREATE INDEX products_category ON products (category);
CREATE INDEX products_created ON products (created_at_ms);

CREATE TABLE variants (
    code         TEXT PRIMARY KEY,
    product_id   TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    size         TEXT NOT NULL CHECK (size IN ('XS', 'S', 'M', 'L', 'XL', 'XXL')),
    color        TEXT NOT NULL,
    price_cents  BIGINT NOT NULL CHECK (price_cents >= 0),
    -- the database itself refuses oversell
    stock        BIGINT NOT NULL CHECK (stock >= 0)
);
CREATE INDEX variants_product ON variants (product_id);
CREATE INDEX variants_filter ON variants (size, color, price_cents);

-- One row per order whose stock is held; `state` moves held -> released once.
CREATE TABLE reservations (
    order_id       TEXT PRIMARY KEY,
    state          TEXT NOT NULL CHECK (state IN ('held', 'released')),
    created_at_ms  BIGINT NOT NULL
);
-- What was taken, with the catalogue snapshot the order records.
CREATE TABLE reservation_lines (
    order_id          TEXT NOT NULL REFERENCES reservations (order_id) ON DELETE CASCADE,
    code              TEXT NOT NULL,
    quantity          BIGINT NOT NULL CHECK (quantity > 0),
    product_id        TEXT NOT NULL,
    product_name      TEXT NOT NULL,
    size              TEXT NOT NULL,
    color             TEXT NOT NULL,
    unit_price_cents  BIGINT NOT NULL,
    PRIMARY KEY (order_id, code)
);

CREATE TABLE seed_runs (name TEXT PRIMARY KEY, ran_at_ms BIGINT NOT NULL);
