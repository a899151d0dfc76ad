-- Delivery addresses: each account keeps a few, one of them the default.
CREATE TABLE addresses (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    line1          TEXT NOT NULL,
    line2          TEXT NOT NULL,
    postcode       TEXT NOT NULL,
    city           TEXT NOT NULL,
    country        TEXT NOT NULL,
    is_default     BIGINT NOT NULL DEFAULT 0,
    created_at_ms  BIGINT NOT NULL
);
CREATE INDEX addresses_user ON addresses (user_id, created_at_ms);
