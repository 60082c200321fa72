-- A write being attempted is held by one host (its node id) until its lease runs out; only an
-- expired lease lets another host (or the same one after a restart) take it back. Milliseconds
-- since the epoch, as every time in the outbox.
ALTER TABLE outbox ADD COLUMN owner TEXT;
ALTER TABLE outbox ADD COLUMN lease_until INTEGER;
CREATE INDEX IF NOT EXISTS outbox_leases ON outbox (state, lease_until);
