-- Set when the order service stored the order: a held reservation without it
-- expires after the reservation TTL and its stock goes back.
ALTER TABLE reservations ADD COLUMN confirmed_at_ms BIGINT;
-- Reservations from before confirmation existed belong to stored orders.
UPDATE reservations SET confirmed_at_ms = created_at_ms WHERE state = 'held';
CREATE INDEX reservations_unconfirmed ON reservations (created_at_ms) WHERE state = 'held' AND confirmed_at_ms IS NULL;
