-- Portable SQL (PostgreSQL and SQLite): text ids, BIGINT milliseconds.
CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    username       TEXT NOT NULL,
    -- lower-cased username: names are unique regardless of case
    username_key   TEXT NOT NULL UNIQUE,
    email          TEXT NOT NULL UNIQUE,
    phone          TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('client', 'admin')),
    password_hash  TEXT NOT NULL,
    created_at_ms  BIGINT NOT NULL,
    updated_at_ms  BIGINT NOT NULL
);
CREATE INDEX users_role ON users (role);

CREATE TABLE sessions (
    -- SHA-256 of the bearer secret: a stolen database holds no usable token
    token_hash     TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at_ms  BIGINT NOT NULL,
    expires_at_ms  BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- One row that role changes update first, so that concurrent demotions are
-- serialised and the shop can never be left without an admin.
CREATE TABLE role_guard (id BIGINT PRIMARY KEY, changes BIGINT NOT NULL);
INSERT INTO role_guard (id, changes) VALUES (1, 0);
