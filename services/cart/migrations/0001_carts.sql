CREATE TABLE cart_items (
    user_id        TEXT NOT NULL,
    code           TEXT NOT NULL,
    quantity       BIGINT NOT NULL CHECK (quantity > 0),
    added_at_ms    BIGINT NOT NULL,
    PRIMARY KEY (user_id, code)
);
CREATE INDEX cart_items_code ON cart_items (code);
