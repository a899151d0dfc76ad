-- Bumped by every change to products, variants or stock, so that a replica
-- may serve a cached catalogue listing only while nothing has changed.
CREATE TABLE catalog_version (id BIGINT PRIMARY KEY, version BIGINT NOT NULL);
INSERT INTO catalog_version (id, version) VALUES (1, 0);
