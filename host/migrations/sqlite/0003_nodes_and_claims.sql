-- The hosts sharing this state, and who ran what. On SQLite there is normally one host; the
-- tables exist so that one code path serves both backends.

-- Every host writes a heartbeat here while it runs; the sync scheduler spreads hotels over the
-- hosts whose heartbeat is fresh.
CREATE TABLE IF NOT EXISTS nodes (
    id TEXT PRIMARY KEY,
    started_at INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL);

-- One row per (hotel, stream): the last scheduled fire some host claimed, so each fire runs
-- on exactly one host, and what came of it.
CREATE TABLE IF NOT EXISTS sync_runs (
    hotel TEXT NOT NULL,
    stream TEXT NOT NULL,
    fire_at INTEGER NOT NULL,
    node TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    outcome TEXT,
    PRIMARY KEY (hotel, stream));

-- One host at a time delivers to each webhook receiver: the holder of the cursor's lease.
ALTER TABLE webhook_cursors ADD COLUMN owner TEXT;
ALTER TABLE webhook_cursors ADD COLUMN lease_until INTEGER;
