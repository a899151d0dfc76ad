CREATE TABLE orders (
    id               TEXT PRIMARY KEY,
    user_id          TEXT NOT NULL,
    username         TEXT NOT NULL,
    -- chosen by the client; one order per (user, key)
    idempotency_key  TEXT NOT NULL,
    -- PENDING while the checkout saga runs, then the life cycle
    status           TEXT NOT NULL CHECK (status IN ('PENDING', 'PROCESSING', 'SHIPPED', 'DELIVERED', 'CANCELED')),
    total_cents      BIGINT NOT NULL CHECK (total_cents >= 0),
    -- 1 once the stock of a canceled order is back in the catalogue
    stock_released   BIGINT NOT NULL DEFAULT 0,
    created_at_ms    BIGINT NOT NULL,
    updated_at_ms    BIGINT NOT NULL,
    UNIQUE (user_id, idempotency_key)
);
CREATE INDEX orders_user_created ON orders (user_id, created_at_ms);
CREATE INDEX orders_status_created ON orders (status, created_at_ms);
CREATE INDEX orders_created ON orders (created_at_ms);

CREATE TABLE order_lines (
    order_id          TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    code              TEXT NOT NULL,
    product_id        TEXT NOT NULL,
    product_name      TEXT NOT NULL,
    size              TEXT NOT NULL,
    color             TEXT NOT NULL,
    unit_price_cents  BIGINT NOT NULL CHECK (unit_price_cents >= 0),
    quantity          BIGINT NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (order_id, code)
);
